//! The errors a store method returns: domain refusals, then database faults.

use outbound_core::agent::AgentStatus;
use outbound_core::validation::FieldError;

/// Why a store call did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row with that id for that team.
    #[error("not found")]
    NotFound,
    /// The team's plan allows no more of this kind.
    #[error("plan limit reached: at most {limit} {what}")]
    QuotaReached { what: &'static str, limit: u32 },
    /// The row exists already (a unique key).
    #[error("already exists")]
    AlreadyExists,
    /// The agent's status does not allow the action.
    #[error("invalid agent status {0}")]
    InvalidStatus(AgentStatus),
    /// The agent has alerts that must be cleared first.
    #[error("the agent has active alerts")]
    AgentHasAlerts,
    /// The merged result of an update breaks a rule.
    #[error("invalid update")]
    Invalid(Vec<FieldError>),
    /// A campaign must be paused (or not yet started, or completed) before it is deleted.
    #[error("the campaign is active")]
    CampaignActive,
    /// A prospect must have every conversation paused or finished before it is deleted.
    #[error("the prospect has an active conversation")]
    ProspectActive,
    /// An import into the campaign (or one of the agent's campaigns) is queued or running.
    #[error("an import is running for this campaign")]
    CampaignBusy,
    /// The draft was already decided (or expired, sent, superseded).
    #[error("the draft is {}", .0.as_str())]
    DraftNotPending(outbound_core::review::DraftStatus),
    /// The prospect is on the team's Do-Not-Contact list.
    #[error("the prospect is on the Do-Not-Contact list")]
    ProspectOnDnc,
    /// A row the request names by id does not exist in the team; the text says which, for
    /// people (e.g. `Product not found`).
    #[error("{0}")]
    MissingReference(&'static str),
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;
