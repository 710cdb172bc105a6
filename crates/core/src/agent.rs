//! Agents (LinkedIn accounts): their status machine, schedule settings and alerts.
//!
//! Every status change of an agent goes through [`AgentStatus::apply`]; a transition that is not
//! in its table is refused with the agent's current status, which the API turns into
//! 400 `invalid_status` with `currentStatus`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

use crate::validation::Problems;

/// Where an agent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Created, no LinkedIn credentials yet.
    SetupNeeded,
    /// LinkedIn asks for something (a verification code, new credentials).
    AuthNeeded,
    /// Credentials given, login under way.
    AuthInProgress,
    /// Logged in and working.
    Running,
    /// Stopped by the user.
    Paused,
    /// Stopped by us or by LinkedIn (restricted account); needs a relaunch.
    Disabled,
    /// Retired; may be relaunched or deleted.
    Ended,
}

/// Something that happens to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentEvent {
    /// `POST /agents/{id}/setup`: credentials given.
    Setup,
    /// The connector logged in.
    LoginSucceeded,
    /// The connector needs a verification code or new credentials.
    LoginNeedsAction,
    /// `POST /agents/{id}/pause`.
    Pause,
    /// `POST /agents/{id}/resume`.
    Resume,
    /// The account can no longer be used.
    Disable,
    /// The account is retired.
    End,
    /// `POST /agents/{id}/relaunch`: back to a fresh slot.
    Relaunch,
}

/// The transition is not allowed from the agent's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("agent status `{current}` does not allow this action")]
pub struct InvalidTransition {
    pub current: AgentStatus,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 7] = [
        AgentStatus::SetupNeeded,
        AgentStatus::AuthNeeded,
        AgentStatus::AuthInProgress,
        AgentStatus::Running,
        AgentStatus::Paused,
        AgentStatus::Disabled,
        AgentStatus::Ended,
    ];

    /// The status after `event`, or the refusal. Pausing a paused agent and resuming a running
    /// one are allowed no-ops, so that clients may retry.
    pub fn apply(self, event: AgentEvent) -> Result<AgentStatus, InvalidTransition> {
        use AgentEvent as E;
        use AgentStatus as S;
        let next = match (self, event) {
            (S::SetupNeeded | S::AuthNeeded | S::AuthInProgress, E::Setup) => S::AuthInProgress,
            (S::AuthInProgress, E::LoginSucceeded) => S::Running,
            (S::AuthInProgress | S::AuthNeeded | S::Running | S::Paused, E::LoginNeedsAction) => {
                S::AuthNeeded
            }
            (S::Running | S::Paused, E::Pause) => S::Paused,
            (S::Paused | S::Running, E::Resume) => S::Running,
            (S::Ended, E::Disable) => return Err(InvalidTransition { current: self }),
            (_, E::Disable) => S::Disabled,
            (_, E::End) => S::Ended,
            (S::Ended | S::Disabled, E::Relaunch) => S::SetupNeeded,
            _ => return Err(InvalidTransition { current: self }),
        };
        Ok(next)
    }

    /// Whether the agent may be deleted: not while it works or logs in.
    pub fn allows_delete(self) -> Result<(), InvalidTransition> {
        match self {
            AgentStatus::Running | AgentStatus::AuthInProgress => {
                Err(InvalidTransition { current: self })
            }
            _ => Ok(()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::SetupNeeded => "setup_needed",
            AgentStatus::AuthNeeded => "auth_needed",
            AgentStatus::AuthInProgress => "auth_in_progress",
            AgentStatus::Running => "running",
            AgentStatus::Paused => "paused",
            AgentStatus::Disabled => "disabled",
            AgentStatus::Ended => "ended",
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored value was not a status.
#[derive(Debug, thiserror::Error)]
#[error("unknown agent status `{0}`")]
pub struct UnknownAgentStatus(String);

impl FromStr for AgentStatus {
    type Err = UnknownAgentStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownAgentStatus(s.to_owned()))
    }
}

/// Why an agent action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    /// Resuming needs the alerts cleared first (new credentials, a verification code).
    #[error("the agent has active alerts")]
    HasAlerts,
}

