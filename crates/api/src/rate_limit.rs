//! Per-team rate limits, Kakiyo's way: three tiers (High 60, Medium 30, Low 15 requests per
//! minute) and three DNC buckets (read 60, write 30, batch 10), each counted per team.
//!
//! [`bucket_for`] is the one table that maps every route to its bucket. The limiter sits behind
//! [`RateLimiter`] so that several processes can later share one (Redis); [`InMemoryLimiter`]
//! counts inside this process with GCRA (`governor`), which refills a bucket evenly over the
//! minute.

use axum::http::Method;
use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

/// The window every limit is expressed in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// A counter that a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    High,
    Medium,
    Low,
    DncRead,
    DncWrite,
    DncBatch,
}

impl Bucket {
    pub const ALL: [Bucket; 6] = [
        Bucket::High,
        Bucket::Medium,
        Bucket::Low,
        Bucket::DncRead,
        Bucket::DncWrite,
        Bucket::DncBatch,
    ];

    /// Kakiyo's documented requests per minute.
    pub fn default_per_minute(self) -> u32 {
        match self {
            Bucket::High | Bucket::DncRead => 60,
            Bucket::Medium | Bucket::DncWrite => 30,
            Bucket::Low => 15,
            Bucket::DncBatch => 10,
        }
    }

    /// Whether a 429 of this bucket carries `resetTime` (the DNC routes document it).
    pub fn reports_reset_time(self) -> bool {
        matches!(self, Bucket::DncRead | Bucket::DncWrite | Bucket::DncBatch)
    }

    /// The configuration name of the bucket.
    pub fn name(self) -> &'static str {
        match self {
            Bucket::High => "high",
            Bucket::Medium => "medium",
            Bucket::Low => "low",
            Bucket::DncRead => "dnc_read",
            Bucket::DncWrite => "dnc_write",
            Bucket::DncBatch => "dnc_batch",
        }
    }
}

/// The bucket of a route, by method and route pattern (as registered, e.g. `/v1/agents/{id}`).
pub fn bucket_for(method: &Method, route: &str) -> Bucket {
    match (method.as_str(), route) {
        ("GET", "/v1/dnc" | "/v1/dnc/check") => Bucket::DncRead,
        ("POST", "/v1/dnc") | ("DELETE", "/v1/dnc/{id}") => Bucket::DncWrite,
        ("POST", "/v1/dnc/batch") => Bucket::DncBatch,
        (
            "GET",
            "/v1/verify"
            | "/v1/models"
            | "/v1/models/{modelId}"
            | "/v1/webhooks/events"
            | "/v1/webhooks/test/events"
            | "/v1/webhooks/test/example/{event}",
        ) => Bucket::High,
        ("GET", "/v1/prospects/search") => Bucket::Low,
        ("GET" | "HEAD", _) => Bucket::Medium,
        _ => Bucket::Low,
    }
}

/// Requests per minute of each bucket; a bucket missing from the map is not limited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    pub per_minute: HashMap<Bucket, u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_minute: Bucket::ALL
                .into_iter()
                .map(|b| (b, b.default_per_minute()))
                .collect(),
        }
    }
}

/// Why a rate-limit setting could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid rate limit setting `{0}`: expected `off`, a multiplier such as `2` or `0.5`, or \
     per-bucket limits such as `high=120,low=30` (buckets: high, medium, low, dnc_read, \
     dnc_write, dnc_batch)"
)]
pub struct BadRateLimits(String);

impl RateLimits {
    /// No limits at all.
    pub fn off() -> Self {
        Self {
            per_minute: HashMap::new(),
        }
    }

    /// Reads `off`, a multiplier of the defaults (`2`, `0.5`), or `bucket=n` pairs that
    /// override the defaults (`high=120,low=30`).
    pub fn parse(setting: &str) -> Result<Self, BadRateLimits> {
        let setting = setting.trim();
        let bad = || BadRateLimits(setting.to_owned());
        if setting.eq_ignore_ascii_case("off") {
            return Ok(Self::off());
        }
        if let Ok(factor) = setting.parse::<f64>() {
            if !factor.is_finite() || factor <= 0.0 {
                return Err(bad());
            }
            let per_minute = Bucket::ALL
                .into_iter()
                .map(|b| {
                    let scaled = (f64::from(b.default_per_minute()) * factor).round();
                    // Limits are small positive numbers; saturate rather than wrap.
                    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let scaled = scaled.clamp(1.0, f64::from(u32::MAX)) as u32;
                    (b, scaled)
                })
                .collect();
            return Ok(Self { per_minute });
        }
        let mut limits = Self::default();
        for pair in setting.split(',') {
            let (name, value) = pair.split_once('=').ok_or_else(bad)?;
            let bucket = Bucket::ALL
                .into_iter()
                .find(|b| b.name() == name.trim())
                .ok_or_else(bad)?;
            let value: u32 = value.trim().parse().map_err(|_| bad())?;
            if value == 0 {
                limits.per_minute.remove(&bucket);
            } else {
                limits.per_minute.insert(bucket, value);
            }
        }
        Ok(limits)
    }
}

