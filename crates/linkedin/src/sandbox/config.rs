//! The knobs of the simulated network, with defaults that look like a real campaign.
//!
//! Rule: rates are probabilities in `[0, 1]` drawn once per profile (or per message); the three
//! profile-kind rates (`invites_disabled`, `unreachable`, `already_connected`) are exclusive and
//! must not sum above one; delays are ranges `min..=max` skewed towards their short end, the way
//! most people answer quickly and a few much later.

use super::replies::InterestMix;
use outbound_core::time::Millis;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Default share of invited prospects who accept.
pub const DEFAULT_ACCEPTANCE_RATE: f64 = 0.45;
/// Default chance that the first message gets an answer.
pub const DEFAULT_REPLY_RATE: f64 = 0.35;
/// Default factor applied to `reply_rate` for a follow-up nobody answered yet.
pub const DEFAULT_FOLLOWUP_REPLY_FACTOR: f64 = 0.6;
/// Default chance of an answer to a message that continues a live conversation.
pub const DEFAULT_CONVERSATION_REPLY_RATE: f64 = 0.7;
pub const DEFAULT_ALREADY_CONNECTED_RATE: f64 = 0.08;
pub const DEFAULT_UNREACHABLE_RATE: f64 = 0.02;
pub const DEFAULT_INVITES_DISABLED_RATE: f64 = 0.01;
/// Exponent that skews delays towards the short end (1 would be uniform).
const DELAY_SKEW: f64 = 2.0;

/// A range of delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange {
    pub min: Duration,
    pub max: Duration,
}

impl DelayRange {
    pub const fn new(min: Duration, max: Duration) -> Self {
        Self { min, max }
    }

    /// The delay at fraction `u` in `[0, 1)`, in milliseconds, skewed towards `min`.
    pub fn pick(&self, u: f64) -> Millis {
        let min = millis(self.min);
        let span = (millis(self.max) - min).max(0);
        // A span of a few years fits an f64 mantissa exactly; the product is within [0, span].
        let offset = (u.clamp(0.0, 1.0).powf(DELAY_SKEW) * span as f64) as Millis;
        min + offset.min(span)
    }
}

fn millis(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}

/// How the simulated network behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// Share of invited prospects who accept.
    pub acceptance_rate: f64,
    /// Time between the invitation and the acceptance.
    pub acceptance_delay: DelayRange,
    /// Chance that the first message gets an answer.
    pub reply_rate: f64,
    /// Factor applied to `reply_rate` for each follow-up nobody answered yet.
    pub followup_reply_factor: f64,
    /// Chance of an answer to a message sent after the prospect already answered.
    pub conversation_reply_rate: f64,
    /// Time between a message and its answer.
    pub reply_delay: DelayRange,
    /// What answers mean.
    pub interest: InterestMix,
    /// Share of profiles that are first-degree connections already.
    pub already_connected_rate: f64,
    /// Share of profiles that cannot be reached (503).
    pub unreachable_rate: f64,
    /// Share of profiles that do not accept invitations (502).
    pub invites_disabled_rate: f64,
    /// LinkedIn restricts an account that sends more invitations than this in 24 hours (its
    /// later invitations and messages answer `Restricted`); `None`: never.
    pub restrict_above_daily_invitations: Option<u32>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            acceptance_rate: DEFAULT_ACCEPTANCE_RATE,
            acceptance_delay: DelayRange::new(2 * HOUR, 3 * DAY),
            reply_rate: DEFAULT_REPLY_RATE,
            followup_reply_factor: DEFAULT_FOLLOWUP_REPLY_FACTOR,
            conversation_reply_rate: DEFAULT_CONVERSATION_REPLY_RATE,
            reply_delay: DelayRange::new(10 * MINUTE, 2 * DAY),
            interest: InterestMix::default(),
            already_connected_rate: DEFAULT_ALREADY_CONNECTED_RATE,
            unreachable_rate: DEFAULT_UNREACHABLE_RATE,
            invites_disabled_rate: DEFAULT_INVITES_DISABLED_RATE,
            restrict_above_daily_invitations: None,
        }
    }
}

/// A configuration that cannot describe a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sandbox configuration: {0}")]
pub struct InvalidSandboxConfig(pub String);

impl SandboxConfig {
    /// Checks that rates are probabilities, exclusive rates fit together and ranges are ordered.
    pub fn validate(&self) -> Result<(), InvalidSandboxConfig> {
        let rates = [
            ("acceptance_rate", self.acceptance_rate),
            ("reply_rate", self.reply_rate),
            ("followup_reply_factor", self.followup_reply_factor),
            ("conversation_reply_rate", self.conversation_reply_rate),
            ("already_connected_rate", self.already_connected_rate),
            ("unreachable_rate", self.unreachable_rate),
            ("invites_disabled_rate", self.invites_disabled_rate),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(InvalidSandboxConfig(format!("{name} must be within 0..=1")));
            }
        }
        if self.already_connected_rate + self.unreachable_rate + self.invites_disabled_rate > 1.0 {
            return Err(InvalidSandboxConfig(
                "already_connected_rate + unreachable_rate + invites_disabled_rate exceeds 1"
                    .into(),
            ));
        }
        for (name, range) in [
            ("acceptance_delay", self.acceptance_delay),
            ("reply_delay", self.reply_delay),
        ] {
            if range.min > range.max || range.min.is_zero() {
                return Err(InvalidSandboxConfig(format!("{name} needs 0 < min <= max")));
            }
        }
        let weights = [
            self.interest.interested,
            self.interest.question,
            self.interest.not_now,
            self.interest.not_interested,
            self.interest.opt_out,
        ];
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || self.interest.total() <= 0.0 {
            return Err(InvalidSandboxConfig(
                "interest weights must be non-negative with a positive sum".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(SandboxConfig::default().validate(), Ok(()));
    }

    #[test]
    fn bad_rates_and_ranges_are_refused() {
        let mut config = SandboxConfig {
            acceptance_rate: 1.5,
            ..SandboxConfig::default()
        };
        assert!(config.validate().is_err());
        config.acceptance_rate = 0.5;
        config.reply_delay = DelayRange::new(DAY, HOUR);
        assert!(config.validate().is_err());
        config.reply_delay = DelayRange::new(HOUR, DAY);
        config.unreachable_rate = 0.6;
        config.already_connected_rate = 0.6;
        assert!(config.validate().is_err());
    }

    #[test]
    fn delays_stay_in_range_and_lean_short() {
        let range = DelayRange::new(HOUR, DAY);
        assert_eq!(range.pick(0.0), millis(HOUR));
        assert!(range.pick(0.999_999) <= millis(DAY));
        assert!(range.pick(0.5) < (millis(HOUR) + millis(DAY)) / 2);
    }
}
