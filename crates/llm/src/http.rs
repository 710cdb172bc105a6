//! The HTTP side that network providers share: the client, one POST with retries.
//!
//! Rules:
//! - every attempt has the configured timeout (the whole exchange, body included) and reads at
//!   most [`MAX_RESPONSE_BYTES`];
//! - 429, 408, 5xx, timeouts and connection errors are retried at most `max_retries` times,
//!   after an exponential backoff with jitter, or exactly after the server's `Retry-After` (or
//!   `retry-after-ms`) when it sends one; a `Retry-After` longer than `max_retry_after` is not
//!   waited for here: the error goes back to the caller, which can schedule the work later;
//! - any other non-2xx answer is handed back with its body, for the provider to adapt its
//!   request or to turn into an error;
//! - redirects are not followed (an API key must not travel to another host).

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Once;
use std::time::Duration;

use crate::LlmError;
use crate::factory::{DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT};

/// The `User-Agent` of every provider request.
pub const USER_AGENT: &str = concat!("Outbound/", env!("CARGO_PKG_VERSION"));
/// Largest answer read from a provider.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// How much of an error body is kept in an error message, in characters.
pub const ERROR_SNIPPET_CHARS: usize = 300;
/// Time allowed to open a connection, within the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First backoff before jitter.
const BASE_DELAY: Duration = Duration::from_millis(500);
/// Longest backoff before jitter.
const MAX_DELAY: Duration = Duration::from_secs(20);
/// Longest `Retry-After` waited for inside one call.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The non-standard header in which OpenAI gives the wait in milliseconds.
const RETRY_AFTER_MS: &str = "retry-after-ms";

/// When and how often a failed attempt is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Backoff before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Cap of the backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` waited for; longer ones end the call with the error.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: BASE_DELAY,
            max_delay: MAX_DELAY,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based) with `unit` in `[0, 1)` placing the
    /// jitter: between half and all of `base_delay · 2^retry`, capped at `max_delay`.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(u32::BITS - 1));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let unit = unit.clamp(0.0, 1.0);
        full.mul_f64(0.5 + unit / 2.0)
    }
}

/// Where and how to reach one model of a provider.
#[derive(Clone)]
pub struct ClientConfig {
    /// The provider's base URL (for OpenAI-compatible servers, ending in `/v1`).
    pub base_url: String,
    /// The API key, if the provider wants one.
    pub api_key: Option<String>,
    /// The model name the provider knows.
    pub model: String,
    /// Time allowed to each attempt.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl ClientConfig {
    /// `model` at `base_url`, without key, with the default timeout and retries.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// With this API key (a blank key counts as none).
    pub fn api_key(mut self, key: impl Into<String>) -> ClientConfig {
        let key = key.into();
        self.api_key = (!key.trim().is_empty()).then_some(key);
        self
    }

    /// With this timeout per attempt.
    pub fn timeout(mut self, timeout: Duration) -> ClientConfig {
        self.timeout = timeout;
        self
    }

    /// With this retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> ClientConfig {
        self.retry = retry;
        self
    }

    /// The base URL without trailing slashes, checked to be an http(s) URL.
    pub(crate) fn checked_base(&self) -> Result<String, LlmError> {
        let base = self.base_url.trim().trim_end_matches('/');
        let url = reqwest::Url::parse(base)
            .map_err(|e| LlmError::Config(format!("invalid base URL `{base}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LlmError::Config(format!(
                "base URL `{base}` must start with http:// or https://"
            )));
        }
        Ok(base.to_owned())
    }
}

/// A 2xx body, or the status and body of a refusal that is not worth retrying.
#[derive(Debug)]
pub(crate) enum Reply {
    Success(String),
    Rejected { status: u16, body: String },
}

/// One URL of a provider with its fixed headers, timeout and retry policy.
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    retry: RetryPolicy,
}

/// A failed attempt and the wait the server asked for.
struct Failure {
    error: LlmError,
    retry_after: Option<Duration>,
}