/// The status after `event` for an agent with `alerts`: [`AgentStatus::apply`], except that an
/// agent with alerts cannot be resumed.
pub fn next_status(
    status: AgentStatus,
    alerts: &[Alert],
    event: AgentEvent,
) -> Result<AgentStatus, Refusal> {
    if event == AgentEvent::Resume && alerts.iter().any(|a| !a.is_cleared_by_resume()) {
        return Err(Refusal::HasAlerts);
    }
    Ok(status.apply(event)?)
}

/// Alert type of the circuit breaker: the agent stopped itself to protect the LinkedIn account
/// (a restriction, a security check, repeated rate limits); a person's resume acknowledges it.
pub const SAFETY_ALERT: &str = "safety";

impl Alert {
    /// Whether resuming the agent acknowledges (and clears) this alert.
    pub fn is_cleared_by_resume(&self) -> bool {
        self.kind == SAFETY_ALERT
    }
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Something the user must act on before the agent can run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(rename = "type")]
    pub kind: String,
    pub sub_type: String,
    pub message: String,
    pub severity: Severity,
}

/// `type` of every alert about the LinkedIn login.
pub const AUTH_ALERT: &str = "auth";

impl Alert {
    /// An alert about the LinkedIn login.
    pub fn auth(sub_type: &str, message: &str, severity: Severity) -> Alert {
        Alert {
            kind: AUTH_ALERT.to_owned(),
            sub_type: sub_type.to_owned(),
            message: message.to_owned(),
            severity,
        }
    }

    /// The LinkedIn session ended: the agent must be set up again.
    pub fn session_expired() -> Alert {
        Alert::auth(
            "session_expired",
            "The LinkedIn session expired: set the agent up again",
            Severity::Error,
        )
    }
}

/// When an agent works: a Monday→Sunday mask, a daily window and a UTC offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkingHours {
    /// `"1:1:1:1:1:0:0"`, Monday first.
    pub days: String,
    /// `"HH:MM"`, 24-hour.
    pub start: String,
    /// `"HH:MM"`, 24-hour.
    pub stop: String,
    /// Offset from UTC in whole hours.
    pub timezone: i32,
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            days: "1:1:1:1:1:0:0".to_owned(),
            start: "09:00".to_owned(),
            stop: "18:00".to_owned(),
            timezone: 0,
        }
    }
}

/// Whether `days` is seven `0`/`1` flags joined by `:` with at least one `1`.
pub fn is_valid_days_mask(days: &str) -> bool {
    let flags: Vec<&str> = days.split(':').collect();
    flags.len() == 7 && flags.iter().all(|f| *f == "0" || *f == "1") && flags.contains(&"1")
}

/// Minutes after midnight of a 24-hour `H:MM` / `HH:MM` time, or `None`.
pub fn parse_clock_time(value: &str) -> Option<u16> {
    let (hours, minutes) = value.split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    if !hours
        .bytes()
        .chain(minutes.bytes())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    (hours <= 23 && minutes <= 59).then_some(hours * 60 + minutes)
}

/// Daily invitation and message ranges; the engine draws each day's target inside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub invitations_min: i64,
    pub invitations_max: i64,
    pub messages_min: i64,
    pub messages_max: i64,
}

/// The warm-up of a new agent, from Kakiyo's own guidance: `(last day, invitations range)`;
/// day 1 is the agent's first working day. After the last entry, the configured range applies.
pub const WARMUP_SCHEDULE: [(u32, (i64, i64)); 2] = [(3, (15, 20)), (7, (25, 30))];
/// Most invitations a day of an agent with warm-up on, after the ramp too.
pub const WARMUP_DAILY_CEILING: i64 = 40;
/// Invitations per rolling 30 days of an agent, by default.
pub const DEFAULT_MONTHLY_INVITATION_CAP: i64 = 800;

/// The invitation range of warm-up day `day` (1-based) for an agent configured with
/// `configured`: the schedule's range while it lasts (never above the configured maximum), then
/// the configured range, never above [`WARMUP_DAILY_CEILING`].
pub fn warmup_range(day: u32, configured: (i64, i64)) -> (i64, i64) {
    let (min, max) = WARMUP_SCHEDULE
        .iter()
        .find(|(last, _)| day <= *last)
        .map_or(configured, |(_, range)| *range);
    let ceiling = configured.1.clamp(1, WARMUP_DAILY_CEILING);
    (min.min(ceiling), max.min(ceiling))
}

