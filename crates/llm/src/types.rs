//! What goes into a model and what comes out of it.
//!
//! Rule: requests carry finished text — the system part, the instruction of the prompt section
//! for this purpose and the conversation so far — so a model never renders variables and never
//! reads the store. In a history, `Assistant` is the agent (us) and `User` is the prospect.

use serde::{Deserialize, Serialize};

/// `max_tokens` used when a request asks for 0.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;
/// LinkedIn's limit on the note of an invitation, in characters.
pub const INVITATION_NOTE_MAX_CHARS: usize = 300;

/// Who wrote a turn of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The agent: messages we sent.
    Assistant,
    /// The prospect: messages we received.
    User,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatTurn {
    pub role: Role,
    pub content: String,
}

impl ChatTurn {
    /// A message the prospect sent.
    pub fn user(content: impl Into<String>) -> ChatTurn {
        ChatTurn {
            role: Role::User,
            content: content.into(),
        }
    }

    /// A message the agent sent.
    pub fn assistant(content: impl Into<String>) -> ChatTurn {
        ChatTurn {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Which message is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Purpose {
    /// The first message after the invitation was accepted.
    FirstMessage,
    /// Follow-up number `n` (1-based) to a prospect who has not replied.
    FollowUp(u8),
    /// The answer to the prospect's latest message.
    Reply,
    /// The note sent with an invitation (at most [`INVITATION_NOTE_MAX_CHARS`]).
    InvitationNote,
}

/// A request for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationRequest {
    pub purpose: Purpose,
    /// Rendered context of the prompt, the offering's description and writing guidelines.
    pub system: String,
    /// The rendered prompt section for this purpose (first message, follow-up n, …); may be
    /// empty, e.g. for replies.
    pub instruction: String,
    /// The conversation so far, oldest first.
    pub history: Vec<ChatTurn>,
    pub prospect_name: String,
    /// The offering's description (the offline model answers questions from it).
    pub offering: String,
    /// Upper bound of the answer's length in tokens; 0 means [`DEFAULT_MAX_TOKENS`].
    pub max_tokens: u32,
}

impl GenerationRequest {
    /// `max_tokens`, or [`DEFAULT_MAX_TOKENS`] when it is 0.
    pub fn effective_max_tokens(&self) -> u32 {
        if self.max_tokens == 0 {
            DEFAULT_MAX_TOKENS
        } else {
            self.max_tokens
        }
    }
}

/// Tokens a call consumed, as the provider counted them (estimated when it did not say).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input: u32,
    pub output: u32,
}

impl TokenUsage {
    /// Input plus output.
    pub fn total(self) -> u32 {
        self.input.saturating_add(self.output)
    }
}

/// A written message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub text: String,
    pub usage: TokenUsage,
}

/// A request to score a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationRequest {
    /// Rendered context of the prompt and the offering's description.
    pub system: String,
    /// What makes a prospect qualified for this campaign.
    pub criteria: String,
    /// The conversation so far, oldest first.
    pub history: Vec<ChatTurn>,
}

/// The score of a conversation: 0 (not qualified at all) to 100 (clearly qualified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub score: u8,
    pub reason: String,
    pub usage: TokenUsage,
}
