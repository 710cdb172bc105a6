//! Schedule maths of an agent's day, with no clock of its own (time is always a parameter).
//!
//! - A [`WorkingWindow`] is a Monday→Sunday mask, a local start and stop, and a time zone (a
//!   fixed offset in hours, or an IANA name, DST-aware). A window whose stop is not after its
//!   start runs past midnight and belongs to the day it starts on.
//! - Local times that do not exist (the spring-forward gap) move forward to the first instant
//!   that does; ambiguous ones (fall back) take the earlier instant.
//! - Daily targets are drawn inside `min..=max` from a uniform `unit` in `[0, 1)` supplied by the
//!   caller, so simulations with a seed repeat exactly.
//! - Actions are spread over what is left of the window: the gap to the next action is the
//!   remaining time divided by the remaining actions, randomised between half and one and a half
//!   times that, and never below the minimum spacing.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use std::str::FromStr;

use crate::agent::{WorkingHours, is_valid_days_mask, parse_clock_time};

/// Smallest and largest whole-hour UTC offsets.
pub const OFFSET_HOURS: (i32, i32) = (-12, 14);
/// Default minimum spacing between two actions of one agent.
pub const DEFAULT_MIN_SPACING: Duration = Duration::minutes(2);
/// How far ahead [`WorkingWindow::next_open`] looks before giving up (a week covers every mask).
const SEARCH_DAYS: i64 = 8;
const MINUTES_PER_DAY: u32 = 24 * 60;
const SECONDS_PER_HOUR: i32 = 3600;

/// Where an agent's working hours are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset from UTC, in whole hours.
    Offset(i32),
    /// An IANA time zone, DST-aware.
    Named(Tz),
}

impl Zone {
    /// An IANA name (`Europe/Paris`) or `None`.
    pub fn named(name: &str) -> Option<Zone> {
        Tz::from_str(name).ok().map(Zone::Named)
    }

    /// The offset in whole hours at `instant` (rounded toward zero), as the API shows it.
    pub fn offset_hours_at(self, instant: DateTime<Utc>) -> i32 {
        match self {
            Zone::Offset(hours) => hours,
            Zone::Named(tz) => {
                use chrono::Offset;
                tz.offset_from_utc_datetime(&instant.naive_utc())
                    .fix()
                    .local_minus_utc()
                    / SECONDS_PER_HOUR
            }
        }
    }

    /// The local wall-clock time of `instant`.
    pub fn local(self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Offset(hours) => instant.naive_utc() + Duration::hours(i64::from(hours)),
            Zone::Named(tz) => tz.from_utc_datetime(&instant.naive_utc()).naive_local(),
        }
    }

    /// The instant of a local wall-clock time (gaps move forward, overlaps take the earlier).
    pub fn instant(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Offset(hours) => {
                Utc.from_utc_datetime(&(local - Duration::hours(i64::from(hours))))
            }
            Zone::Named(tz) => resolve_local(tz, local),
        }
    }
}

fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    // A DST gap is at most a few hours; step forward a minute at a time until the time exists.
    for _ in 0..(4 * 60) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// An agent's working hours, ready for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingWindow {
    /// Monday first.
    pub days: [bool; 7],
    /// Minutes after local midnight.
    pub start: u32,
    pub stop: u32,
    pub zone: Zone,
}

/// The working hours could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid working hours: {0}")]
pub struct BadWindow(String);

impl WorkingWindow {
    /// The window of stored working hours; `zone_name` (an IANA name) wins over the offset.
    pub fn from_hours(hours: &WorkingHours, zone_name: Option<&str>) -> Result<Self, BadWindow> {
        if !is_valid_days_mask(&hours.days) {
            return Err(BadWindow(format!("days `{}`", hours.days)));
        }
        let mut days = [false; 7];
        for (slot, flag) in days.iter_mut().zip(hours.days.split(':')) {
            *slot = flag == "1";
        }
        let start = parse_clock_time(&hours.start)
            .ok_or_else(|| BadWindow(format!("start `{}`", hours.start)))?;
        let stop = parse_clock_time(&hours.stop)
            .ok_or_else(|| BadWindow(format!("stop `{}`", hours.stop)))?;
        let zone = match zone_name {
            Some(name) => {
                Zone::named(name).ok_or_else(|| BadWindow(format!("time zone `{name}`")))?
            }
            None => Zone::Offset(hours.timezone),
        };
        Ok(Self {
            days,
            start: u32::from(start),
            stop: u32::from(stop),
            zone,
        })
    }

