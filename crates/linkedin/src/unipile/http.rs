//! The HTTP layer of the Unipile client: building requests, reading answers, judging errors.
//!
//! Rules:
//! - every request carries `X-API-KEY` and `Accept: application/json`; URLs are built from
//!   path segments (each percent-encoded) under `{dsn}/api/v1`;
//! - at most [`MAX_RESPONSE_BYTES`] of an answer are read;
//! - errors are judged in one place ([`classify`]) from the status and Unipile's documented
//!   error `type` (`errors/…`), in the context of the operation that failed:
//!   429 → `RateLimited` (with `Retry-After` seconds), 5xx / timeouts / connection errors →
//!   `Transient`, 401 and session-type 403s → `SessionExpired`, the invitation and recipient
//!   refusals → the 502–505 variants, anything else → `Rejected`.

use crate::connector::ConnectorError;
use crate::hash::Hasher;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use url::Url;

/// Header carrying the API key.
pub const API_KEY_HEADER: &str = "X-API-KEY";
/// Path prefix of Unipile's v1 API.
const API_PREFIX: [&str; 2] = ["api", "v1"];
/// Largest answer read from Unipile.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// How long an account waits after LinkedIn's invitation limit (`errors/limit_exceeded`).
pub const INVITATION_LIMIT_BACKOFF: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest error detail kept in a `Rejected` or `Transient` message.
const MAX_DETAIL_CHARS: usize = 300;

/// The operation a request belongs to, which decides how some errors read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Creating or reconnecting an account.
    Login,
    /// Solving a checkpoint.
    Checkpoint,
    /// Reading a member profile (404 means the member cannot be reached).
    Profile,
    /// Sending an invitation.
    Invite,
    /// Sending a message.
    Message,
    /// Any other read (relations, chats, messages, search, company, own profile).
    Read,
}

/// A failed request before it is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: connection refused, timeout, TLS failure.
    Network(String),
    /// An answer with a non-2xx status.
    Status {
        status: u16,
        /// Unipile's `type`, e.g. `errors/cannot_resend_yet`.
        kind: Option<String>,
        detail: String,
        retry_after: Option<Duration>,
    },
    /// A 2xx answer we could not read.
    Decode(String),
}

impl ApiError {
    /// Whether this is the given Unipile error type (`errors/<name>`).
    pub fn is(&self, name: &str) -> bool {
        matches!(self, Self::Status { kind: Some(kind), .. } if kind.strip_prefix("errors/") == Some(name))
    }
}

/// Unipile's error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    title: Option<String>,
    detail: Option<String>,
}

/// 403 types that mean the account's session is unusable until the user acts.
const SESSION_FORBIDDEN: &[&str] = &[
    "account_mismatch",
    "session_mismatch",
    "unknown_authentication_context",
    "action_required",
];
/// 422 types: the prospect was invited recently (505).
const COOLDOWN: &[&str] = &[
    "cannot_resend_yet",
    "cannot_resend_within_24hrs",
    "already_invited_recently",
];
/// 422 types: the message or invitation cannot reach the prospect (503).
const UNREACHABLE: &[&str] = &[
    "invalid_recipient",
    "blocked_recipient",
    "user_unreachable",
    "recipient_rejected",
    "not_allowed_inmail",
];
/// 422 types that are the provider's temporary trouble.
const TRANSIENT_422: &[&str] = &["provider_unreachable", "realtime_client_not_initialized"];

fn is_any(error: &ApiError, names: &[&str]) -> bool {
    names.iter().any(|name| error.is(name))
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_DETAIL_CHARS).collect()
}

/// What the engine must do about `error`, raised by `operation`.
pub fn classify(error: ApiError, operation: Operation) -> ConnectorError {
    let (status, detail, retry_after) = match &error {
        ApiError::Network(message) => return ConnectorError::Transient(truncate(message)),
        ApiError::Decode(message) => {
            return ConnectorError::Transient(format!("unreadable answer: {}", truncate(message)));
        }
        ApiError::Status {
            status,
            detail,
            retry_after,
            ..
        } => (*status, truncate(detail), *retry_after),
    };
    match status {
        429 => ConnectorError::RateLimited { retry_after },
        500..=599 | 408 => ConnectorError::Transient(format!("{status}: {detail}")),
        401 if is_any(&error, &["invalid_checkpoint_solution", "checkpoint_error"]) => {
            ConnectorError::Rejected(format!("the verification code was refused: {detail}"))
        }
        401 => ConnectorError::SessionExpired,
        403 if error.is("account_restricted") => ConnectorError::Restricted(detail),
        403 if is_any(&error, SESSION_FORBIDDEN) => ConnectorError::SessionExpired,
        404 if matches!(
            operation,
            Operation::Profile | Operation::Invite | Operation::Message
        ) =>
        {
            ConnectorError::Unreachable
        }
        422 => classify_unprocessable(&error, detail),
        _ => ConnectorError::Rejected(format!("{status}: {detail}")),
    }
}