/// Bounds of the daily ranges, as Kakiyo documents them.
pub const INVITATIONS_MIN_RANGE: (i64, i64) = (1, 100);
pub const INVITATIONS_MAX_RANGE: (i64, i64) = (2, 100);
pub const MESSAGES_MIN_RANGE: (i64, i64) = (1, 500);
pub const MESSAGES_MAX_RANGE: (i64, i64) = (2, 500);

impl Default for Limits {
    fn default() -> Self {
        Self {
            invitations_min: 15,
            invitations_max: 25,
            messages_min: 30,
            messages_max: 60,
        }
    }
}

impl Limits {
    /// Records every out-of-range value and every min above its max.
    pub fn validate(&self, problems: &mut Problems) {
        let checks = [
            (
                "limits.invitationsMin",
                self.invitations_min,
                INVITATIONS_MIN_RANGE,
            ),
            (
                "limits.invitationsMax",
                self.invitations_max,
                INVITATIONS_MAX_RANGE,
            ),
            ("limits.messagesMin", self.messages_min, MESSAGES_MIN_RANGE),
            ("limits.messagesMax", self.messages_max, MESSAGES_MAX_RANGE),
        ];
        for (field, value, (min, max)) in checks {
            problems.check_range(field, value, min, max);
        }
        if self.invitations_min > self.invitations_max {
            problems.add(
                "limits.invitationsMin",
                "invitationsMin must not be greater than invitationsMax",
            );
        }
        if self.messages_min > self.messages_max {
            problems.add(
                "limits.messagesMin",
                "messagesMin must not be greater than messagesMax",
            );
        }
    }
}

impl Limits {
    /// Today's invitation and message targets, drawn uniformly inside the ranges.
    pub fn draw_targets(&self) -> (i64, i64) {
        use rand::Rng;
        let mut rng = rand::rng();
        let draw = |rng: &mut rand::rngs::ThreadRng, min: i64, max: i64| {
            if min >= max {
                min
            } else {
                rng.random_range(min..=max)
            }
        };
        (
            draw(&mut rng, self.invitations_min, self.invitations_max),
            draw(&mut rng, self.messages_min, self.messages_max),
        )
    }
}

/// Behaviour flags of an agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSettings {
    /// Do not message people who are already connections.
    pub skip_in_network: bool,
    /// Send invitations only, never messages.
    pub invitations_only: bool,
    /// Ramp up the daily invitations of a new agent ([`warmup_range`]).
    pub warmup: bool,
}

/// Shortest accepted LinkedIn password.
pub const MIN_PASSWORD_LEN: usize = 6;
/// Longest accepted login or password.
pub const MAX_CREDENTIAL_LEN: usize = 254;
/// Length bounds of a verification code.
pub const CODE_LEN: (usize, usize) = (4, 12);

