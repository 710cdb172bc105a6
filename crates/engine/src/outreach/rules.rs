//! The timing rules of the outreach engine, as pure functions of time and random units.
//!
//! Rules:
//! - an agent's usage belongs to its LOCAL day; a new day draws new targets inside the agent's
//!   ranges (`draw_target`), and the counters start from zero;
//! - a slot acts only inside a working window, below the day's target, below the weekly
//!   invitation cap, and at least the minimum spacing after the previous action of its kind;
//!   after an action the next one is spread over what is left of the window
//!   (`next_action_at`); outside the window a slot wakes a little after the next opening;
//! - a waiting invitation is checked with a growing interval (half its age, within
//!   [`CHECK_INVITATION`]) and given up after [`INVITATION_PATIENCE`]; a conversation is watched
//!   for replies with an interval as long as its quiet time (within [`CHECK_REPLIES`]) while a
//!   follow-up is planned or until [`REPLY_PATIENCE`] after its last activity; checks happen in
//!   the agent's working hours only (what they find is acted on then anyway);
//! - retries back off exponentially from [`RETRY_BASE`] up to [`RETRY_MAX`].

use chrono::{DateTime, Duration, NaiveTime, Utc};
use outbound_core::schedule::{WorkingWindow, draw_target, next_action_at};
use outbound_core::time::Millis;

pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;
/// The weekly invitation cap counts the invitations of the last seven days.
pub const WEEK: Millis = 7 * DAY;
/// First and longest interval between two checks of a waiting invitation.
pub const CHECK_INVITATION: (Millis, Millis) = (2 * HOUR, 48 * HOUR);
/// A waiting invitation is no longer checked after this long.
pub const INVITATION_PATIENCE: Millis = 21 * DAY;
/// First and longest interval between two looks for replies.
pub const CHECK_REPLIES: (Millis, Millis) = (HOUR, 24 * HOUR);
/// A conversation without planned follow-up is no longer watched this long after its last
/// activity.
pub const REPLY_PATIENCE: Millis = 14 * DAY;
/// First retry delay of a failed task, doubled per attempt.
pub const RETRY_BASE: Millis = MINUTE;
/// Longest retry delay.
pub const RETRY_MAX: Millis = HOUR;
/// A slot outside its window wakes up at most this long after the window opens.
pub const OPENING_JITTER: Millis = 10 * MINUTE;
/// A task whose agent is not running (paused, logging in) looks again after this long.
pub const IDLE_RECHECK: Millis = HOUR;

/// The local day of `now` as the engine keeps it: its date and the instant it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDay {
    pub date: chrono::NaiveDate,
    pub ends_at: Millis,
}

pub fn instant(millis: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(millis).unwrap_or_default()
}

/// The local day of `now` in `window`'s zone.
pub fn local_day(window: &WorkingWindow, now: Millis) -> LocalDay {
    let date = window.local_day(instant(now));
    let next = date.succ_opt().unwrap_or(date);
    let ends_at = window
        .zone
        .instant(next.and_time(NaiveTime::MIN))
        .timestamp_millis();
    LocalDay { date, ends_at }
}

/// Today's targets for ranges `(min, max)` and two uniform units.
pub fn targets(invitations: (i64, i64), messages: (i64, i64), units: (f64, f64)) -> (i64, i64) {
    (
        draw_target(invitations.0, invitations.1, units.0),
        draw_target(messages.0, messages.1, units.1),
    )
}

/// When a slot outside its window should wake: a little after the next opening at or after
/// `from` (`None`: the window never opens).
pub fn wake_at_opening(window: &WorkingWindow, from: Millis, unit: f64) -> Option<Millis> {
    let (open, close) = window.next_open(instant(from))?;
    let open = open.timestamp_millis().max(from);
    let length = close.timestamp_millis() - open;
    let jitter = scale(OPENING_JITTER.min(length / 2).max(0), unit);
    Some(open + jitter)
}

/// When the next action of a slot should be, right after one at `now` with `remaining`
/// actions left today in the window closing at `close`; past the window (or with nothing
/// left), a little after the first opening of the next local day.
pub fn next_slot(
    window: &WorkingWindow,
    now: Millis,
    close: Millis,
    remaining: i64,
    day_ends_at: Millis,
    min_spacing: Millis,
    units: (f64, f64),
) -> Option<Millis> {
    if remaining > 0 {
        let spread = next_action_at(
            instant(now),
            instant(close),
            remaining,
            Duration::milliseconds(min_spacing),
            units.0,
        );
        if let Some(at) = spread {
            return Some(at.timestamp_millis());
        }
        return wake_at_opening(window, close.max(now + 1), units.1);
    }
    wake_at_opening(window, day_ends_at.max(now + 1), units.1)
}

/// When to look at a waiting invitation again, or `None` to give up.
pub fn next_invitation_check(invited_at: Millis, now: Millis) -> Option<Millis> {
    let age = now - invited_at;
    if age >= INVITATION_PATIENCE {
        return None;
    }
    Some(now + (age / 2).clamp(CHECK_INVITATION.0, CHECK_INVITATION.1))
}

