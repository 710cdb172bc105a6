//! Campaigns: one agent, one product and one prompt of a team, with qualification thresholds,
//! prompt variables and the counters of their conversations.
//!
//! Rules:
//! - reads (`list_campaigns`, `get_campaign`) use [`readable_campaign!`](crate::readable_campaign)
//!   so that the client team of an agency workspace sees the campaigns of the agents assigned to
//!   it; every write filters on the owner `team_id` alone;
//! - the product, prompt and agent of a new campaign must belong to the same team, checked in
//!   the transaction that inserts it, after the plan quota lock;
//! - `pause` makes any campaign `paused`, `resume` makes any campaign `active` (a `draft` starts,
//!   a `completed` one runs again) and clears `preventAutoStart`; both are idempotent; nothing
//!   creates a `draft` yet, and only the engine completes a campaign;
//! - a campaign is deleted only when it is not `active` and no import into it is queued or
//!   running; the deletion removes, in one transaction, its messages, its chats, the prospects
//!   that have no chat in another campaign, its import jobs, the webhook events it caused (with
//!   their deliveries) and the campaign, and counts each.

use std::collections::BTreeMap;

use outbound_core::conversation::CampaignStatus;
use outbound_core::ids::new_id;
use outbound_core::review::ReviewMode;
use outbound_core::time::{Millis, now_millis};
use outbound_core::validation::FieldError;

use crate::{StoreError, StoreResult};

/// The denormalised counters of a campaign (the sum of its chats' tallies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignCounters {
    pub prospects: i64,
    /// Conversations in which the prospect has answered.
    pub answers: i64,
    /// Messages sent by the agent.
    pub messages: i64,
    pub qualified: i64,
    pub closed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: String,
    /// The owner team (a client team may read the campaign without owning it).
    pub team_id: String,
    pub name: String,
    pub status: CampaignStatus,
    pub agent_id: String,
    pub product_id: String,
    pub prompt_id: String,
    pub qualification_automatic: i64,
    pub qualification_verification: i64,
    /// Values of the prompt's custom `{{variables}}`.
    pub variables: BTreeMap<String, String>,
    pub prevent_auto_start: bool,
    /// Which AI messages wait for a person.
    pub review_mode: ReviewMode,
    pub counters: CampaignCounters,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub completed_at: Option<Millis>,
}

/// A validated new campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub product_id: String,
    pub prompt_id: String,
    pub agent_id: String,
    pub qualification_automatic: i64,
    pub qualification_verification: i64,
    pub variables: BTreeMap<String, String>,
    /// Starts `paused` instead of `active`.
    pub prevent_auto_start: bool,
    pub review_mode: ReviewMode,
}

/// A validated change; `None` keeps the stored value, `variables` replaces the whole map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub qualification_automatic: Option<i64>,
    pub qualification_verification: Option<i64>,
    pub variables: Option<BTreeMap<String, String>>,
    pub review_mode: Option<ReviewMode>,
}

/// Which part of the newest-first list to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListWindow {
    /// Only the campaigns after the one with this id, in list order.
    pub after: Option<String>,
    /// Campaigns skipped (after `after`, when both are given).
    pub offset: u64,
    /// At most this many; `None` is the rest of the list.
    pub limit: Option<u32>,
}

/// How many rows each kind a campaign deletion removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletedItems {
    pub prospects: i64,
    pub chats: i64,
    pub messages: i64,
    pub tasks: i64,
    pub webhook_events: i64,
}

/// What `DELETE /campaigns/{id}` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionSummary {
    pub campaign_id: String,
    pub campaign_name: String,
    pub deleted: DeletedItems,
    pub deleted_at: Millis,
}