fn classify_unprocessable(error: &ApiError, detail: String) -> ConnectorError {
    if is_any(error, COOLDOWN) {
        ConnectorError::InviteCooldown
    } else if error.is("cannot_invite_attendee") {
        ConnectorError::InvitesDisabled
    } else if error.is("limit_exceeded") {
        ConnectorError::RateLimited {
            retry_after: Some(INVITATION_LIMIT_BACKOFF),
        }
    } else if error.is("no_connection_with_recipient") {
        ConnectorError::NoLongerInNetwork
    } else if is_any(error, UNREACHABLE) {
        ConnectorError::Unreachable
    } else if is_any(error, TRANSIENT_422) {
        ConnectorError::Transient(format!("422: {detail}"))
    } else {
        ConnectorError::Rejected(format!("422: {detail}"))
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by Unipile and is ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A `multipart/form-data` body of text fields, as Unipile's chat endpoints take.
#[derive(Debug, Default, Clone)]
pub struct Form {
    fields: Vec<(&'static str, String)>,
}

impl Form {
    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// The content type (with its boundary) and the encoded body.
    pub fn encode(&self) -> (String, Vec<u8>) {
        let boundary = self.boundary();
        let mut body = String::new();
        for (name, value) in &self.fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        (
            format!("multipart/form-data; boundary={boundary}"),
            body.into_bytes(),
        )
    }

    /// A boundary that occurs in no value.
    fn boundary(&self) -> String {
        let mut hasher = Hasher::new(0);
        for (name, value) in &self.fields {
            hasher = hasher.str(name).str(value);
        }
        let mut attempt = 0u64;
        loop {
            let boundary = format!("outbound-{:016x}", hasher.u64(attempt).finish());
            if self
                .fields
                .iter()
                .all(|(_, value)| !value.contains(&boundary))
            {
                return boundary;
            }
            attempt += 1;
        }
    }
}

/// Unipile's v1 API at one DSN, with one key.
#[derive(Clone)]
pub struct Api {
    client: Client,
    base: Url,
    api_key: String,
}

impl Api {
    pub fn new(client: Client, base: Url, api_key: String) -> Self {
        Self {
            client,
            base,
            api_key,
        }
    }

    /// `{base}/api/v1/{segments…}?{query…}`, every segment percent-encoded.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(API_PREFIX).extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client
            .request(method, url)
            .header(API_KEY_HEADER, &self.api_key)
            .header(ACCEPT, "application/json")
    }

    pub async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, ApiError> {
        execute(self.request(Method::GET, url)).await
    }

    pub async fn post_json<T: DeserializeOwned>(
        &self,
        url: Url,
        body: &serde_json::Value,
    ) -> Result<T, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Decode(e.to_string()))?;
        let request = self
            .request(Method::POST, url)
            .header(CONTENT_TYPE, "application/json")
            .body(bytes);
        execute(request).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, url: Url) -> Result<T, ApiError> {
        execute(self.request(Method::DELETE, url)).await
    }

    pub async fn post_form<T: DeserializeOwned>(
        &self,
        url: Url,
        form: &Form,
    ) -> Result<T, ApiError> {
        let (content_type, body) = form.encode();
        let request = self
            .request(Method::POST, url)
            .header(CONTENT_TYPE, content_type)
            .body(body);
        execute(request).await
    }
}

async fn execute<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(network_message(&e)))?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let body = read_limited(response).await?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| ApiError::Decode(e.to_string()));
    }
    Err(status_error(status, &body, retry_after))
}

fn network_message(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "request timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        error.to_string()
    }
}

fn status_error(status: StatusCode, body: &[u8], retry_after: Option<Duration>) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let detail = parsed
        .detail
        .or(parsed.title)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    ApiError::Status {
        status: status.as_u16(),
        kind: parsed.kind,
        detail,
        retry_after,
    }
}

async fn read_limited(mut response: Response) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ApiError::Network(network_message(&e)))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ApiError::Decode("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, kind: &str) -> ApiError {
        ApiError::Status {
            status,
            kind: Some(format!("errors/{kind}")),
            detail: "detail".into(),
            retry_after: None,
        }
    }

    #[test]
    fn errors_are_judged_by_status_and_type() {
        use ConnectorError as E;
        let cases = [
            (
                status(401, "disconnected_account"),
                Operation::Read,
                E::SessionExpired,
            ),
            (
                status(403, "account_restricted"),
                Operation::Invite,
                E::Restricted("detail".into()),
            ),
            (
                status(422, "cannot_resend_yet"),
                Operation::Invite,
                E::InviteCooldown,
            ),
            (
                status(422, "already_invited_recently"),
                Operation::Invite,
                E::InviteCooldown,
            ),
            (
                status(422, "cannot_invite_attendee"),
                Operation::Invite,
                E::InvitesDisabled,
            ),
            (
                status(422, "no_connection_with_recipient"),
                Operation::Message,
                E::NoLongerInNetwork,
            ),
            (
                status(422, "invalid_recipient"),
                Operation::Message,
                E::Unreachable,
            ),
            (
                status(404, "resource_not_found"),
                Operation::Profile,
                E::Unreachable,
            ),
            (
                status(422, "limit_exceeded"),
                Operation::Invite,
                E::RateLimited {
                    retry_after: Some(INVITATION_LIMIT_BACKOFF),
                },
            ),
        ];
        for (error, operation, expected) in cases {
            assert_eq!(classify(error, operation), expected);
        }
        assert!(matches!(
            classify(
                status(401, "invalid_checkpoint_solution"),
                Operation::Checkpoint
            ),
            E::Rejected(_)
        ));
        assert!(matches!(
            classify(status(403, "feature_not_subscribed"), Operation::Read),
            E::Rejected(_)
        ));
        assert!(matches!(
            classify(status(503, "provider_error"), Operation::Read),
            E::Transient(_)
        ));
        assert!(matches!(
            classify(status(404, "resource_not_found"), Operation::Read),
            E::Rejected(_)
        ));
    }

    #[test]
    fn forms_encode_fields_with_a_safe_boundary() {
        let form = Form::default()
            .text("account_id", "acc")
            .text("text", "Hello\r\nthere");
        let (content_type, body) = form.encode();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap_or_default()
            .to_owned();
        let body = String::from_utf8(body).unwrap_or_default();
        assert!(body.starts_with(&format!("--{boundary}\r\n")));
        assert!(body.contains("name=\"text\"\r\n\r\nHello\r\nthere\r\n"));
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
    }
}
