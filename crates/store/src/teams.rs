//! Teams (tenants) and API keys. A key is looked up only by its SHA-256; a revoked key stops
//! authenticating on the next request, since nothing is cached. A key's last use is recorded
//! by the lookup at most once per [`KEY_USE_RESOLUTION`], and only when a writer is free, so
//! authentication rarely writes and never waits on a write.

use outbound_core::ids::new_id;
use outbound_core::plan::Plan;
use outbound_core::time::{Millis, now_millis};

use crate::{StoreError, StoreResult};

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    pub subscription_active: bool,
    pub created_at: Millis,
}

/// An API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
    /// When it last authenticated a request, to within [`KEY_USE_RESOLUTION`] (a moment when
    /// every writer was busy may leave it older).
    pub last_used_at: Option<Millis>,
}

/// How stale a key's `last_used_at` may get before a request records its use again, in
/// milliseconds: authentication writes at most once a minute per key.
pub const KEY_USE_RESOLUTION: Millis = 60_000;

/// The team an API key authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    pub team_id: String,
    pub plan: Plan,
    pub subscription_active: bool,
}

/// Changes to a team; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct TeamChanges {
    pub plan: Option<Plan>,
    pub subscription_active: Option<bool>,
}

#[async_trait::async_trait]
pub trait TeamStore {
    async fn create_team(&self, name: &str, plan: Plan) -> StoreResult<Team>;
    async fn list_teams(&self) -> StoreResult<Vec<Team>>;
    async fn get_team(&self, team: &str) -> StoreResult<Team>;
    async fn update_team(&self, team: &str, changes: TeamChanges) -> StoreResult<Team>;
    /// Creates a team with one key when the database has no team; `None` when it had one.
    async fn bootstrap_team(
        &self,
        name: &str,
        plan: Plan,
        key_name: &str,
        key_hash: &str,
    ) -> StoreResult<Option<Team>>;
    async fn create_api_key(
        &self,
        team: &str,
        name: &str,
        key_hash: &str,
    ) -> StoreResult<ApiKeyInfo>;
    async fn list_api_keys(&self, team: &str) -> StoreResult<Vec<ApiKeyInfo>>;
    async fn revoke_api_key(&self, key_id: &str) -> StoreResult<ApiKeyInfo>;
    /// Revokes the team's key `key_id` (another team's is [`StoreError::NotFound`]).
    async fn revoke_team_api_key(&self, team: &str, key_id: &str) -> StoreResult<ApiKeyInfo>;
    /// The owner of the live (not revoked) key with this hash.
    async fn key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>>;
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: String,
    name: String,
    plan: String,
    subscription_active: bool,
    created_at: i64,
}

impl TryFrom<TeamRow> for Team {
    type Error = StoreError;