/// The answer of a limiter for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// The bucket's limit per minute.
    pub limit: u32,
    /// Requests left right now.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset_after: Duration,
    /// Until the next request would be allowed (zero when allowed).
    pub retry_after: Duration,
}

/// Counts requests per team and bucket.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Draws one request from `team`'s `bucket`; `None` when the bucket is not limited.
    async fn check(&self, team: &str, bucket: Bucket) -> Option<Verdict>;
}

type KeyedLimiter = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// A limiter inside this process.
pub struct InMemoryLimiter {
    buckets: HashMap<Bucket, (u32, KeyedLimiter)>,
    clock: DefaultClock,
}

impl InMemoryLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        let buckets = limits
            .per_minute
            .iter()
            .filter_map(|(bucket, per_minute)| {
                let n = NonZeroU32::new(*per_minute)?;
                let limiter = governor::RateLimiter::keyed(Quota::per_minute(n))
                    .with_middleware::<StateInformationMiddleware>();
                Some((*bucket, (*per_minute, limiter)))
            })
            .collect();
        Self {
            buckets,
            clock: DefaultClock::default(),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for InMemoryLimiter {
    async fn check(&self, team: &str, bucket: Bucket) -> Option<Verdict> {
        let (limit, limiter) = self.buckets.get(&bucket)?;
        let refill_one = WINDOW / *limit;
        let key = team.to_owned();
        Some(match limiter.check_key(&key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Verdict {
                    allowed: true,
                    limit: *limit,
                    remaining,
                    reset_after: refill_one * (limit - remaining),
                    retry_after: Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Verdict {
                    allowed: false,
                    limit: *limit,
                    remaining: 0,
                    reset_after: refill_one * *limit,
                    retry_after: wait,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_their_documented_buckets() {
        let get = Method::GET;
        assert_eq!(bucket_for(&get, "/v1/verify"), Bucket::High);
        assert_eq!(bucket_for(&get, "/v1/models/{modelId}"), Bucket::High);
        assert_eq!(bucket_for(&get, "/v1/agents"), Bucket::Medium);
        assert_eq!(bucket_for(&get, "/v1/prospects/search"), Bucket::Low);
        assert_eq!(bucket_for(&Method::POST, "/v1/agents"), Bucket::Low);
        assert_eq!(
            bucket_for(&Method::PATCH, "/v1/prospects/{chatId}/custom-data"),
            Bucket::Low
        );
        assert_eq!(bucket_for(&get, "/v1/dnc/check"), Bucket::DncRead);
        assert_eq!(
            bucket_for(&Method::DELETE, "/v1/dnc/{id}"),
            Bucket::DncWrite
        );
        assert_eq!(bucket_for(&Method::POST, "/v1/dnc/batch"), Bucket::DncBatch);
    }

    #[test]
    fn settings_parse() {
        assert!(RateLimits::parse("off").unwrap().per_minute.is_empty());
        let doubled = RateLimits::parse("2").unwrap();
        assert_eq!(doubled.per_minute[&Bucket::Low], 30);
        let custom = RateLimits::parse("high=120, low=0").unwrap();
        assert_eq!(custom.per_minute[&Bucket::High], 120);
        assert!(!custom.per_minute.contains_key(&Bucket::Low));
        assert_eq!(custom.per_minute[&Bucket::Medium], 30);
        for bad in ["", "fast", "-1", "0", "high=x", "turbo=5", "high"] {
            assert!(RateLimits::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn sixteenth_write_is_refused_and_other_teams_and_buckets_are_not() {
        let limiter = InMemoryLimiter::new(&RateLimits::default());
        for i in 0..15 {
            let verdict = limiter.check("a", Bucket::Low).await.unwrap();
            assert!(verdict.allowed, "request {i}");
            assert_eq!(verdict.remaining, 14 - i);
        }
        let refused = limiter.check("a", Bucket::Low).await.unwrap();
        assert!(!refused.allowed);
        assert!(refused.retry_after > Duration::ZERO);
        assert!(limiter.check("a", Bucket::High).await.unwrap().allowed);
        assert!(limiter.check("b", Bucket::Low).await.unwrap().allowed);
    }
}
