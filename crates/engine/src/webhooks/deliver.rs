//! One delivery attempt: the HTTP request and how its answer is judged.
//!
//! Rules:
//! - the exact stored body bytes are POSTed, with `Content-Type: application/json`, the
//!   `User-Agent` [`USER_AGENT`], `X-Kakiyo-Signature` (hex HMAC of the body, only when the
//!   webhook has a secret) and the Standard Webhooks headers `webhook-id` (the delivery id,
//!   stable across retries), `webhook-timestamp` (Unix seconds of this attempt) and
//!   `webhook-signature` (only when the webhook has a secret);
//! - redirects are not followed, proxies are not used, and at most `max_response_bytes` of the
//!   answer are read;
//! - 2xx is a success; 410 Gone disables the webhook; anything else, a timeout or a connection
//!   error is a failure, retried on the schedule (honouring `Retry-After`) until it runs out.

use outbound_core::time::{Millis, now_millis};
use outbound_core::webhooks::{RetryPolicy, kakiyo_signature, standard_signature};
use outbound_store::webhooks::{AttemptOutcome, ClaimedDelivery};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use std::error::Error as StdError;
use std::sync::Once;
use std::time::Duration;

use super::WebhookConfig;
use super::address::{BlockedAddress, GuardedResolver, check_literal};

/// The `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("Outbound-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Kakiyo's signature header.
pub const KAKIYO_SIGNATURE: &str = "X-Kakiyo-Signature";
/// Standard Webhooks: the message id, the same on every attempt.
pub const WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks: Unix seconds of this attempt.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks: `v1,<base64>`.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
/// How long an idle connection to a receiver is kept for the next delivery.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections kept per receiver host.
const POOL_MAX_IDLE_PER_HOST: usize = 8;

/// Installs the `ring` TLS provider once per process (another one installed first is kept).
fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The HTTP client of the dispatcher: no redirects, no proxy, the configured timeout, and,
/// unless private targets are allowed, a resolver that refuses private addresses.
pub fn http_client(config: &WebhookConfig) -> Result<reqwest::Client, reqwest::Error> {
    install_tls_provider();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(config.timeout)
        .user_agent(USER_AGENT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST);
    if !config.allow_private {
        builder = builder.dns_resolver(GuardedResolver);
    }
    builder.build()
}

/// What a receiver answered, before it is judged.
#[derive(Debug)]
enum Answer {
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    Error(String),
}

/// Makes one attempt of `delivery` (signed with `secret`, the opened webhook secret) and judges
/// it: the returned outcome is what [`outbound_store::webhooks::WebhookStore::finish_delivery`]
/// records. `unit` in `[0, 1)` places the retry jitter.
pub async fn deliver(
    client: &reqwest::Client,
    config: &WebhookConfig,
    delivery: &ClaimedDelivery,
    secret: Option<&str>,
    unit: f64,
) -> AttemptOutcome {
    let answer = send(client, config, delivery, secret).await;
    judge(answer, &config.retry, delivery.attempts, unit, now_millis())
}

async fn send(
    client: &reqwest::Client,
    config: &WebhookConfig,
    delivery: &ClaimedDelivery,
    secret: Option<&str>,
) -> Answer {
    let url = match reqwest::Url::parse(&delivery.url) {
        Ok(url) => url,
        Err(e) => return Answer::Error(format!("invalid url: {e}")),
    };
    if !config.allow_private
        && let Err(blocked) = check_literal(&url)
    {
        return Answer::Error(blocked.to_string());
    }
    let body = delivery.body.as_bytes();
    let timestamp = now_millis().div_euclid(1000);
    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(WEBHOOK_ID, &delivery.id)
        .header(WEBHOOK_TIMESTAMP, timestamp.to_string());
    if let Some(secret) = secret {
        request = request
            .header(KAKIYO_SIGNATURE, kakiyo_signature(secret, body))
            .header(
                WEBHOOK_SIGNATURE,
                standard_signature(secret, &delivery.id, timestamp, body),
            );
    }
    let mut response = match request.body(body.to_vec()).send().await {
        Ok(response) => response,
        Err(e) => return Answer::Error(describe(&e, config.timeout)),
    };
    let status = response.status();
    let retry_after = retry_after(response.headers(), now_millis());
    // Read (and discard) at most the limit, so a huge or endless answer costs nothing; the
    // status alone decides, so an error while reading does not matter.
    let mut read = 0usize;
    while read < config.max_response_bytes {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    Answer::Status {
        status,
        retry_after,
    }
}

/// The outcome of an answer to attempt number `attempts` (0-based) made at `now`.
fn judge(
    answer: Answer,
    policy: &RetryPolicy,
    attempts: i64,
    unit: f64,
    now: Millis,
) -> AttemptOutcome {
    let (response_code, error, retry_after) = match answer {
        Answer::Status { status, .. } if status.is_success() => {
            return AttemptOutcome::Succeeded {
                response_code: i64::from(status.as_u16()),
            };
        }
        Answer::Status { status, .. } if status == StatusCode::GONE => {
            return AttemptOutcome::Gone;
        }
        Answer::Status {
            status,
            retry_after,
        } => {
            let error = if status.is_redirection() {
                format!("HTTP {} (redirects are not followed)", status.as_u16())
            } else {
                format!("HTTP {}", status.as_u16())
            };
            (Some(i64::from(status.as_u16())), error, retry_after)
        }
        Answer::Error(error) => (None, error, None),
    };
    let next = usize::try_from(attempts.saturating_add(1)).unwrap_or(usize::MAX);
    let retry_at = policy
        .delay_before(next, unit, retry_after)
        .map(|delay| now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)));
    AttemptOutcome::Failed {
        response_code,
        error,
        retry_at,
    }
}