    fn try_from(row: TeamRow) -> StoreResult<Team> {
        Ok(Team {
            plan: parse_plan(&row.plan)?,
            id: row.id,
            name: row.name,
            subscription_active: row.subscription_active,
            created_at: row.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    team_id: String,
    name: String,
    created_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl From<ApiKeyRow> for ApiKeyInfo {
    fn from(row: ApiKeyRow) -> Self {
        ApiKeyInfo {
            id: row.id,
            team_id: row.team_id,
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct OwnerRow {
    key_id: String,
    last_used_at: Option<i64>,
    team_id: String,
    plan: String,
    subscription_active: bool,
}

const SELECT_TEAM: &str =
    "SELECT id, name, plan, subscription_active, created_at FROM teams WHERE id = $1";
const INSERT_TEAM: &str = "INSERT INTO teams (id, name, plan, subscription_active, created_at) VALUES ($1, $2, $3, TRUE, $4)";
const INSERT_KEY: &str =
    "INSERT INTO api_keys (id, team_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)";
const SELECT_KEY: &str = "SELECT id, team_id, name, created_at, revoked_at, last_used_at \
     FROM api_keys WHERE id = $1";

fn parse_plan(stored: &str) -> StoreResult<Plan> {
    stored
        .parse()
        .map_err(|e: outbound_core::plan::UnknownPlan| StoreError::Corrupt(e.to_string()))
}

fn new_team(name: &str, plan: Plan) -> Team {
    Team {
        id: new_id(),
        name: name.to_owned(),
        plan,
        subscription_active: true,
        created_at: now_millis(),
    }
}

macro_rules! impl_team_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl TeamStore for $store {
            async fn create_team(&self, name: &str, plan: Plan) -> StoreResult<Team> {
                let team = new_team(name, plan);
                let mut tx = self.begin_write().await?;
                sqlx::query(INSERT_TEAM)
                    .bind(&team.id)
                    .bind(&team.name)
                    .bind(team.plan.as_str())
                    .bind(team.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(team)
            }

            async fn list_teams(&self) -> StoreResult<Vec<Team>> {
                sqlx::query_as::<_, TeamRow>(
                    "SELECT id, name, plan, subscription_active, created_at FROM teams \
                     ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(Team::try_from)
                .collect()
            }

            async fn get_team(&self, team: &str) -> StoreResult<Team> {
                sqlx::query_as::<_, TeamRow>(SELECT_TEAM)
                    .bind(team)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn update_team(&self, team: &str, changes: TeamChanges) -> StoreResult<Team> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query_as::<_, TeamRow>(SELECT_TEAM)
                    .bind(team)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let mut updated = Team::try_from(row)?;
                if let Some(plan) = changes.plan {
                    updated.plan = plan;
                }
                if let Some(active) = changes.subscription_active {
                    updated.subscription_active = active;
                }
                sqlx::query("UPDATE teams SET plan = $2, subscription_active = $3 WHERE id = $1")
                    .bind(team)
                    .bind(updated.plan.as_str())
                    .bind(updated.subscription_active)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(updated)
            }

            async fn bootstrap_team(
                &self,
                name: &str,
                plan: Plan,
                key_name: &str,
                key_hash: &str,
            ) -> StoreResult<Option<Team>> {
                let mut tx = self.begin_write().await?;
                Self::lock_bootstrap(&mut tx).await?;
                let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM teams")
                    .fetch_one(&mut *tx)
                    .await?;
                if existing > 0 {
                    return Ok(None);
                }
                let team = new_team(name, plan);
                sqlx::query(INSERT_TEAM)
                    .bind(&team.id)
                    .bind(&team.name)
                    .bind(team.plan.as_str())
                    .bind(team.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_KEY)
                    .bind(new_id())
                    .bind(&team.id)
                    .bind(key_name)
                    .bind(key_hash)
                    .bind(team.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(team))
            }

            async fn create_api_key(
                &self,
                team: &str,
                name: &str,
                key_hash: &str,
            ) -> StoreResult<ApiKeyInfo> {
                let mut tx = self.begin_write().await?;
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                        .bind(team)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                let key = ApiKeyInfo {
                    id: new_id(),
                    team_id: team.to_owned(),
                    name: name.to_owned(),
                    created_at: now_millis(),
                    revoked_at: None,
                    last_used_at: None,
                };
                sqlx::query(INSERT_KEY)
                    .bind(&key.id)
                    .bind(team)
                    .bind(name)
                    .bind(key_hash)
                    .bind(key.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(key)
            }

            async fn list_api_keys(&self, team: &str) -> StoreResult<Vec<ApiKeyInfo>> {
                Ok(sqlx::query_as::<_, ApiKeyRow>(
                    "SELECT id, team_id, name, created_at, revoked_at, last_used_at FROM api_keys \
                     WHERE team_id = $1 ORDER BY created_at, id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(ApiKeyInfo::from)
                .collect())
            }

            async fn revoke_api_key(&self, key_id: &str) -> StoreResult<ApiKeyInfo> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(key_id)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                let key = sqlx::query_as::<_, ApiKeyRow>(SELECT_KEY)
                    .bind(key_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                tx.commit().await?;
                Ok(key.into())
            }

            async fn revoke_team_api_key(
                &self,
                team: &str,
                key_id: &str,
            ) -> StoreResult<ApiKeyInfo> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
                     WHERE id = $1 AND team_id = $2",
                )
                .bind(key_id)
                .bind(team)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let key = sqlx::query_as::<_, ApiKeyRow>(SELECT_KEY)
                    .bind(key_id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(key.into())
            }

            async fn key_owner(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
                let row = sqlx::query_as::<_, OwnerRow>(
                    "SELECT k.id AS key_id, k.last_used_at, t.id AS team_id, t.plan, \
                     t.subscription_active \
                     FROM api_keys k JOIN teams t ON t.id = k.team_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?;
                let now = now_millis();
                if let Some(row) = &row
                    && row
                        .last_used_at
                        .is_none_or(|at| now - at >= KEY_USE_RESOLUTION)
                {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 \
                         AND (last_used_at IS NULL OR last_used_at < $2)",
                    )
                    .bind(&row.key_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                }
                row.map(|row| {
                    Ok(KeyOwner {
                        plan: parse_plan(&row.plan)?,
                        team_id: row.team_id,
                        subscription_active: row.subscription_active,
                    })
                })
                .transpose()
            }
        }
    };
}

impl_team_store!(crate::sqlite::SqliteStore);
impl_team_store!(crate::postgres::PgStore);