/// When to look for replies again, or `None` to stop watching: `last_activity` is the latest
/// message either way; a planned follow-up keeps the watch going.
pub fn next_reply_check(
    last_activity: Millis,
    now: Millis,
    followup_planned: bool,
) -> Option<Millis> {
    let quiet = now - last_activity;
    if quiet >= REPLY_PATIENCE && !followup_planned {
        return None;
    }
    Some(now + quiet.clamp(CHECK_REPLIES.0, CHECK_REPLIES.1))
}

/// The delay before attempt `attempts + 1` of a failed task.
pub fn retry_delay(attempts: i64) -> Millis {
    let doublings = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    RETRY_BASE.saturating_mul(1 << doublings).min(RETRY_MAX)
}

/// A duration inside `range` for a uniform `unit`.
pub fn pick(range: (Millis, Millis), unit: f64) -> Millis {
    range.0 + scale((range.1 - range.0).max(0), unit)
}

/// `span × unit`, rounded down.
fn scale(span: Millis, unit: f64) -> Millis {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        reason = "durations in ms"
    )]
    let scaled = (span as f64 * unit.clamp(0.0, 1.0)) as Millis;
    scaled.min(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::agent::WorkingHours;

    fn window(days: &str, start: &str, stop: &str, zone: Option<&str>) -> WorkingWindow {
        let hours = WorkingHours {
            days: days.into(),
            start: start.into(),
            stop: stop.into(),
            timezone: 0,
        };
        WorkingWindow::from_hours(&hours, zone).unwrap()
    }

    fn at(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn the_local_day_ends_at_local_midnight() {
        let paris = window("1:1:1:1:1:1:1", "09:00", "17:00", Some("Europe/Paris"));
        let day = local_day(&paris, at("2026-06-01T21:59:00Z"));
        assert_eq!(day.date.to_string(), "2026-06-01");
        assert_eq!(day.ends_at, at("2026-06-01T22:00:00Z"));
        assert_eq!(
            local_day(&paris, at("2026-06-01T22:00:00Z"))
                .date
                .to_string(),
            "2026-06-02"
        );
    }

    #[test]
    fn a_closed_slot_wakes_shortly_after_the_opening() {
        let w = window("1:1:1:1:1:0:0", "09:00", "18:00", None);
        // Saturday 2026-06-06: the next window is Monday.
        let wake = wake_at_opening(&w, at("2026-06-06T12:00:00Z"), 0.5).unwrap();
        assert_eq!(wake, at("2026-06-08T09:05:00Z"));
        assert!(w.contains(instant(wake)));
    }

    #[test]
    fn next_slots_stay_inside_windows() {
        let w = window("1:1:1:1:1:0:0", "09:00", "18:00", None);
        let now = at("2026-06-01T10:00:00Z");
        let close = at("2026-06-01T18:00:00Z");
        let day_end = at("2026-06-02T00:00:00Z");
        // 8 actions in 8 hours: about an hour apart.
        let next = next_slot(&w, now, close, 8, day_end, 2 * MINUTE, (0.5, 0.5)).unwrap();
        assert_eq!(next, at("2026-06-01T11:00:00Z"));
        // Nothing left today: tomorrow's window.
        let next = next_slot(&w, now, close, 0, day_end, 2 * MINUTE, (0.5, 0.0)).unwrap();
        assert_eq!(next, at("2026-06-02T09:00:00Z"));
        // Too close to the end of the window: the next opening.
        let late = at("2026-06-01T17:59:00Z");
        let next = next_slot(&w, late, close, 5, day_end, 2 * MINUTE, (0.5, 0.0)).unwrap();
        assert_eq!(next, at("2026-06-02T09:00:00Z"));
    }

    #[test]
    fn invitations_are_checked_less_and_less_then_given_up() {
        let sent = at("2026-06-01T10:00:00Z");
        assert_eq!(next_invitation_check(sent, sent), Some(sent + 2 * HOUR));
        let later = sent + 10 * DAY;
        assert_eq!(next_invitation_check(sent, later), Some(later + 48 * HOUR));
        assert_eq!(
            next_invitation_check(sent, sent + INVITATION_PATIENCE),
            None
        );
    }

    #[test]
    fn replies_are_watched_while_a_follow_up_is_planned() {
        let last = at("2026-06-01T10:00:00Z");
        assert_eq!(next_reply_check(last, last, false), Some(last + HOUR));
        assert_eq!(
            next_reply_check(last, last + 3 * HOUR, false),
            Some(last + 6 * HOUR)
        );
        let quiet = last + REPLY_PATIENCE;
        assert_eq!(next_reply_check(last, quiet, false), None);
        assert_eq!(next_reply_check(last, quiet, true), Some(quiet + DAY));
    }

    #[test]
    fn retries_back_off_to_a_cap() {
        assert_eq!(retry_delay(0), MINUTE);
        assert_eq!(retry_delay(3), 8 * MINUTE);
        assert_eq!(retry_delay(40), HOUR);
        assert_eq!(pick((MINUTE, 8 * MINUTE), 0.0), MINUTE);
        assert_eq!(pick((MINUTE, 8 * MINUTE), 1.0), 8 * MINUTE);
    }

    #[test]
    fn targets_follow_the_ranges() {
        assert_eq!(targets((10, 20), (30, 60), (0.0, 0.999_999)), (10, 60));
    }
}
