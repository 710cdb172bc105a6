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

/// SQLite result codes (primary, the low byte of extended codes) that mean "not now":
/// `SQLITE_BUSY`, `SQLITE_LOCKED`, `SQLITE_FULL`.
const SQLITE_UNAVAILABLE: [u32; 3] = [5, 6, 13];
/// PostgreSQL SQLSTATEs that mean the server cannot serve: the connection-exception class and
/// `admin_shutdown`, `crash_shutdown`, `cannot_connect_now`, `too_many_connections`.
const POSTGRES_UNAVAILABLE: [&str; 4] = ["57P01", "57P02", "57P03", "53300"];

impl StoreError {
    /// Whether the database could not serve the call (unreachable, shutting down, busy past its
    /// timeout, out of space), as opposed to refusing it or a bug: the caller may try again
    /// later, and nothing was written.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(error) = self else {
            return false;
        };
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                let code = code.as_ref();
                code.starts_with("08")
                    || POSTGRES_UNAVAILABLE.contains(&code)
                    || code
                        .parse::<u32>()
                        .is_ok_and(|n| SQLITE_UNAVAILABLE.contains(&(n & 0xff)))
            }),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_database_that_cannot_serve_is_unavailable() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolClosed).is_unavailable());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(StoreError::Database(sqlx::Error::Io(refused)).is_unavailable());
        assert!(!StoreError::NotFound.is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt("x".to_owned()).is_unavailable());
    }
}