/// `Retry-After` as a delay: delta-seconds (decimals accepted) or an HTTP date.
fn retry_after(headers: &HeaderMap, now: Millis) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let millis = date.timestamp_millis().saturating_sub(now);
    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
}

/// A short, stable description of a failed request.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("timeout after {timeout:?}");
    }
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    let mut root = error.to_string();
    while let Some(current) = source {
        if let Some(blocked) = current.downcast_ref::<BlockedAddress>() {
            return blocked.to_string();
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".to_owned(),
                std::io::ErrorKind::TimedOut => return format!("timeout after {timeout:?}"),
                _ => {}
            }
        }
        root = current.to_string();
        source = current.source();
    }
    if error.is_connect() {
        format!("connection failed: {root}")
    } else {
        format!("request failed: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: vec![
                Duration::ZERO,
                Duration::from_secs(5),
                Duration::from_secs(300),
            ],
            jitter: 0.0,
        }
    }

    fn status(code: u16) -> Answer {
        Answer::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: None,
        }
    }

    #[test]
    fn success_gone_and_failures() {
        let now = 1_000_000;
        assert_eq!(
            judge(status(204), &policy(), 0, 0.5, now),
            AttemptOutcome::Succeeded { response_code: 204 }
        );
        assert_eq!(
            judge(status(410), &policy(), 0, 0.5, now),
            AttemptOutcome::Gone
        );
        assert_eq!(
            judge(status(500), &policy(), 0, 0.5, now),
            AttemptOutcome::Failed {
                response_code: Some(500),
                error: "HTTP 500".to_owned(),
                retry_at: Some(now + 5_000),
            }
        );
        assert_eq!(
            judge(status(302), &policy(), 1, 0.5, now),
            AttemptOutcome::Failed {
                response_code: Some(302),
                error: "HTTP 302 (redirects are not followed)".to_owned(),
                retry_at: Some(now + 300_000),
            }
        );
        assert_eq!(
            judge(
                Answer::Error("connection refused".to_owned()),
                &policy(),
                2,
                0.5,
                now
            ),
            AttemptOutcome::Failed {
                response_code: None,
                error: "connection refused".to_owned(),
                retry_at: None,
            },
            "the schedule is exhausted after its last entry"
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_policy_clamp() {
        let now = 1_000_000;
        let answer = |secs| Answer::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(secs)),
        };
        let retry_at = |outcome| match outcome {
            AttemptOutcome::Failed { retry_at, .. } => retry_at,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            retry_at(judge(answer(8), &policy(), 0, 0.5, now)),
            Some(now + 8_000)
        );
        assert_eq!(
            retry_at(judge(answer(1), &policy(), 0, 0.5, now)),
            Some(now + 5_000),
            "never earlier than the schedule"
        );
        assert_eq!(
            retry_at(judge(answer(3600), &policy(), 0, 0.5, now)),
            Some(now + 10_000),
            "at most twice the schedule"
        );
    }

    #[test]
    fn parses_retry_after() {
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            map
        };
        assert_eq!(
            retry_after(&headers("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&headers("1.5"), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:29:30 GMT"), now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:00:00 GMT"), now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(retry_after(&headers("-5"), now), None);
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn user_agent_names_the_version() {
        assert_eq!(
            USER_AGENT,
            format!("Outbound-Webhooks/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