#[async_trait::async_trait]
pub trait CampaignStore {
    /// The campaigns `team` may read (its own and those of agents assigned to a workspace of
    /// which it is the client team), newest first, within `window`. An `after` id that is not
    /// such a campaign is [`StoreError::Invalid`] on `after`.
    async fn list_campaigns(&self, team: &str, window: &ListWindow) -> StoreResult<Vec<Campaign>>;
    /// A campaign `team` may read (see [`CampaignStore::list_campaigns`]); compare
    /// [`Campaign::team_id`] before acting on it as its owner.
    async fn get_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign>;
    /// Creates a campaign unless the team has `quota` of them; its product, prompt and agent
    /// must be the team's ([`StoreError::MissingReference`] names the first that is not).
    async fn create_campaign(
        &self,
        team: &str,
        new: &NewCampaign,
        quota: Option<u32>,
    ) -> StoreResult<Campaign>;
    /// Applies `patch` to a campaign the team owns.
    async fn update_campaign(
        &self,
        team: &str,
        id: &str,
        patch: &CampaignPatch,
    ) -> StoreResult<Campaign>;
    /// Makes a campaign the team owns `paused`.
    async fn pause_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign>;
    /// Makes a campaign the team owns `active` and clears `preventAutoStart`.
    async fn resume_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign>;
    /// Makes a campaign the team owns `completed` (the engine does when every conversation in
    /// it has finished); `resume` makes it `active` again.
    async fn complete_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign>;
    /// Deletes a campaign the team owns and everything that belongs to it only;
    /// [`StoreError::CampaignActive`] while it is active, [`StoreError::CampaignBusy`] while
    /// an import into it is unfinished.
    async fn delete_campaign(&self, team: &str, id: &str) -> StoreResult<DeletionSummary>;
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: String,
    team_id: String,
    name: String,
    status: String,
    agent_id: String,
    product_id: String,
    prompt_id: String,
    qualification_automatic: i64,
    qualification_verification: i64,
    variables: String,
    prevent_auto_start: bool,
    review_mode: String,
    prospects_count: i64,
    answers_count: i64,
    messages_count: i64,
    qualified_count: i64,
    closed_count: i64,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;

    fn try_from(row: CampaignRow) -> StoreResult<Campaign> {
        Ok(Campaign {
            status: CampaignStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("campaign status {}", row.status)))?,
            review_mode: ReviewMode::parse(&row.review_mode).ok_or_else(|| {
                StoreError::Corrupt(format!("campaign review mode {}", row.review_mode))
            })?,
            variables: serde_json::from_str(&row.variables)
                .map_err(|e| StoreError::Corrupt(format!("campaign variables: {e}")))?,
            counters: CampaignCounters {
                prospects: row.prospects_count,
                answers: row.answers_count,
                messages: row.messages_count,
                qualified: row.qualified_count,
                closed: row.closed_count,
            },
            id: row.id,
            team_id: row.team_id,
            name: row.name,
            agent_id: row.agent_id,
            product_id: row.product_id,
            prompt_id: row.prompt_id,
            qualification_automatic: row.qualification_automatic,
            qualification_verification: row.qualification_verification,
            prevent_auto_start: row.prevent_auto_start,
            created_at: row.created_at,
            updated_at: row.updated_at,
            completed_at: row.completed_at,
        })
    }
}

/// `SELECT <every campaign column> FROM campaigns c`, for `concat!` with a `WHERE` clause.
macro_rules! select_campaigns {
    () => {
        "SELECT c.id, c.team_id, c.name, c.status, c.agent_id, c.product_id, c.prompt_id, \
         c.qualification_automatic, c.qualification_verification, c.variables, \
         c.prevent_auto_start, c.review_mode, c.prospects_count, c.answers_count, c.messages_count, \
         c.qualified_count, c.closed_count, c.created_at, c.updated_at, c.completed_at \
         FROM campaigns c"
    };
}

/// Newest first, ties broken by id (ids are time-ordered too).
macro_rules! newest_first_window {
    () => {
        " ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3"
    };
}

const SELECT_READABLE: &str = concat!(
    select_campaigns!(),
    " WHERE c.id = $2 AND ",
    crate::readable_campaign!()
);
const SELECT_OWNED: &str = concat!(select_campaigns!(), " WHERE c.team_id = $1 AND c.id = $2");
const LIST_READABLE: &str = concat!(
    select_campaigns!(),
    " WHERE ",
    crate::readable_campaign!(),
    newest_first_window!()
);
/// `$4`, `$5`: the `created_at` and `id` of the cursor campaign.
const LIST_READABLE_AFTER: &str = concat!(
    select_campaigns!(),
    " WHERE ",
    crate::readable_campaign!(),
    " AND (c.created_at < $4 OR (c.created_at = $4 AND c.id < $5))",
    newest_first_window!()
);
const CURSOR_POSITION: &str = concat!(
    "SELECT c.created_at FROM campaigns c WHERE c.id = $2 AND ",
    crate::readable_campaign!()
);

/// The ids of the webhook events of campaign `$2` of team `$1`: those that name it and those
/// of its chats.
macro_rules! campaign_events {
    () => {
        "SELECT e.id FROM events e WHERE e.team_id = $1 AND (e.campaign_id = $2 OR e.chat_id IN \
         (SELECT ch.id FROM chats ch WHERE ch.campaign_id = $2))"
    };
}