impl Failure {
    fn of(error: LlmError) -> Failure {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// Installs the `ring` TLS provider once per process (another one installed first is kept).
fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Endpoint {
    /// An endpoint posting to `url` with `headers`, under `config`'s timeout and retries.
    pub(crate) fn new(
        url: String,
        headers: &[(&'static str, String)],
        config: &ClientConfig,
    ) -> Result<Endpoint, LlmError> {
        install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| LlmError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| LlmError::Config(format!("invalid characters in header {name}")))?;
            value.set_sensitive(true);
            map.insert(HeaderName::from_static(name), value);
        }
        Ok(Endpoint {
            client,
            url,
            headers: map,
            retry: config.retry,
        })
    }

    /// POSTs `body` as JSON, retrying as the module rules say.
    pub(crate) async fn post_json(&self, body: &serde_json::Value) -> Result<Reply, LlmError> {
        let mut retry = 0;
        loop {
            let failure = match self.attempt(body).await {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            let wait = self.wait_before_retry(&failure, retry)?;
            tracing::debug!(url = %self.url, error = %failure.error, ?wait, retry, "retrying model call");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// How long to wait before retry number `retry`, or the error when the call must end.
    fn wait_before_retry(&self, failure: &Failure, retry: u32) -> Result<Duration, LlmError> {
        if !failure.error.is_retryable() || retry >= self.retry.max_retries {
            return Err(failure.error.clone());
        }
        match failure.retry_after {
            Some(wait) if wait > self.retry.max_retry_after => Err(failure.error.clone()),
            Some(wait) => Ok(wait),
            None => Ok(self.retry.backoff(retry, rand::random::<f64>())),
        }
    }

    async fn attempt(&self, body: &serde_json::Value) -> Result<Reply, Failure> {
        let response = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .json(body)
            .send()
            .await
            .map_err(|e| Failure::of(transport_error(&e)))?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), Utc::now());
        let text = read_body(response).await.map_err(Failure::of)?;
        if status.is_success() {
            return Ok(Reply::Success(text));
        }
        match status_error(status, retry_after) {
            Some(error) => Err(Failure { error, retry_after }),
            None => Ok(Reply::Rejected {
                status: status.as_u16(),
                body: text,
            }),
        }
    }
}

/// The retryable error for `status`, or `None` when the refusal goes back to the provider.
fn status_error(status: StatusCode, retry_after: Option<Duration>) -> Option<LlmError> {
    match status {
        StatusCode::TOO_MANY_REQUESTS => Some(LlmError::RateLimited { retry_after }),
        StatusCode::REQUEST_TIMEOUT => Some(LlmError::Timeout),
        s if s.is_server_error() => Some(LlmError::Server(s.as_u16())),
        _ => None,
    }
}

/// The body as text, refusing more than [`MAX_RESPONSE_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<String, LlmError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(LlmError::BadResponse(format!(
                "answer larger than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| LlmError::BadResponse("answer is not UTF-8".into()))
}

/// A reqwest error as ours: timeouts apart, with the chain of causes in the message.
fn transport_error(error: &reqwest::Error) -> LlmError {
    if error.is_timeout() {
        return LlmError::Timeout;
    }
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    LlmError::Transport(message)
}

/// The wait asked for by `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header(RETRY_AFTER_MS).and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = header(RETRY_AFTER.as_str())?;
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// At most [`ERROR_SNIPPET_CHARS`] of an error body, on one line.
pub(crate) fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(ERROR_SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// The error for a refusal that the provider could not adapt to.
pub(crate) fn rejection_error(status: u16, body: &str) -> LlmError {
    let detail = snippet(body);
    let hint = match status {
        401 | 403 => "the provider refused the API key",
        404 => "unknown endpoint or model",
        _ => "the provider rejected the request",
    };
    LlmError::Config(format!("{hint} (HTTP {status}): {detail}"))
}

/// Whether an error body mentions any of `words` (case-insensitive).
pub(crate) fn mentions(body: &str, words: &[&str]) -> bool {
    let lower = body.to_ascii_lowercase();
    words.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn retry_after_in_seconds_milliseconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "250"), ("retry-after", "3")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 01 Jan 2025 00:00:30 GMT")]),
                now
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Tue, 31 Dec 2024 00:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(0, 0.0), Duration::from_millis(250));
        assert_eq!(policy.backoff(0, 1.0), Duration::from_millis(500));
        assert_eq!(policy.backoff(2, 1.0), Duration::from_secs(2));
        assert_eq!(policy.backoff(30, 1.0), MAX_DELAY);
        assert_eq!(policy.backoff(u32::MAX, 0.0), MAX_DELAY / 2);
    }

    #[test]
    fn snippets_are_short_and_flat() {
        assert_eq!(snippet("a\n  b"), "a b");
        let long = "x".repeat(ERROR_SNIPPET_CHARS + 10);
        assert_eq!(snippet(&long).chars().count(), ERROR_SNIPPET_CHARS + 1);
    }

    #[test]
    fn base_urls_are_checked() {
        let ok = ClientConfig::new("http://127.0.0.1:11434/v1/", "m");
        assert_eq!(ok.checked_base().unwrap(), "http://127.0.0.1:11434/v1");
        assert!(ClientConfig::new("ftp://x", "m").checked_base().is_err());
        assert!(ClientConfig::new("not a url", "m").checked_base().is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let config = ClientConfig::new("http://x", "m").api_key("sk-secret");
        assert!(!format!("{config:?}").contains("sk-secret"));
        assert_eq!(
            ClientConfig::new("http://x", "m").api_key("  ").api_key,
            None
        );
    }
}
