//! Webhook rules with no IO: which URLs may be targets, how deliveries are signed, and when a
//! failed delivery is tried again.
//!
//! Signatures: `X-Kakiyo-Signature` is the lowercase hex HMAC-SHA256 of the exact body bytes,
//! keyed with the webhook's secret (Kakiyo's format). `webhook-signature` follows Standard
//! Webhooks: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's
//! bytes (a `whsec_` secret is base64-decoded first, as the standard says).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Longest webhook URL.
pub const MAX_URL_LEN: usize = 2048;
/// Prefix of Standard Webhooks secrets.
pub const STANDARD_SECRET_PREFIX: &str = "whsec_";

/// Webhook name length bounds, in characters.
pub const NAME_LEN: (usize, usize) = (1, 200);
/// Secret length bounds, in characters.
pub const SECRET_LEN: (usize, usize) = (1, 512);
/// Most event names in one subscription.
pub const MAX_EVENTS: usize = 32;

/// Checks a webhook's subscription: at least one event, at most [`MAX_EVENTS`], each an event
/// name or `*` (`crate::events::is_valid_subscription`).
pub fn check_events(problems: &mut crate::validation::Problems, events: &[String]) {
    if events.is_empty() {
        problems.add("events", "At least one event is required");
    }
    if events.len() > MAX_EVENTS {
        problems.add("events", format!("At most {MAX_EVENTS} events"));
    }
    for (i, event) in events.iter().enumerate() {
        if !crate::events::is_valid_subscription(event) {
            problems.add(
                format!("events[{i}]"),
                format!("Unknown event `{event}`; see GET /v1/webhooks/events"),
            );
        }
    }
}

/// Checks a webhook's target URL (trimmed).
pub fn check_url(problems: &mut crate::validation::Problems, url: &str) {
    if let Err(error) = validate_url(url.trim()) {
        problems.add("url", error.to_string());
    }
}

/// Checks a webhook's name (trimmed).
pub fn check_name(problems: &mut crate::validation::Problems, name: &str) {
    problems.check_len("name", name.trim(), NAME_LEN.0, NAME_LEN.1);
}

/// Why a URL cannot be a webhook target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadUrl {
    #[error("The url must be a valid absolute URL")]
    Unparsable,
    #[error("The url must use http or https")]
    Scheme,
    #[error("The url must not contain credentials")]
    Credentials,
    #[error("The url is too long")]
    TooLong,
}

/// Checks the shape of a webhook URL (addresses are checked at delivery time, after DNS).
pub fn validate_url(value: &str) -> Result<url::Url, BadUrl> {
    if value.len() > MAX_URL_LEN {
        return Err(BadUrl::TooLong);
    }
    let parsed = url::Url::parse(value).map_err(|_| BadUrl::Unparsable)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(BadUrl::Scheme);
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(BadUrl::Unparsable);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(BadUrl::Credentials);
    }
    Ok(parsed)
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// `X-Kakiyo-Signature`: lowercase hex HMAC-SHA256 of `body`.
pub fn kakiyo_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The key bytes of a secret for Standard Webhooks signing.
fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(STANDARD_SECRET_PREFIX)
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `webhook-signature`: `v1,<base64>` over `{msg_id}.{timestamp}.{body}`.
pub fn standard_signature(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(&standard_key(secret));
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// When to try a failed delivery again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay before each attempt: the first entry is the first attempt's (normally zero).
    pub schedule: Vec<Duration>,
    /// Each retry delay is moved by up to this fraction either way.
    pub jitter: f64,
}

/// The default schedule: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h.
pub const DEFAULT_SCHEDULE_SECS: [u64; 7] = [0, 5, 300, 1800, 7200, 18_000, 36_000];
/// The default jitter: ±20 %.
pub const DEFAULT_JITTER: f64 = 0.2;

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: DEFAULT_SCHEDULE_SECS
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            jitter: DEFAULT_JITTER,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt number `next_attempt` (0-based), or `None` when the schedule is
    /// exhausted. `unit` in `[0, 1)` places the jitter; `retry_after` (the receiver's
    /// `Retry-After`) is honoured but clamped to twice the scheduled delay.
    pub fn delay_before(
        &self,
        next_attempt: usize,
        unit: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let base = *self.schedule.get(next_attempt)?;
        let factor = 1.0 + self.jitter * (2.0 * unit - 1.0);
        let jittered = base.mul_f64(factor.max(0.0));
        Some(match retry_after {
            Some(asked) => asked.clamp(jittered, base.saturating_mul(2).max(jittered)),
            None => jittered,
        })
    }

    /// Attempts in all.
    pub fn attempts(&self) -> usize {
        self.schedule.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(validate_url("https://example.com/hook").is_ok());
        assert!(validate_url("http://127.0.0.1:9000/x").is_ok());
        assert_eq!(
            validate_url("ftp://example.com").unwrap_err(),
            BadUrl::Scheme
        );
        assert_eq!(validate_url("not a url").unwrap_err(), BadUrl::Unparsable);
        assert_eq!(
            validate_url("https://u:p@example.com").unwrap_err(),
            BadUrl::Credentials
        );
        assert_eq!(
            validate_url(&format!("https://e.com/{}", "a".repeat(3000))).unwrap_err(),
            BadUrl::TooLong
        );
    }

    #[test]
    fn kakiyo_signature_is_hex_hmac_of_the_body() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC test vector.
        assert_eq!(
            kakiyo_signature("key", b"The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn standard_signature_matches_the_reference_vector() {
        // The test vector of the Standard Webhooks reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn retries_follow_the_schedule_with_bounded_jitter() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_before(0, 0.5, None), Some(Duration::ZERO));
        assert_eq!(
            policy.delay_before(1, 0.5, None),
            Some(Duration::from_secs(5))
        );
        let low = policy.delay_before(2, 0.0, None).unwrap();
        let high = policy.delay_before(2, 0.999, None).unwrap();
        assert!(low >= Duration::from_secs(240) && high <= Duration::from_secs(360));
        assert_eq!(policy.delay_before(7, 0.5, None), None);
        let honoured = policy
            .delay_before(1, 0.5, Some(Duration::from_secs(8)))
            .unwrap();
        assert_eq!(honoured, Duration::from_secs(8));
        let clamped = policy
            .delay_before(1, 0.5, Some(Duration::from_secs(3600)))
            .unwrap();
        assert_eq!(clamped, Duration::from_secs(10));
    }
}
