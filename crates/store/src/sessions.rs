//! Sign-in sessions of the dashboard. A session is opened with a live API key and belongs to it:
//! the cookie holds an opaque id, the database only its SHA-256 (like the keys themselves).
//!
//! Rules:
//! - a session is found only while its key is live, its team's subscription active, it has been
//!   used within the idle limit and its absolute expiry has not passed; revoking the key, or
//!   signing out, ends it on the next request;
//! - use is recorded at most once per [`TOUCH_EVERY`], and only when a writer is free, so
//!   reading pages neither writes a row per request nor waits on a write;
//! - a new sign-in always makes a new session (no id is ever reused, against fixation).

use outbound_core::plan::Plan;
use outbound_core::time::Millis;

use crate::{StoreError, StoreResult};

/// How stale `last_seen_at` may get before a request records its use again, in milliseconds.
pub const TOUCH_EVERY: Millis = 60_000;

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Unused for this long (ms), a session ends.
    pub idle: Millis,
    /// This long (ms) after sign-in, a session ends however used.
    pub absolute: Millis,
}

/// A live session and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub team_id: String,
    pub team_name: String,
    pub plan: Plan,
    pub api_key_id: String,
    pub api_key_name: String,
    /// The synchronizer token every state-changing request must carry.
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[async_trait::async_trait]
pub trait SessionStore {
    /// Opens a session for the live key with this hash (`None`: no such key, or the team's
    /// subscription is inactive). `id_hash` is the SHA-256 of the cookie's id.
    async fn open_session(
        &self,
        key_hash: &str,
        id_hash: &str,
        csrf_token: &str,
        now: Millis,
        limits: SessionLimits,
    ) -> StoreResult<Option<Session>>;
    /// The live session with this id hash, its use recorded.
    async fn session(
        &self,
        id_hash: &str,
        now: Millis,
        limits: SessionLimits,
    ) -> StoreResult<Option<Session>>;
    /// Ends the session (signing out); ending an unknown one is not an error.
    async fn close_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Deletes the sessions that ended before `now`; how many.
    async fn purge_sessions(&self, now: Millis, limits: SessionLimits) -> StoreResult<u64>;
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    team_id: String,
    team_name: String,
    plan: String,
    api_key_id: String,
    api_key_name: String,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> StoreResult<Session> {
        Ok(Session {
            plan: row
                .plan
                .parse()
                .map_err(|e: outbound_core::plan::UnknownPlan| {
                    StoreError::Corrupt(e.to_string())
                })?,
            team_id: row.team_id,
            team_name: row.team_name,
            api_key_id: row.api_key_id,
            api_key_name: row.api_key_name,
            csrf_token: row.csrf_token,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// The session of `id_hash` with its key and team, live or not (the caller checks).
const SELECT_SESSION: &str = "SELECT s.team_id, t.name AS team_name, t.plan, s.api_key_id, \
     k.name AS api_key_name, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at \
     FROM dashboard_sessions s JOIN api_keys k ON k.id = s.api_key_id \
     JOIN teams t ON t.id = s.team_id \
     WHERE s.id_hash = $1 AND k.revoked_at IS NULL AND t.subscription_active";

/// Whether a session last used at `last_seen_at` and ending at `expires_at` is live at `now`.
fn is_live(last_seen_at: Millis, expires_at: Millis, now: Millis, limits: SessionLimits) -> bool {
    now < expires_at && now - last_seen_at < limits.idle
}

macro_rules! impl_session_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl SessionStore for $store {
            async fn open_session(
                &self,
                key_hash: &str,
                id_hash: &str,
                csrf_token: &str,
                now: Millis,
                limits: SessionLimits,
            ) -> StoreResult<Option<Session>> {
                let mut tx = self.begin_write().await?;
                let key: Option<(String, String)> = sqlx::query_as(
                    "SELECT k.id, k.team_id FROM api_keys k JOIN teams t ON t.id = k.team_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND t.subscription_active",
                )
                .bind(key_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((key_id, team_id)) = key else {
                    return Ok(None);
                };
                sqlx::query(
                    "INSERT INTO dashboard_sessions (id_hash, team_id, api_key_id, csrf_token, \
                     created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
                )
                .bind(id_hash)
                .bind(&team_id)
                .bind(&key_id)
                .bind(csrf_token)
                .bind(now)
                .bind(now.saturating_add(limits.absolute))
                .execute(&mut *tx)
                .await?;
                let row = sqlx::query_as::<_, SessionRow>(SELECT_SESSION)
                    .bind(id_hash)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Session::try_from(row).map(Some)
            }

            async fn session(
                &self,
                id_hash: &str,
                now: Millis,
                limits: SessionLimits,
            ) -> StoreResult<Option<Session>> {
                let Some(row) = sqlx::query_as::<_, SessionRow>(SELECT_SESSION)
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                if !is_live(row.last_seen_at, row.expires_at, now, limits) {
                    return Ok(None);
                }
                // Recorded only when a writer is free: a page never waits on this write, and a
                // skipped one is made by a later request.
                if now - row.last_seen_at >= TOUCH_EVERY
                    && let Some(mut writer) = self.try_writer()
                    && let Err(error) = sqlx::query(
                        "UPDATE dashboard_sessions SET last_seen_at = $2 \
                         WHERE id_hash = $1 AND last_seen_at < $2",
                    )
                    .bind(id_hash)
                    .bind(now)
                    .execute(&mut *writer)
                    .await
                {
                    tracing::warn!(%error, "a session's last use was not recorded");
                }
                Session::try_from(row).map(Some)
            }

            async fn close_session(&self, id_hash: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM dashboard_sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn purge_sessions(&self, now: Millis, limits: SessionLimits) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "DELETE FROM dashboard_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - limits.idle)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_session_store!(crate::sqlite::SqliteStore);
impl_session_store!(crate::postgres::PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SessionLimits = SessionLimits {
        idle: 1_000,
        absolute: 10_000,
    };

    #[test]
    fn a_session_ends_when_idle_or_past_its_expiry() {
        assert!(is_live(0, 10_000, 999, LIMITS));
        assert!(!is_live(0, 10_000, 1_000, LIMITS), "idle");
        assert!(is_live(9_500, 10_000, 9_999, LIMITS));
        assert!(!is_live(9_999, 10_000, 10_000, LIMITS), "absolute");
    }
}