    /// Minutes the window lasts (a window past midnight wraps; equal start and stop = 24 h).
    fn length_minutes(&self) -> u32 {
        if self.stop > self.start {
            self.stop - self.start
        } else {
            MINUTES_PER_DAY - self.start + self.stop
        }
    }

    /// The window opening on local `date`, as UTC instants, if `date` is a working day.
    pub fn on(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let weekday = usize::try_from(date.weekday().num_days_from_monday()).ok()?;
        if !self.days[weekday] {
            return None;
        }
        let start_local = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(self.start));
        let stop_local = start_local + Duration::minutes(i64::from(self.length_minutes()));
        Some((
            self.zone.instant(start_local),
            self.zone.instant(stop_local),
        ))
    }

    /// Whether `instant` is inside a working window.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.current(instant).is_some()
    }

    /// The window `instant` is in, if any.
    pub fn current(&self, instant: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let today = self.zone.local(instant).date();
        // A window past midnight may have opened yesterday.
        [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .filter_map(|date| self.on(date))
            .find(|(open, close)| *open <= instant && instant < *close)
    }

    /// The current window if `instant` is inside one, else the next one to open.
    pub fn next_open(&self, instant: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if let Some(window) = self.current(instant) {
            return Some(window);
        }
        let today = self.zone.local(instant).date();
        (0..SEARCH_DAYS)
            .filter_map(|offset| today.checked_add_signed(Duration::days(offset)))
            .filter_map(|date| self.on(date))
            .find(|(open, _)| *open >= instant)
    }

    /// The local calendar day of `instant` (daily counters reset at local midnight).
    pub fn local_day(&self, instant: DateTime<Utc>) -> NaiveDate {
        self.zone.local(instant).date()
    }
}

/// A daily target inside `min..=max` for a uniform `unit` in `[0, 1)`.
pub fn draw_target(min: i64, max: i64, unit: f64) -> i64 {
    if max <= min {
        return min;
    }
    let span = max - min + 1;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "small spans"
    )]
    let step = (unit.clamp(0.0, 0.999_999) * span as f64).floor() as i64;
    min + step.min(span - 1)
}

