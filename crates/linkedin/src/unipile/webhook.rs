//! Unipile webhook ingress: the payloads of new messages, new relations and account status
//! changes, read into [`WebhookEvent`]s. Pure functions, no IO.
//!
//! Rules:
//! - `messaging` payloads (`event: "message_received"`) become [`WebhookKind::NewMessage`]
//!   unless the connected account wrote the message itself (from another device:
//!   `sender.attendee_provider_id == account_info.user_id`, or `is_sender`); read receipts and
//!   reactions are ignored (`Ok(None)`);
//! - `users` payloads (`event: "new_relation"`, flat `user_*` fields or a nested `user` object)
//!   become [`WebhookKind::NewRelation`]; they carry no time, so the relation is dated
//!   `received_at`;
//! - `account_status` payloads (`{"AccountStatus": {…}}`) become [`WebhookKind::AccountStatus`],
//!   with `needs_auth` for `CREDENTIALS`;
//! - payloads of other providers (`account_type` other than `LINKEDIN`) are ignored;
//! - a webhook is trusted only when it carries the shared secret registered with it
//!   ([`verify_secret`] on the [`SECRET_HEADER`] header).

use super::wire::{non_blank, parse_iso, truthy};
use outbound_core::dnc::{CANONICAL_PREFIX, normalize_linkedin_url};
use outbound_core::time::Millis;
use serde_json::Value;

/// The header that carries the shared secret registered with the webhook.
pub const SECRET_HEADER: &str = "X-Outbound-Webhook-Secret";
/// The account status that means the user must log in again.
const CREDENTIALS_STATUS: &str = "CREDENTIALS";
const LINKEDIN: &str = "LINKEDIN";

/// Who a webhook is about: LinkedIn's member id and/or the canonical profile URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRef {
    pub provider_id: Option<String>,
    /// `https://linkedin.com/in/<slug>`.
    pub profile_url: Option<String>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookKind {
    /// The prospect wrote to the account.
    NewMessage {
        from: ProfileRef,
        chat_id: Option<String>,
        message_id: Option<String>,
        /// The message text; empty for an attachment without text.
        text: String,
        at: Millis,
    },
    /// The prospect is now a connection (an invitation was accepted).
    NewRelation { profile: ProfileRef, at: Millis },
    /// The account's connection changed (`OK`, `CREDENTIALS`, `ERROR`, `STOPPED`, …).
    AccountStatus { status: String, needs_auth: bool },
}

/// One event for one connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Unipile's `account_id` (our agent's `provider_account_id`).
    pub account_id: String,
    pub kind: WebhookKind,
}

/// A payload that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook body is not a JSON object")]
    NotJson,
    #[error("the webhook has no account_id")]
    MissingAccount,
}

fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

/// Reads one webhook body received at `received_at`; `Ok(None)` for events we do not act on.
pub fn parse_webhook(
    body: &[u8],
    received_at: Millis,
) -> Result<Option<WebhookEvent>, WebhookError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| WebhookError::NotJson)?;
    if !value.is_object() {
        return Err(WebhookError::NotJson);
    }
    if let Some(status) = value.get("AccountStatus") {
        return account_status(status).map(Some);
    }
    if text_at(&value, &["account_type"]).is_some_and(|t| !t.eq_ignore_ascii_case(LINKEDIN)) {
        return Ok(None);
    }
    let account_id = owned(text_at(&value, &["account_id"])).ok_or(WebhookError::MissingAccount)?;
    let kind = match text_at(&value, &["event"]) {
        Some("message_received") => new_message(&value, received_at),
        Some("new_relation") => Some(new_relation(&value, received_at)),
        _ => None,
    };
    Ok(kind.map(|kind| WebhookEvent { account_id, kind }))
}

fn account_status(status: &Value) -> Result<WebhookEvent, WebhookError> {
    let account_id = owned(text_at(status, &["account_id"])).ok_or(WebhookError::MissingAccount)?;
    let message = text_at(status, &["message"])
        .unwrap_or("UNKNOWN")
        .to_owned();
    Ok(WebhookEvent {
        account_id,
        kind: WebhookKind::AccountStatus {
            needs_auth: message.eq_ignore_ascii_case(CREDENTIALS_STATUS),
            status: message,
        },
    })
}

fn new_message(value: &Value, received_at: Millis) -> Option<WebhookKind> {
    let sender_id = text_at(value, &["sender", "attendee_provider_id"]);
    let own_id = text_at(value, &["account_info", "user_id"]);
    let from_account =
        value.get("is_sender").is_some_and(truthy) || (sender_id.is_some() && sender_id == own_id);
    if from_account {
        return None;
    }
    let text = match value.get("message") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(message) => owned(text_at(message, &["text"])),
        None => None,
    }
    .or_else(|| owned(text_at(value, &["text"])))
    .unwrap_or_default();
    let at = text_at(value, &["timestamp"])
        .and_then(parse_iso)
        .unwrap_or(received_at);
    Some(WebhookKind::NewMessage {
        from: ProfileRef {
            provider_id: owned(sender_id),
            profile_url: text_at(value, &["sender", "attendee_profile_url"])
                .and_then(normalize_linkedin_url),
        },
        chat_id: owned(text_at(value, &["chat_id"])),
        message_id: owned(text_at(value, &["message_id"])),
        text: text.trim().to_owned(),
        at,
    })
}

fn new_relation(value: &Value, received_at: Millis) -> WebhookKind {
    let field = |flat: &str, nested: &str| {
        text_at(value, &[flat]).or_else(|| text_at(value, &["user", nested]))
    };
    let profile_url = field("user_profile_url", "profile_url")
        .and_then(normalize_linkedin_url)
        .or_else(|| {
            non_blank(owned(field("user_public_identifier", "public_identifier")))
                .and_then(|slug| normalize_linkedin_url(&format!("{CANONICAL_PREFIX}{slug}")))
        });
    WebhookKind::NewRelation {
        profile: ProfileRef {
            provider_id: owned(field("user_provider_id", "provider_id")),
            profile_url,
        },
        at: received_at,
    }
}

/// Whether `provided` (the [`SECRET_HEADER`] value) equals `expected`, in constant time.
pub fn verify_secret(provided: Option<&str>, expected: &str) -> bool {
    let Some(provided) = provided else {
        return false;
    };
    if expected.is_empty() || provided.len() != expected.len() {
        return false;
    }
    provided
        .bytes()
        .zip(expected.bytes())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(verify_secret(Some("s3cret"), "s3cret"));
        assert!(!verify_secret(Some("s3cre"), "s3cret"));
        assert!(!verify_secret(Some("s3creT"), "s3cret"));
        assert!(!verify_secret(None, "s3cret"));
        assert!(!verify_secret(Some(""), ""));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(parse_webhook(b"not json", 0), Err(WebhookError::NotJson));
        assert_eq!(parse_webhook(b"[1]", 0), Err(WebhookError::NotJson));
        assert_eq!(
            parse_webhook(br#"{"event":"message_received"}"#, 0),
            Err(WebhookError::MissingAccount)
        );
    }
}
