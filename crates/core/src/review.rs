//! Human review of what the AI writes: a campaign's review mode, the drafts waiting for a person
//! and who wrote each message.
//!
//! Rules:
//! - `off` (the default, Kakiyo's behaviour) sends what the AI writes; `first_message` holds the
//!   first message of each conversation for a person; `all` holds every AI-written message;
//! - a held message is a draft: `pending` until a person approves (it is then sent, at most
//!   once, by the engine), rejects, or it expires; it is `superseded` when the conversation
//!   changes first (a reply, a pause, the DNC list, a person's own message) and is then never
//!   sent;
//! - only a `pending` draft can be approved or rejected.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::time::Millis;

/// How long a pending draft waits for a person before it expires, by default: 72 hours.
pub const DEFAULT_DRAFT_TTL: Millis = 72 * 60 * 60 * 1000;
/// Longest text a person may write or edit, in characters (LinkedIn's message limit).
pub const MAX_MESSAGE_LEN: usize = 8000;
/// Longest rejection reason, in characters.
pub const MAX_REASON_LEN: usize = 1000;

/// Which AI messages of a campaign wait for a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    /// Every message is sent as the AI wrote it.
    #[default]
    Off,
    /// The first message of each conversation waits for approval.
    FirstMessage,
    /// Every AI-written message waits for approval.
    All,
}

impl ReviewMode {
    pub const ALL: [ReviewMode; 3] = [ReviewMode::Off, ReviewMode::FirstMessage, ReviewMode::All];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewMode::Off => "off",
            ReviewMode::FirstMessage => "first_message",
            ReviewMode::All => "all",
        }
    }

    pub fn parse(value: &str) -> Option<ReviewMode> {
        ReviewMode::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// Whether a message of `kind` waits for a person under this mode.
    pub fn holds(self, kind: DraftKind) -> bool {
        match self {
            ReviewMode::Off => false,
            ReviewMode::FirstMessage => kind == DraftKind::FirstMessage,
            ReviewMode::All => true,
        }
    }
}

/// What a draft is in its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    FirstMessage,
    FollowUp,
    Reply,
}

impl DraftKind {
    pub const ALL: [DraftKind; 3] = [
        DraftKind::FirstMessage,
        DraftKind::FollowUp,
        DraftKind::Reply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftKind::FirstMessage => "first_message",
            DraftKind::FollowUp => "follow_up",
            DraftKind::Reply => "reply",
        }
    }

    pub fn parse(value: &str) -> Option<DraftKind> {
        DraftKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Waiting for a person.
    Pending,
    /// Approved: the engine sends it in the agent's working hours.
    Approved,
    Rejected,
    /// Nobody decided in time.
    Expired,
    Sent,
    /// The conversation changed before it was sent.
    Superseded,
}

impl DraftStatus {
    pub const ALL: [DraftStatus; 6] = [
        DraftStatus::Pending,
        DraftStatus::Approved,
        DraftStatus::Rejected,
        DraftStatus::Expired,
        DraftStatus::Sent,
        DraftStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Pending => "pending",
            DraftStatus::Approved => "approved",
            DraftStatus::Rejected => "rejected",
            DraftStatus::Expired => "expired",
            DraftStatus::Sent => "sent",
            DraftStatus::Superseded => "superseded",
        }
    }

    pub fn parse(value: &str) -> Option<DraftStatus> {
        DraftStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Who wrote a message of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The AI, through the agent.
    Ai,
    /// A person of the team, through the agent (a take-over).
    Person,
    /// The prospect.
    Prospect,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Ai => "ai",
            Author::Person => "person",
            Author::Prospect => "prospect",
        }
    }

    pub fn parse(value: &str) -> Option<Author> {
        [Author::Ai, Author::Person, Author::Prospect]
            .into_iter()
            .find(|a| a.as_str() == value)
    }
}

/// Checks a message a person writes into a conversation (the `/v1` take-over route, the
/// dashboard's composer): not blank, at most [`MAX_MESSAGE_LEN`] characters. The text to send
/// is the trimmed one.
pub fn check_person_message(problems: &mut crate::validation::Problems, field: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        problems.add(field, "Write the message to send");
    } else if text.chars().count() > MAX_MESSAGE_LEN {
        problems.add(
            field,
            format!("At most {MAX_MESSAGE_LEN} characters (LinkedIn's limit)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_holds_what_it_says() {
        let kinds = DraftKind::ALL;
        assert!(kinds.iter().all(|k| !ReviewMode::Off.holds(*k)));
        assert!(kinds.iter().all(|k| ReviewMode::All.holds(*k)));
        let held: Vec<DraftKind> = kinds
            .into_iter()
            .filter(|k| ReviewMode::FirstMessage.holds(*k))
            .collect();
        assert_eq!(held, [DraftKind::FirstMessage]);
    }

    #[test]
    fn names_round_trip() {
        for mode in ReviewMode::ALL {
            assert_eq!(ReviewMode::parse(mode.as_str()), Some(mode));
        }
        for status in DraftStatus::ALL {
            assert_eq!(DraftStatus::parse(status.as_str()), Some(status));
        }
        for kind in DraftKind::ALL {
            assert_eq!(DraftKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReviewMode::parse("sometimes"), None);
    }
}
