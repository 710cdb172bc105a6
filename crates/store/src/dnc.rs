//! The Do-Not-Contact list. URLs arrive here already normalised
//! (`outbound_core::dnc::normalize_linkedin_url`); `(team, url)` is unique. Adding a URL stops
//! the unfinished conversations of that person in the same transaction (status 7, no planned
//! message, tasks cancelled), so nobody on the list is contacted again.

use outbound_core::ids::new_id;
use outbound_core::time::{Millis, now_millis};

use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DncEntry {
    pub id: String,
    pub team_id: String,
    pub url: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What happened to one URL of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    Added(DncEntry),
    Duplicate,
}

/// What a delete found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DncDeletion {
    Deleted,
    NotFound,
    /// The entry exists but belongs to another team (the API answers 403 `unauthorized_dnc`,
    /// as documented); nothing of it is returned.
    OtherTeam,
}

#[async_trait::async_trait]
pub trait DncStore {
    /// A page of the team's entries, newest first.
    async fn list_dnc(&self, team: &str, limit: i64, offset: i64) -> StoreResult<Vec<DncEntry>>;
    /// Adds `url`; [`StoreError::AlreadyExists`] when it is on the list.
    async fn add_dnc(&self, team: &str, url: &str) -> StoreResult<DncEntry>;
    /// Adds every URL in one transaction, in order; a URL already present (or earlier in the
    /// batch) is a duplicate.
    async fn add_dnc_batch(&self, team: &str, urls: &[String]) -> StoreResult<Vec<BatchOutcome>>;
    async fn find_dnc(&self, team: &str, url: &str) -> StoreResult<Option<DncEntry>>;
    async fn delete_dnc(&self, team: &str, id: &str) -> StoreResult<DncDeletion>;
}

fn new_entry(team: &str, url: &str) -> DncEntry {
    let now = now_millis();
    DncEntry {
        id: new_id(),
        team_id: team.to_owned(),
        url: url.to_owned(),
        created_at: now,
        updated_at: now,
    }
}

const INSERT_ENTRY: &str = "INSERT INTO dnc_entries (id, team_id, url, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id, url) DO NOTHING";

macro_rules! impl_dnc_store {
    ($store:ty) => {
        impl $store {
            /// Inserts `entry`; false when the URL was already on the team's list.
            async fn insert_dnc(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                entry: &DncEntry,
            ) -> StoreResult<bool> {
                let done = sqlx::query(INSERT_ENTRY)
                    .bind(&entry.id)
                    .bind(&entry.team_id)
                    .bind(&entry.url)
                    .bind(entry.created_at)
                    .bind(entry.updated_at)
                    .execute(&mut **tx)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait::async_trait]
        impl DncStore for $store {
            async fn list_dnc(
                &self,
                team: &str,
                limit: i64,
                offset: i64,
            ) -> StoreResult<Vec<DncEntry>> {
                Ok(sqlx::query_as::<_, DncEntry>(
                    "SELECT id, team_id, url, created_at, updated_at FROM dnc_entries \
                     WHERE team_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                )
                .bind(team)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn add_dnc(&self, team: &str, url: &str) -> StoreResult<DncEntry> {
                let mut tx = self.begin_write().await?;
                let entry = new_entry(team, url);
                if !Self::insert_dnc(&mut tx, &entry).await? {
                    return Err(StoreError::AlreadyExists);
                }
                Self::stop_chats_on_dnc_in(&mut tx, team, url, entry.created_at).await?;
                tx.commit().await?;
                Ok(entry)
            }

            async fn add_dnc_batch(
                &self,
                team: &str,
                urls: &[String],
            ) -> StoreResult<Vec<BatchOutcome>> {
                let mut tx = self.begin_write().await?;
                let mut outcomes = Vec::with_capacity(urls.len());
                for url in urls {
                    let entry = new_entry(team, url);
                    outcomes.push(if Self::insert_dnc(&mut tx, &entry).await? {
                        Self::stop_chats_on_dnc_in(&mut tx, team, url, entry.created_at).await?;
                        BatchOutcome::Added(entry)
                    } else {
                        BatchOutcome::Duplicate
                    });
                }
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn find_dnc(&self, team: &str, url: &str) -> StoreResult<Option<DncEntry>> {
                Ok(sqlx::query_as::<_, DncEntry>(
                    "SELECT id, team_id, url, created_at, updated_at FROM dnc_entries \
                     WHERE team_id = $1 AND url = $2",
                )
                .bind(team)
                .bind(url)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn delete_dnc(&self, team: &str, id: &str) -> StoreResult<DncDeletion> {
                let mut tx = self.begin_write().await?;
                let owner: Option<String> =
                    sqlx::query_scalar("SELECT team_id FROM dnc_entries WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let outcome = match owner {
                    None => DncDeletion::NotFound,
                    Some(owner) if owner != team => DncDeletion::OtherTeam,
                    Some(_) => {
                        sqlx::query("DELETE FROM dnc_entries WHERE team_id = $1 AND id = $2")
                            .bind(team)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        DncDeletion::Deleted
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }
        }
    };
}

impl_dnc_store!(crate::sqlite::SqliteStore);
impl_dnc_store!(crate::postgres::PgStore);