/// An import that is queued or running: its campaign must not disappear under it.
macro_rules! import_unfinished {
    () => {
        "SELECT COUNT(*) FROM imports i JOIN campaigns c ON c.id = i.campaign_id \
         WHERE i.status IN ('queued', 'processing') AND c.team_id = $1"
    };
}

const CAMPAIGN_IMPORT_UNFINISHED: &str = concat!(import_unfinished!(), " AND c.id = $2");
const AGENT_IMPORT_UNFINISHED: &str = concat!(import_unfinished!(), " AND c.agent_id = $2");
const PRODUCT_EXISTS: &str = "SELECT COUNT(*) FROM products WHERE team_id = $1 AND id = $2";
const PROMPT_EXISTS: &str = "SELECT COUNT(*) FROM prompts WHERE team_id = $1 AND id = $2";
const AGENT_EXISTS: &str = "SELECT COUNT(*) FROM agents WHERE team_id = $1 AND id = $2";
const PAUSE: &str =
    "UPDATE campaigns SET status = $4, updated_at = $3 WHERE team_id = $1 AND id = $2";
const COMPLETE: &str = "UPDATE campaigns SET status = $4, completed_at = $3, updated_at = $3 \
     WHERE team_id = $1 AND id = $2";
/// Resuming also clears `preventAutoStart` and a completion.
const RESUME: &str = "UPDATE campaigns SET status = $4, prevent_auto_start = FALSE, \
     completed_at = NULL, updated_at = $3 WHERE team_id = $1 AND id = $2";

/// The problem reported for an `after` that names no readable campaign.
fn unknown_cursor() -> StoreError {
    StoreError::Invalid(vec![FieldError {
        field: "after".to_owned(),
        message: "No campaign with this id in the list".to_owned(),
    }])
}

fn variables_json(variables: &BTreeMap<String, String>) -> String {
    serde_json::to_string(variables).unwrap_or_else(|_| "{}".to_owned())
}

/// SQL `LIMIT` for an optional limit: both backends accept the largest `BIGINT` as "no limit".
fn sql_limit(limit: Option<u32>) -> i64 {
    limit.map_or(i64::MAX, i64::from)
}

fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

