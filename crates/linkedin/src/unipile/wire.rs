//! Unipile's answers as far as we read them.
//!
//! Rule: every field is optional or defaulted, so that an answer with more, fewer or
//! differently typed fields than documented still reads; the caller decides which absences
//! matter.

use chrono::DateTime;
use outbound_core::time::Millis;
use serde::Deserialize;
use serde_json::Value;

/// Timestamps below this are taken as Unix seconds rather than milliseconds.
const SECONDS_THRESHOLD: f64 = 100_000_000_000.0;

/// `POST /accounts`, `POST /accounts/{id}` and `POST /accounts/checkpoint`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountAnswer {
    pub object: Option<String>,
    pub account_id: Option<String>,
    pub checkpoint: Option<CheckpointWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckpointWire {
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `GET /users/me`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OwnProfile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub profile_picture_url: Option<String>,
}

/// `GET /users/{identifier}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserProfile {
    pub provider_id: Option<String>,
    pub public_identifier: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub headline: Option<String>,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub network_distance: Option<String>,
    pub is_relationship: Option<bool>,
    pub invitation: Option<InvitationWire>,
    pub work_experience: Vec<Experience>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InvitationWire {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Experience {
    pub position: Option<String>,
    pub company: Option<String>,
    pub company_id: Option<String>,
    pub current: Option<bool>,
    pub end: Option<String>,
}

impl Experience {
    /// A current position: flagged so, or without an end.
    pub fn is_current(&self) -> bool {
        self.current
            .unwrap_or_else(|| self.end.as_deref().is_none_or(|end| end.trim().is_empty()))
    }
}

/// `GET /linkedin/company/{identifier}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CompanyProfile {
    pub website: Option<String>,
    pub profile_url: Option<String>,
    pub public_identifier: Option<String>,
}

/// `POST /users/invite`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InvitationSent {
    pub invitation_id: Option<String>,
}

/// Any cursor-paginated list.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub cursor: Option<Value>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            cursor: None,
        }
    }
}

impl<T> Page<T> {
    /// The cursor of the next page, if there is one.
    pub fn next_cursor(&self) -> Option<String> {
        match &self.cursor {
            Some(Value::String(cursor)) if !cursor.is_empty() => Some(cursor.clone()),
            _ => None,
        }
    }
}

/// An item of `GET /users/relations`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Relation {
    pub public_identifier: Option<String>,
    pub member_id: Option<String>,
    pub created_at: Option<Value>,
}

/// An item of `GET /chat_attendees/{id}/chats`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Chat {
    pub id: Option<String>,
}

/// An item of `GET /chats/{id}/messages`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Message {
    pub id: Option<String>,
    pub provider_id: Option<String>,
    pub text: Option<String>,
    pub timestamp: Option<Value>,
    pub is_sender: Option<Value>,
}

impl Message {
    /// Whether the connected account wrote it (`is_sender` is `1`/`true`).
    pub fn written_by_account(&self) -> bool {
        self.is_sender.as_ref().is_some_and(truthy)
    }

    pub fn at(&self) -> Option<Millis> {
        self.timestamp.as_ref().and_then(timestamp)
    }

    pub fn stable_id(&self) -> Option<String> {
        self.id.clone().or_else(|| self.provider_id.clone())
    }
}

/// `POST /chats`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChatStarted {
    pub chat_id: Option<String>,
    pub message_id: Option<String>,
}

/// `POST /chats/{id}/messages`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessageSent {
    pub message_id: Option<String>,
}

/// An item of `POST /linkedin/search`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchItem {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub public_identifier: Option<String>,
    pub public_profile_url: Option<String>,
    pub profile_url: Option<String>,
}

/// `1`, `true` or `"1"`/`"true"`.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    }
}

/// An ISO-8601 string or a Unix timestamp (seconds or milliseconds) as milliseconds.
pub fn timestamp(value: &Value) -> Option<Millis> {
    match value {
        Value::String(text) => {
            parse_iso(text).or_else(|| text.trim().parse::<f64>().ok().and_then(number_millis))
        }
        Value::Number(n) => n.as_f64().and_then(number_millis),
        _ => None,
    }
}

/// An ISO-8601 (RFC 3339) time as milliseconds.
pub fn parse_iso(text: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

fn number_millis(n: f64) -> Option<Millis> {
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let millis = if n < SECONDS_THRESHOLD { n * 1000.0 } else { n };
    // Finite, positive and far below i64::MAX for any real date.
    Some(millis as Millis)
}

/// `Some(text)` unless blank.
pub fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// "First Last" from optional parts, `None` when both are blank.
pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_read_in_every_form() {
        let iso = json!("2026-05-02T10:14:00.000Z");
        assert_eq!(timestamp(&iso), Some(1_777_716_840_000));
        assert_eq!(
            timestamp(&json!(1_777_716_840_000i64)),
            Some(1_777_716_840_000)
        );
        assert_eq!(timestamp(&json!(1_777_716_840)), Some(1_777_716_840_000));
        assert_eq!(timestamp(&json!(null)), None);
    }

    #[test]
    fn flags_and_names() {
        assert!(truthy(&json!(1)) && truthy(&json!(true)) && !truthy(&json!(0)));
        assert_eq!(
            full_name(Some("Jane"), Some(" Doe ")).as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(full_name(None, Some(" ")), None);
    }
}