/// Whether `login` looks like an email address (LinkedIn logins are).
fn is_plausible_email(login: &str) -> bool {
    let Some((local, domain)) = login.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !login.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

/// Checks an agent's LinkedIn credentials, whichever door they came through: an email login
/// (trimmed), a password of [`MIN_PASSWORD_LEN`]–[`MAX_CREDENTIAL_LEN`] characters, a two-letter
/// country code.
pub fn check_credentials(
    problems: &mut crate::validation::Problems,
    login: &str,
    password: &str,
    country: &str,
) {
    let login = login.trim();
    if login.len() > MAX_CREDENTIAL_LEN || !is_plausible_email(login) {
        problems.add("login", "The login must be a valid email address");
    }
    problems.check_len("password", password, MIN_PASSWORD_LEN, MAX_CREDENTIAL_LEN);
    let country = country.trim();
    if country.len() != 2 || !country.bytes().all(|c| c.is_ascii_alphabetic()) {
        problems.add("country", "The country must be a two-letter code");
    }
}

/// Whether `code` (trimmed) can be a LinkedIn verification code: 4 to 12 letters or digits.
pub fn is_verification_code(code: &str) -> bool {
    let code = code.trim();
    (CODE_LEN.0..=CODE_LEN.1).contains(&code.chars().count())
        && code.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Smallest and largest UTC offsets of working hours, in hours.
pub const TIMEZONE_OFFSET_RANGE: (i64, i64) = (-12, 14);

/// Checks the given parts of working hours, whichever door they came through: a days mask of
/// seven 0/1 flags with at least one day, `HH:MM` times, an offset within
/// [`TIMEZONE_OFFSET_RANGE`]. Problems are recorded under `workingHours.*`.
pub fn check_working_hours(
    problems: &mut crate::validation::Problems,
    days: Option<&str>,
    start: Option<&str>,
    stop: Option<&str>,
    offset: Option<i64>,
) {
    if let Some(days) = days
        && !is_valid_days_mask(days)
    {
        problems.add(
            "workingHours.days",
            "days must be seven 0/1 flags, Monday first, e.g. 1:1:1:1:1:0:0, with at least one 1",
        );
    }
    for (field, value) in [("workingHours.start", start), ("workingHours.stop", stop)] {
        if let Some(value) = value
            && parse_clock_time(value).is_none()
        {
            problems.add(field, "Times are HH:MM, 24-hour");
        }
    }
    if let Some(offset) = offset {
        problems.check_range(
            "workingHours.timezone",
            offset,
            TIMEZONE_OFFSET_RANGE.0,
            TIMEZONE_OFFSET_RANGE.1,
        );
    }
}

/// Checks the daily ranges that are given (each within its `*_RANGE`), under `limits.*`.
pub fn check_daily_limits(
    problems: &mut crate::validation::Problems,
    invitations: (Option<i64>, Option<i64>),
    messages: (Option<i64>, Option<i64>),
) {
    let ranges = [
        (
            "limits.invitationsMin",
            invitations.0,
            INVITATIONS_MIN_RANGE,
        ),
        (
            "limits.invitationsMax",
            invitations.1,
            INVITATIONS_MAX_RANGE,
        ),
        ("limits.messagesMin", messages.0, MESSAGES_MIN_RANGE),
        ("limits.messagesMax", messages.1, MESSAGES_MAX_RANGE),
    ];
    for (field, value, (min, max)) in ranges {
        if let Some(value) = value {
            problems.check_range(field, value, min, max);
        }
    }
}

#[cfg(test)]
mod warmup_tests {
    use super::*;

    #[test]
    fn the_ramp_follows_the_schedule_then_the_configuration_under_the_ceiling() {
        let configured = (60, 90);
        assert_eq!(warmup_range(1, configured), (15, 20));
        assert_eq!(warmup_range(3, configured), (15, 20));
        assert_eq!(warmup_range(4, configured), (25, 30));
        assert_eq!(warmup_range(7, configured), (25, 30));
        assert_eq!(warmup_range(8, configured), (40, 40));
        assert_eq!(warmup_range(30, (10, 20)), (10, 20));
        assert_eq!(
            warmup_range(1, (5, 10)),
            (10, 10),
            "never above the configured maximum"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::AgentEvent as E;
    use super::AgentStatus as S;
    use super::*;

    #[test]
    fn every_transition_of_the_table() {
        let allowed = [
            (S::SetupNeeded, E::Setup, S::AuthInProgress),
            (S::AuthNeeded, E::Setup, S::AuthInProgress),
            (S::AuthInProgress, E::Setup, S::AuthInProgress),
            (S::AuthInProgress, E::LoginSucceeded, S::Running),
            (S::AuthInProgress, E::LoginNeedsAction, S::AuthNeeded),
            (S::AuthNeeded, E::LoginNeedsAction, S::AuthNeeded),
            (S::Running, E::LoginNeedsAction, S::AuthNeeded),
            (S::Paused, E::LoginNeedsAction, S::AuthNeeded),
            (S::Running, E::Pause, S::Paused),
            (S::Paused, E::Pause, S::Paused),
            (S::Paused, E::Resume, S::Running),
            (S::Running, E::Resume, S::Running),
            (S::Ended, E::Relaunch, S::SetupNeeded),
            (S::Disabled, E::Relaunch, S::SetupNeeded),
        ];
        for status in S::ALL {
            for event in [
                E::Setup,
                E::LoginSucceeded,
                E::LoginNeedsAction,
                E::Pause,
                E::Resume,
                E::Relaunch,
            ] {
                let expected = allowed
                    .iter()
                    .find(|(from, on, _)| *from == status && *on == event)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(status.apply(event), Ok(to), "{status} on {event:?}"),
                    None => assert_eq!(
                        status.apply(event),
                        Err(InvalidTransition { current: status }),
                        "{status} on {event:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn disable_and_end_reach_every_status_but_end_is_final_for_disable() {
        for status in S::ALL {
            assert_eq!(status.apply(E::End), Ok(S::Ended));
            if status == S::Ended {
                assert!(status.apply(E::Disable).is_err());
            } else {
                assert_eq!(status.apply(E::Disable), Ok(S::Disabled));
            }
        }
    }

    #[test]
    fn delete_is_refused_only_while_working_or_logging_in() {
        for status in S::ALL {
            let refused = matches!(status, S::Running | S::AuthInProgress);
            assert_eq!(status.allows_delete().is_err(), refused, "{status}");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in S::ALL {
            assert_eq!(status.as_str().parse::<S>().unwrap(), status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }

    #[test]
    fn resume_is_refused_while_alerts_are_active() {
        let alert = Alert {
            kind: "auth".into(),
            sub_type: "2fa_required".into(),
            message: "Enter the code".into(),
            severity: Severity::Warning,
        };
        assert_eq!(
            next_status(S::Paused, &[alert], E::Resume),
            Err(Refusal::HasAlerts)
        );
        assert_eq!(next_status(S::Paused, &[], E::Resume), Ok(S::Running));
        assert_eq!(
            next_status(S::SetupNeeded, &[], E::Resume),
            Err(Refusal::InvalidTransition(InvalidTransition {
                current: S::SetupNeeded
            }))
        );
    }

    #[test]
    fn targets_stay_inside_the_ranges() {
        let limits = Limits {
            invitations_min: 5,
            invitations_max: 7,
            messages_min: 9,
            messages_max: 9,
        };
        for _ in 0..100 {
            let (invitations, messages) = limits.draw_targets();
            assert!((5..=7).contains(&invitations));
            assert_eq!(messages, 9);
        }
    }

    #[test]
    fn days_masks() {
        assert!(is_valid_days_mask("1:1:1:1:1:0:0"));
        assert!(is_valid_days_mask("0:0:0:0:0:0:1"));
        assert!(!is_valid_days_mask("0:0:0:0:0:0:0"));
        assert!(!is_valid_days_mask("1:1:1:1:1:0"));
        assert!(!is_valid_days_mask("1:1:1:1:1:0:2"));
        assert!(!is_valid_days_mask("1111100"));
    }

    #[test]
    fn clock_times() {
        assert_eq!(parse_clock_time("09:00"), Some(540));
        assert_eq!(parse_clock_time("9:05"), Some(545));
        assert_eq!(parse_clock_time("23:59"), Some(1439));
        assert_eq!(parse_clock_time("24:00"), None);
        assert_eq!(parse_clock_time("12:60"), None);
        assert_eq!(parse_clock_time("12:5"), None);
        assert_eq!(parse_clock_time("+1:00"), None);
        assert_eq!(parse_clock_time("noon"), None);
    }

    #[test]
    fn limits_validate_ranges_and_order() {
        let mut problems = Problems::new();
        Limits::default().validate(&mut problems);
        assert!(problems.is_empty());
        let mut problems = Problems::new();
        Limits {
            invitations_min: 30,
            invitations_max: 20,
            messages_min: 0,
            messages_max: 501,
        }
        .validate(&mut problems);
        let fields: Vec<String> = problems
            .into_result()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert!(fields.contains(&"limits.invitationsMin".to_owned()));
        assert!(fields.contains(&"limits.messagesMin".to_owned()));
        assert!(fields.contains(&"limits.messagesMax".to_owned()));
    }
}