/// `impl_campaign_store!(Store, "<row lock suffix>")`: PostgreSQL locks the campaign rows a
/// deletion is about to remove, so that no import or chat can start referring to them meanwhile;
/// SQLite's single writer needs nothing.
macro_rules! impl_campaign_store {
    ($store:ty, $lock:literal) => {
        impl $store {
            async fn owned_campaign_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Campaign> {
                sqlx::query_as::<_, CampaignRow>(SELECT_OWNED)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            /// The campaign of `team` about to be deleted, its row locked.
            async fn doomed_campaign_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Campaign> {
                sqlx::query_as::<_, CampaignRow>(concat!(
                    select_campaigns!(),
                    " WHERE c.team_id = $1 AND c.id = $2",
                    $lock
                ))
                .bind(team)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound)?
                .try_into()
            }

            /// The ids of the campaigns of agent `agent`, their rows locked for deletion.
            pub(crate) async fn agent_campaigns_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                agent: &str,
            ) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(concat!(
                    "SELECT id FROM campaigns WHERE team_id = $1 AND agent_id = $2",
                    $lock
                ))
                .bind(team)
                .bind(agent)
                .fetch_all(&mut **tx)
                .await?)
            }

            /// Whether `sql` (a count with `$1` = team, `$2` = key) finds a row.
            async fn exists_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                sql: &'static str,
                team: &str,
                key: &str,
            ) -> StoreResult<bool> {
                let count: i64 = sqlx::query_scalar(sql)
                    .bind(team)
                    .bind(key)
                    .fetch_one(&mut **tx)
                    .await?;
                Ok(count > 0)
            }

            /// [`StoreError::CampaignBusy`] when an import into campaign `id` is unfinished.
            pub(crate) async fn ensure_campaign_idle_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<()> {
                if Self::exists_in(tx, CAMPAIGN_IMPORT_UNFINISHED, team, id).await? {
                    return Err(StoreError::CampaignBusy);
                }
                Ok(())
            }

            /// [`StoreError::CampaignBusy`] when an import into a campaign of agent `agent` is
            /// unfinished.
            pub(crate) async fn ensure_agent_campaigns_idle_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                agent: &str,
            ) -> StoreResult<()> {
                if Self::exists_in(tx, AGENT_IMPORT_UNFINISHED, team, agent).await? {
                    return Err(StoreError::CampaignBusy);
                }
                Ok(())
            }

            /// Deletes campaign `id` of `team` and everything that belongs to it only, inside
            /// the caller's transaction, and counts what went. The caller has checked that the
            /// deletion is allowed.
            pub(crate) async fn purge_campaign_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<DeletedItems> {
                let chats: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM chats WHERE team_id = $1 AND campaign_id = $2",
                )
                .bind(team)
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
                // The engine's tasks of its conversations go with them (foreign keys).
                let tasks: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM tasks WHERE team_id = $1 AND campaign_id = $2",
                )
                .bind(team)
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
                sqlx::query(concat!(
                    "DELETE FROM webhook_deliveries WHERE team_id = $1 AND event_id IN (",
                    campaign_events!(),
                    ")"
                ))
                .bind(team)
                .bind(id)
                .execute(&mut **tx)
                .await?;
                let webhook_events = sqlx::query(concat!(
                    "DELETE FROM events WHERE id IN (",
                    campaign_events!(),
                    ")"
                ))
                .bind(team)
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                let messages = sqlx::query(
                    "DELETE FROM messages WHERE chat_id IN \
                     (SELECT ch.id FROM chats ch WHERE ch.team_id = $1 AND ch.campaign_id = $2)",
                )
                .bind(team)
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                // Deleting a prospect deletes its chats (foreign key), here only this
                // campaign's, since the prospect has no other.
                let prospects = sqlx::query(
                    "DELETE FROM prospects WHERE team_id = $1 AND id IN \
                     (SELECT ch.prospect_id FROM chats ch WHERE ch.campaign_id = $2) \
                     AND NOT EXISTS (SELECT 1 FROM chats o \
                     WHERE o.prospect_id = prospects.id AND o.campaign_id <> $2)",
                )
                .bind(team)
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM chats WHERE team_id = $1 AND campaign_id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                // Import rows go with their import (foreign key).
                sqlx::query("DELETE FROM imports WHERE team_id = $1 AND campaign_id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("DELETE FROM campaigns WHERE team_id = $1 AND id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                Ok(DeletedItems {
                    prospects: count(prospects),
                    chats,
                    messages: count(messages),
                    tasks,
                    webhook_events: count(webhook_events),
                })
            }

            /// Runs `sql` (`$1` = team, `$2` = id, `$3` = now, `$4` = `status`) on an owned
            /// campaign and returns the campaign after it.
            async fn set_campaign_status(
                &self,
                team: &str,
                id: &str,
                sql: &'static str,
                status: CampaignStatus,
            ) -> StoreResult<Campaign> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(sql)
                    .bind(team)
                    .bind(id)
                    .bind(now_millis())
                    .bind(status.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if updated == 0 {
                    return Err(StoreError::NotFound);
                }
                let campaign = Self::owned_campaign_in(&mut tx, team, id).await?;
                tx.commit().await?;
                Ok(campaign)
            }
        }

        #[async_trait::async_trait]
        impl CampaignStore for $store {
            async fn list_campaigns(
                &self,
                team: &str,
                window: &ListWindow,
            ) -> StoreResult<Vec<Campaign>> {
                let limit = sql_limit(window.limit);
                let offset = sql_offset(window.offset);
                let rows = match &window.after {
                    None => {
                        sqlx::query_as::<_, CampaignRow>(LIST_READABLE)
                            .bind(team)
                            .bind(limit)
                            .bind(offset)
                            .fetch_all(&self.pool)
                            .await?
                    }
                    Some(after) => {
                        let created_at: i64 = sqlx::query_scalar(CURSOR_POSITION)
                            .bind(team)
                            .bind(after)
                            .fetch_optional(&self.pool)
                            .await?
                            .ok_or_else(unknown_cursor)?;
                        sqlx::query_as::<_, CampaignRow>(LIST_READABLE_AFTER)
                            .bind(team)
                            .bind(limit)
                            .bind(offset)
                            .bind(created_at)
                            .bind(after)
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                rows.into_iter().map(Campaign::try_from).collect()
            }

            async fn get_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign> {
                sqlx::query_as::<_, CampaignRow>(SELECT_READABLE)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn create_campaign(
                &self,
                team: &str,
                new: &NewCampaign,
                quota: Option<u32>,
            ) -> StoreResult<Campaign> {
                let mut tx = self.begin_write().await?;
                Self::lock_team(&mut tx, team).await?;
                let references = [
                    (PRODUCT_EXISTS, new.product_id.as_str(), "Product not found"),
                    (PROMPT_EXISTS, new.prompt_id.as_str(), "Prompt not found"),
                    (AGENT_EXISTS, new.agent_id.as_str(), "Agent not found"),
                ];
                for (sql, id, missing) in references {
                    if !Self::exists_in(&mut tx, sql, team, id).await? {
                        return Err(StoreError::MissingReference(missing));
                    }
                }
                if let Some(limit) = quota {
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM campaigns WHERE team_id = $1")
                            .bind(team)
                            .fetch_one(&mut *tx)
                            .await?;
                    if count >= i64::from(limit) {
                        return Err(StoreError::QuotaReached {
                            what: "campaigns",
                            limit,
                        });
                    }
                }
                let id = new_id();
                let status = if new.prevent_auto_start {
                    CampaignStatus::Paused
                } else {
                    CampaignStatus::Active
                };
                sqlx::query(
                    "INSERT INTO campaigns (id, team_id, name, status, agent_id, product_id, \
                     prompt_id, qualification_automatic, qualification_verification, variables, \
                     prevent_auto_start, review_mode, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
                )
                .bind(&id)
                .bind(team)
                .bind(&new.name)
                .bind(status.as_str())
                .bind(&new.agent_id)
                .bind(&new.product_id)
                .bind(&new.prompt_id)
                .bind(new.qualification_automatic)
                .bind(new.qualification_verification)
                .bind(variables_json(&new.variables))
                .bind(new.prevent_auto_start)
                .bind(new.review_mode.as_str())
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                let campaign = Self::owned_campaign_in(&mut tx, team, &id).await?;
                tx.commit().await?;
                Ok(campaign)
            }

            async fn update_campaign(
                &self,
                team: &str,
                id: &str,
                patch: &CampaignPatch,
            ) -> StoreResult<Campaign> {
                let mut tx = self.begin_write().await?;
                let mut campaign = Self::owned_campaign_in(&mut tx, team, id).await?;
                if let Some(name) = &patch.name {
                    campaign.name.clone_from(name);
                }
                if let Some(automatic) = patch.qualification_automatic {
                    campaign.qualification_automatic = automatic;
                }
                if let Some(verification) = patch.qualification_verification {
                    campaign.qualification_verification = verification;
                }
                if let Some(variables) = &patch.variables {
                    campaign.variables.clone_from(variables);
                }
                if let Some(mode) = patch.review_mode {
                    campaign.review_mode = mode;
                }
                campaign.updated_at = now_millis();
                sqlx::query(
                    "UPDATE campaigns SET name = $3, qualification_automatic = $4, \
                     qualification_verification = $5, variables = $6, updated_at = $7, \
                     review_mode = $8 WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(id)
                .bind(&campaign.name)
                .bind(campaign.qualification_automatic)
                .bind(campaign.qualification_verification)
                .bind(variables_json(&campaign.variables))
                .bind(campaign.updated_at)
                .bind(campaign.review_mode.as_str())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(campaign)
            }

            async fn pause_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign> {
                self.set_campaign_status(team, id, PAUSE, CampaignStatus::Paused).await
            }

            async fn resume_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign> {
                self.set_campaign_status(team, id, RESUME, CampaignStatus::Active).await
            }

            async fn complete_campaign(&self, team: &str, id: &str) -> StoreResult<Campaign> {
                self.set_campaign_status(team, id, COMPLETE, CampaignStatus::Completed)
                    .await
            }

            async fn delete_campaign(&self, team: &str, id: &str) -> StoreResult<DeletionSummary> {
                let mut tx = self.begin_write().await?;
                let campaign = Self::doomed_campaign_in(&mut tx, team, id).await?;
                if campaign.status == CampaignStatus::Active {
                    return Err(StoreError::CampaignActive);
                }
                Self::ensure_campaign_idle_in(&mut tx, team, id).await?;
                let deleted = Self::purge_campaign_in(&mut tx, team, id).await?;
                tx.commit().await?;
                Ok(DeletionSummary {
                    campaign_id: campaign.id,
                    campaign_name: campaign.name,
                    deleted,
                    deleted_at: now_millis(),
                })
            }
        }
    };
}

/// A row count as the API shows it.
fn count(rows: u64) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

impl_campaign_store!(crate::sqlite::SqliteStore, "");
impl_campaign_store!(crate::postgres::PgStore, " FOR UPDATE");
