//! The `LinkedInConnector` contract between the engine and a LinkedIn backend.
//!
//! Rules:
//! - every method takes the agent's [`Account`]; all but [`LinkedInConnector::login`] need its
//!   `provider_account_id` (an account without one gets [`ConnectorError::SessionExpired`]);
//! - time is always a parameter (`Millis`): no connector reads the machine clock to decide
//!   anything, so the simulated clock of the engine drives the sandbox exactly;
//! - profiles are addressed by their LinkedIn profile URL, in any spelling that
//!   [`outbound_core::dnc::slug_of`] accepts;
//! - a send whose outcome is unknown (the process died between the call and recording it) is
//!   never repeated blindly: [`LinkedInConnector::find_sent`] says whether it happened;
//! - errors say what the engine must do: the four refusals that end a conversation map to the
//!   chat status codes 502–505 ([`ConnectorError::chat_status`]), `SessionExpired` puts the agent
//!   in `auth_needed`, `RateLimited` and `Transient` are retried, `Rejected` is permanent.

use async_trait::async_trait;
use outbound_core::conversation::status;
use outbound_core::time::Millis;
use std::fmt;
use std::time::Duration;

/// The LinkedIn account an agent works with.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// Our agent id.
    pub id: String,
    /// The backend's id of the logged-in account (Unipile `account_id`), once known.
    pub provider_account_id: Option<String>,
    /// The LinkedIn login (e-mail or phone).
    pub login: String,
    /// The LinkedIn password (redacted in `Debug`).
    pub password: String,
    /// ISO 3166-1 alpha-2 country used for the backend's proxy, may be empty.
    pub country: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("provider_account_id", &self.provider_account_id)
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .field("country", &self.country)
            .finish()
    }
}

/// What a login (or a checkpoint code) led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The account is connected and usable.
    LoggedIn {
        provider_account_id: String,
        /// The account owner's display name.
        name: String,
        /// URL of the owner's profile picture, when known.
        avatar: Option<String>,
    },
    /// LinkedIn asks for a verification step; solve it with
    /// [`LinkedInConnector::submit_code`] after storing `provider_account_id` on the account.
    Checkpoint {
        kind: CheckpointKind,
        provider_account_id: String,
    },
}

/// The verification LinkedIn asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointKind {
    /// A code from an authenticator app or SMS.
    TwoFactor,
    /// A one-time code sent by e-mail.
    Email,
    /// A captcha that could not be solved automatically.
    Captcha,
    /// Anything else, with the backend's name for it (e.g. `IN_APP_VALIDATION`).
    Other(String),
}

/// A LinkedIn profile as the engine stores it on the prospect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub headline: Option<String>,
    pub about: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub current_company_name: Option<String>,
    pub current_job_title: Option<String>,
    pub current_company_website: Option<String>,
    pub current_company_linkedin_url: Option<String>,
    /// The prospect is already a first-degree connection of the account.
    pub connected: bool,
    /// LinkedIn's internal id of the member (`ACo…`).
    pub provider_id: String,
}

/// A sent invitation or message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The backend's id of what was sent (invitation id, message id).
    pub provider_id: String,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted { at: Millis },
    Declined,
}

/// A message the agent sent in a conversation, as the sandbox needs it to derive replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRef {
    pub at: Millis,
    pub text: String,
}

/// A message from the prospect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Stable id of the message (the same on every listing), for de-duplication.
    pub id: String,
    pub text: String,
    pub at: Millis,
}

/// One person of a Sales Navigator search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub name: String,
    /// `https://linkedin.com/in/<slug>`.
    pub profile_url: String,
}

/// A send whose outcome the engine does not know, for [`LinkedInConnector::find_sent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendProbe<'a> {
    /// An invitation to the profile.
    Invitation,
    /// A message with this text, sent at `at` with this idempotency key.
    Message {
        text: &'a str,
        idempotency_key: &'a str,
        at: Millis,
    },
}

/// Why a connector call failed, in the terms the engine acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The prospect does not accept invitations (chat status 502).
    #[error("the prospect does not accept invitations")]
    InvitesDisabled,
    /// The prospect cannot be reached (chat status 503).
    #[error("the prospect cannot be reached")]
    Unreachable,
    /// The prospect is no longer a connection, so messages cannot be sent (chat status 504).
    #[error("the prospect is no longer in the network")]
    NoLongerInNetwork,
    /// The prospect was invited too recently to be invited again (chat status 505).
    #[error("the prospect was invited too recently")]
    InviteCooldown,
    /// LinkedIn or the backend asks to slow down; retry after the given time when known.
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// The session is gone or the credentials are refused: the agent needs a new login.
    #[error("the LinkedIn session expired")]
    SessionExpired,
    /// LinkedIn restricted the account, or stopped it with a security check mid-session: the
    /// agent must stop at once until a person looks (the circuit breaker).
    #[error("LinkedIn restricted the account: {0}")]
    Restricted(String),
    /// A temporary failure (network, 5xx): retry with backoff.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// A permanent refusal that is none of the above.
    #[error("rejected: {0}")]
    Rejected(String),
}