/// When the next of `remaining` actions should happen, given the window closes at `close`.
/// `None` when nothing is left or the window has closed.
pub fn next_action_at(
    now: DateTime<Utc>,
    close: DateTime<Utc>,
    remaining: i64,
    min_spacing: Duration,
    unit: f64,
) -> Option<DateTime<Utc>> {
    if remaining <= 0 || now >= close {
        return None;
    }
    let left = close - now;
    let mean_ms = left.num_milliseconds() / remaining;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "durations in ms"
    )]
    let gap_ms = (mean_ms as f64 * (0.5 + unit.clamp(0.0, 1.0))) as i64;
    let gap = Duration::milliseconds(gap_ms).max(min_spacing);
    let at = now + gap;
    (at < close).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(days: &str, start: &str, stop: &str, timezone: i32) -> WorkingHours {
        WorkingHours {
            days: days.into(),
            start: start.into(),
            stop: stop.into(),
            timezone,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekday_window_with_a_fixed_offset() {
        let w =
            WorkingWindow::from_hours(&hours("1:1:1:1:1:0:0", "09:00", "18:00", 2), None).unwrap();
        // 2026-06-01 is a Monday. 09:00 at +2 is 07:00 UTC.
        assert!(!w.contains(utc("2026-06-01T06:59:00Z")));
        assert!(w.contains(utc("2026-06-01T07:00:00Z")));
        assert!(w.contains(utc("2026-06-01T15:59:00Z")));
        assert!(!w.contains(utc("2026-06-01T16:00:00Z")));
        // Saturday is off; the next window is Monday.
        let (open, close) = w.next_open(utc("2026-06-06T10:00:00Z")).unwrap();
        assert_eq!(open, utc("2026-06-08T07:00:00Z"));
        assert_eq!(close, utc("2026-06-08T16:00:00Z"));
    }

    #[test]
    fn windows_past_midnight_belong_to_their_start_day() {
        let w =
            WorkingWindow::from_hours(&hours("1:0:0:0:0:0:0", "22:00", "02:00", 0), None).unwrap();
        assert!(w.contains(utc("2026-06-01T23:00:00Z")));
        assert!(
            w.contains(utc("2026-06-02T01:30:00Z")),
            "Tuesday 01:30 is Monday's window"
        );
        assert!(!w.contains(utc("2026-06-02T02:00:00Z")));
        assert!(!w.contains(utc("2026-06-02T23:00:00Z")), "Tuesday is off");
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let hours = hours("1:1:1:1:1:1:1", "09:00", "17:00", 0);
        let paris = WorkingWindow::from_hours(&hours, Some("Europe/Paris")).unwrap();
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            paris
                .on(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap())
                .unwrap()
                .0,
            utc("2026-01-15T08:00:00Z")
        );
        assert_eq!(
            paris
                .on(NaiveDate::from_ymd_opt(2026, 7, 15).unwrap())
                .unwrap()
                .0,
            utc("2026-07-15T07:00:00Z")
        );
        // The day of the change (2026-03-29) opens at 09:00 local = 07:00 UTC.
        assert_eq!(
            paris
                .on(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap())
                .unwrap()
                .0,
            utc("2026-03-29T07:00:00Z")
        );
        assert_eq!(paris.zone.offset_hours_at(utc("2026-07-15T12:00:00Z")), 2);
        assert!(WorkingWindow::from_hours(&hours, Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn a_start_inside_the_spring_gap_moves_forward() {
        // New York skips 02:00–03:00 on 2026-03-08.
        let w = WorkingWindow::from_hours(
            &hours("1:1:1:1:1:1:1", "02:30", "05:00", 0),
            Some("America/New_York"),
        )
        .unwrap();
        let (open, close) = w.on(NaiveDate::from_ymd_opt(2026, 3, 8).unwrap()).unwrap();
        assert_eq!(open, utc("2026-03-08T07:00:00Z"), "03:00 EDT");
        assert_eq!(close, utc("2026-03-08T09:00:00Z"));
    }

    #[test]
    fn local_day_changes_at_local_midnight() {
        let w =
            WorkingWindow::from_hours(&hours("1:1:1:1:1:1:1", "09:00", "17:00", -5), None).unwrap();
        assert_eq!(
            w.local_day(utc("2026-06-02T04:59:00Z")),
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
        );
        assert_eq!(
            w.local_day(utc("2026-06-02T05:00:00Z")),
            NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()
        );
    }

    #[test]
    fn targets_cover_the_range_uniformly() {
        assert_eq!(draw_target(10, 20, 0.0), 10);
        assert_eq!(draw_target(10, 20, 0.999_999), 20);
        assert_eq!(draw_target(7, 7, 0.5), 7);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1000 {
            seen.insert(draw_target(1, 5, f64::from(i) / 1000.0));
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn actions_are_spread_and_spaced() {
        let now = utc("2026-06-01T09:00:00Z");
        let close = utc("2026-06-01T17:00:00Z");
        // 8 hours for 8 actions: the mean gap is an hour, randomised 30–90 minutes.
        let early = next_action_at(now, close, 8, DEFAULT_MIN_SPACING, 0.0).unwrap();
        let late = next_action_at(now, close, 8, DEFAULT_MIN_SPACING, 1.0).unwrap();
        assert_eq!(early - now, Duration::minutes(30));
        assert_eq!(late - now, Duration::minutes(90));
        // Many actions: never closer than the minimum spacing.
        let dense = next_action_at(now, close, 10_000, DEFAULT_MIN_SPACING, 0.0).unwrap();
        assert_eq!(dense - now, DEFAULT_MIN_SPACING);
        assert_eq!(
            next_action_at(now, close, 0, DEFAULT_MIN_SPACING, 0.5),
            None
        );
        assert_eq!(
            next_action_at(close, close, 3, DEFAULT_MIN_SPACING, 0.5),
            None
        );
    }
}