impl ConnectorError {
    /// The conversation status code this error ends a conversation with (502–505), if any.
    pub fn chat_status(&self) -> Option<i64> {
        match self {
            Self::InvitesDisabled => Some(status::INVITES_DISABLED),
            Self::Unreachable => Some(status::UNREACHABLE),
            Self::NoLongerInNetwork => Some(status::NO_LONGER_IN_NETWORK),
            Self::InviteCooldown => Some(status::INVITE_COOLDOWN),
            _ => None,
        }
    }

    /// Whether the same call may succeed later (rate limits and temporary failures).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient(_))
    }
}

/// A LinkedIn backend: the sandbox network or a real provider.
#[async_trait]
pub trait LinkedInConnector: Send + Sync {
    /// Logs the account in; may stop at a checkpoint.
    async fn login(&self, account: &Account) -> Result<LoginOutcome, ConnectorError>;

    /// Solves a pending checkpoint with the code the user received.
    async fn submit_code(
        &self,
        account: &Account,
        code: &str,
    ) -> Result<LoginOutcome, ConnectorError>;

    /// Looks a profile up.
    async fn profile(
        &self,
        account: &Account,
        profile_url: &str,
    ) -> Result<Profile, ConnectorError>;

    /// Sends an invitation, with an optional note (at most [`MAX_NOTE_CHARS`] characters).
    async fn invite(
        &self,
        account: &Account,
        profile_url: &str,
        note: Option<&str>,
        at: Millis,
    ) -> Result<Sent, ConnectorError>;

    /// Where the invitation sent at `invited_at` stands at `now`.
    async fn invitation_state(
        &self,
        account: &Account,
        profile_url: &str,
        invited_at: Millis,
        now: Millis,
    ) -> Result<InvitationState, ConnectorError>;

    /// Withdraws the pending invitation to the profile; `invitation_id` is what
    /// [`LinkedInConnector::invite`] returned for it. A backend that cannot withdraw answers
    /// `Rejected` (the default).
    async fn withdraw_invitation(
        &self,
        _account: &Account,
        _profile_url: &str,
        _invitation_id: Option<&str>,
    ) -> Result<(), ConnectorError> {
        Err(ConnectorError::Rejected(
            "this LinkedIn backend cannot withdraw invitations".into(),
        ))
    }

    /// Sends a message. A retry of the same send passes the same `idempotency_key` and `at`.
    async fn send_message(
        &self,
        account: &Account,
        profile_url: &str,
        text: &str,
        idempotency_key: &str,
        at: Millis,
    ) -> Result<Sent, ConnectorError>;

    /// The prospect's messages with `since < at <= now`, oldest first. `sent` lists every
    /// message the agent sent in this conversation (the sandbox derives replies from it).
    async fn replies(
        &self,
        account: &Account,
        profile_url: &str,
        since: Millis,
        now: Millis,
        sent: &[SentRef],
    ) -> Result<Vec<Incoming>, ConnectorError>;

    /// Whether the send `probe` to the profile reached LinkedIn (`Some` with what was sent), or
    /// certainly not (`None`). Used to reconcile sends interrupted by a crash.
    async fn find_sent(
        &self,
        account: &Account,
        profile_url: &str,
        probe: SendProbe<'_>,
    ) -> Result<Option<Sent>, ConnectorError>;

    /// Up to `count` people of a Sales Navigator search URL.
    async fn search_sales_navigator(
        &self,
        account: &Account,
        search_url: &str,
        count: u32,
    ) -> Result<Vec<SearchHit>, ConnectorError>;
}

/// Longest invitation note LinkedIn accepts.
pub const MAX_NOTE_CHARS: usize = 300;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_chat_statuses() {
        assert_eq!(ConnectorError::InvitesDisabled.chat_status(), Some(502));
        assert_eq!(ConnectorError::Unreachable.chat_status(), Some(503));
        assert_eq!(ConnectorError::NoLongerInNetwork.chat_status(), Some(504));
        assert_eq!(ConnectorError::InviteCooldown.chat_status(), Some(505));
        assert_eq!(ConnectorError::SessionExpired.chat_status(), None);
        assert!(ConnectorError::Transient("x".into()).is_retryable());
        assert!(!ConnectorError::Rejected("x".into()).is_retryable());
    }

    #[test]
    fn account_debug_hides_the_password() {
        let account = Account {
            id: "a".into(),
            provider_account_id: None,
            login: "sam@example.com".into(),
            password: "hunter2".into(),
            country: "FR".into(),
        };
        assert!(!format!("{account:?}").contains("hunter2"));
    }
}
