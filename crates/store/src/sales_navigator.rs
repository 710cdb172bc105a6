//! Sales Navigator imports (`POST /v1/prospects/sales-navigator`): saved searches of a campaign
//! that a worker runs through the LinkedIn connector and turns into one ordinary import job.
//!
//! Rules:
//! - a search is queued only for a campaign the team owns, whose agent has LinkedIn credentials
//!   and which is not a draft; a search URL is saved once per campaign (whatever became of it);
//!   a campaign with an unfinished import or an active search takes no other; a team has at most
//!   [`MAX_ACTIVE_PER_TEAM`] queued or running searches. All of it is checked under the team
//!   lock in the transaction that inserts, so a refused request writes nothing and two requests
//!   cannot both pass;
//! - the worker claims the oldest due search: queued and past its `not_before`, or running with
//!   an expired lease (its process died; that counts as a failed attempt, and a search
//!   interrupted [`MAX_ATTEMPTS`] times fails). PostgreSQL skips searches other workers hold
//!   (`FOR UPDATE SKIP LOCKED`). Each claim is a run with a new `run_id`, and the end of a run
//!   is written only while that run is still the current one, so a run that lost its lease
//!   cannot overwrite its successor;
//! - a run ends in ONE transaction: `completed` with the import job of the people found (rows
//!   like those of any import, carried out by the import worker: invalid URL, DNC, duplicates),
//!   back to `queued` with a due time, or `failed` with its error.

use outbound_core::agent::AgentStatus;
use outbound_core::conversation::CampaignStatus;
use outbound_core::ids::new_id;
use outbound_core::time::Millis;

use crate::imports::NewImportRow;
use crate::{StoreError, StoreResult};

/// Queued or running searches a team may have at once.
pub const MAX_ACTIVE_PER_TEAM: i64 = 3;
/// Failed or interrupted runs after which a search is `failed`.
pub const MAX_ATTEMPTS: i64 = 5;
/// `imports.source` of the jobs the searches create.
pub const IMPORT_SOURCE: &str = "sales_navigator";

/// Where a search stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    /// Waiting for a worker (first run, or again after a failure that may pass).
    Queued,
    /// A worker is running the search.
    Running,
    /// The people found were handed to an import job.
    Completed,
    /// Given up, with its error.
    Failed,
}

impl SourceStatus {
    pub const ALL: [SourceStatus; 4] = [
        SourceStatus::Queued,
        SourceStatus::Running,
        SourceStatus::Completed,
        SourceStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Queued => "queued",
            SourceStatus::Running => "running",
            SourceStatus::Completed => "completed",
            SourceStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<SourceStatus> {
        SourceStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A validated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    pub campaign_id: String,
    pub name: String,
    pub search_url: String,
    pub requested_count: i64,
}

/// A saved search and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: String,
    pub team_id: String,
    pub campaign_id: String,
    pub name: String,
    pub search_url: String,
    pub requested_count: i64,
    pub status: SourceStatus,
    /// The current (or last) run; `None` before the first.
    pub run_id: Option<String>,
    /// The import job of the people found (`None` until completed, or when nobody was found).
    pub list_id: Option<String>,
    /// People the search returned, once completed.
    pub found_count: Option<i64>,
    /// Why the last run failed.
    pub error: Option<String>,
    pub attempts: i64,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub completed_at: Option<Millis>,
}

/// The outcome of a request to queue a search. Only `Queued` writes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueOutcome {
    Queued(Box<Source>),
    /// No campaign with this id is readable by the team.
    CampaignNotFound,
    /// The campaign is readable (agency workspace) but belongs to another team.
    OtherTeam,
    /// The campaign's agent has no LinkedIn credentials.
    MissingAgent,
    /// The campaign cannot take prospects now; the text says why.
    NotReady(&'static str),
    /// The campaign has this search already.
    Exists,
    /// The campaign has an unfinished import or an active search.
    Busy,
    /// The team has [`MAX_ACTIVE_PER_TEAM`] active searches.
    TeamLimit,
}

/// The LinkedIn account of a claimed search's campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAgent {
    pub id: String,
    pub status: AgentStatus,
    pub login: Option<String>,
    /// Sealed with the master key.
    pub password_sealed: Option<String>,
    pub country: Option<String>,
    /// The connector's id of the logged-in account, once the engine logged it in.
    pub provider_account_id: Option<String>,
}

/// A search a worker claimed: run it, then end the run with
/// [`SalesNavigatorStore::end_sales_navigator_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSource {
    pub id: String,
    pub team_id: String,
    pub campaign_id: String,
    pub search_url: String,
    pub requested_count: i64,
    /// This run; the end of the run must name it.
    pub run_id: String,
    /// Failed or interrupted runs before this one.
    pub attempts: i64,
    pub created_at: Millis,
    pub agent: SourceAgent,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// The search returned these people (possibly none): `completed`, with an import job of
    /// them when there are any.
    Found(Vec<NewImportRow>),
    /// Back to `queued` until `at`; `counted` adds one to the attempts.
    Requeue {
        at: Millis,
        error: String,
        counted: bool,
    },
    /// `failed` for good; `counted` adds one to the attempts.
    Failed { error: String, counted: bool },
}

#[async_trait::async_trait]
pub trait SalesNavigatorStore {
    /// Queues a search for a campaign of `team` unless a rule of the module refuses it.
    async fn queue_sales_navigator(
        &self,
        team: &str,
        source: &NewSource,
        now: Millis,
    ) -> StoreResult<QueueOutcome>;

    /// A search of a campaign readable by `team`.
    async fn get_sales_navigator(&self, team: &str, id: &str) -> StoreResult<Source>;

    /// Claims the oldest search due at `now` for a run leased until `lease_until`; a search
    /// whose lease ran out [`MAX_ATTEMPTS`] times is failed instead. `None`: nothing is due.
    async fn claim_sales_navigator(
        &self,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<ClaimedSource>>;

    /// Ends run `run_id` of search `id`; returns the import job created, if any. `Ok(None)`
    /// also when the run is no longer the current one (nothing written then).
    async fn end_sales_navigator_run(
        &self,
        id: &str,
        run_id: &str,
        end: &RunEnd,
        now: Millis,
    ) -> StoreResult<Option<String>>;
}

#[derive(Debug, sqlx::FromRow)]
struct SourceRow {
    id: String,
    team_id: String,
    campaign_id: String,
    name: String,
    search_url: String,
    requested_count: i64,
    status: String,
    run_id: Option<String>,
    list_id: Option<String>,
    found_count: Option<i64>,
    error: Option<String>,
    attempts: i64,
    created_at: Millis,
    started_at: Option<Millis>,
    completed_at: Option<Millis>,
}

impl TryFrom<SourceRow> for Source {
    type Error = StoreError;

    fn try_from(row: SourceRow) -> StoreResult<Self> {
        let status = SourceStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("sales navigator status {}", row.status)))?;
        Ok(Source {
            id: row.id,
            team_id: row.team_id,
            campaign_id: row.campaign_id,
            name: row.name,
            search_url: row.search_url,
            requested_count: row.requested_count,
            status,
            run_id: row.run_id,
            list_id: row.list_id,
            found_count: row.found_count,
            error: row.error,
            attempts: row.attempts,
            created_at: row.created_at,
            started_at: row.started_at,
            completed_at: row.completed_at,
        })
    }
}

/// A campaign as a request to queue a search sees it.
#[derive(Debug, sqlx::FromRow)]
struct TargetCampaign {
    team_id: String,
    status: String,
    agent_status: String,
    login: Option<String>,
}

/// Why a campaign cannot take a search, if it cannot.
fn refusal(campaign: &TargetCampaign) -> StoreResult<Option<QueueOutcome>> {
    let agent: AgentStatus =
        campaign
            .agent_status
            .parse()
            .map_err(|e: outbound_core::agent::UnknownAgentStatus| {
                StoreError::Corrupt(e.to_string())
            })?;
    let status = CampaignStatus::parse(&campaign.status)
        .ok_or_else(|| StoreError::Corrupt(format!("campaign status {}", campaign.status)))?;
    Ok(match (agent, status) {
        (AgentStatus::SetupNeeded, _) => Some(QueueOutcome::MissingAgent),
        _ if campaign.login.is_none() => Some(QueueOutcome::MissingAgent),
        (AgentStatus::Disabled, _) => Some(QueueOutcome::NotReady(
            "The campaign's agent is disabled; relaunch it first",
        )),
        (AgentStatus::Ended, _) => Some(QueueOutcome::NotReady(
            "The campaign's agent has ended; relaunch it first",
        )),
        (_, CampaignStatus::Draft) => Some(QueueOutcome::NotReady(
            "The campaign is a draft; start it first",
        )),
        _ => None,
    })
}

/// A claimed row, with its campaign's agent.
#[derive(Debug, sqlx::FromRow)]
struct ClaimRow {
    id: String,
    team_id: String,
    campaign_id: String,
    search_url: String,
    requested_count: i64,
    attempts: i64,
    created_at: Millis,
    agent_id: String,
    agent_status: String,
    login: Option<String>,
    password_sealed: Option<String>,
    country: Option<String>,
    provider_account_id: Option<String>,
}

/// A due search, before it is claimed.
#[derive(Debug, sqlx::FromRow)]
struct DueRow {
    id: String,
    status: String,
    attempts: i64,
}

/// Columns of [`SourceRow`] for the alias `s`.
macro_rules! source_columns {
    () => {
        "s.id, s.team_id, s.campaign_id, s.name, s.search_url, s.requested_count, s.status, \
         s.run_id, s.list_id, s.found_count, s.error, s.attempts, s.created_at, s.started_at, \
         s.completed_at"
    };
}

/// SQL condition: search alias `s` is due at `$1`.
macro_rules! due_source {
    () => {
        "s.status IN ('queued', 'running') AND ((s.status = 'queued' AND \
         (s.not_before IS NULL OR s.not_before <= $1)) OR \
         (s.status = 'running' AND s.lease_until <= $1))"
    };
}

const SELECT_SOURCE: &str = concat!(
    "SELECT ",
    source_columns!(),
    " FROM sales_navigator_sources s JOIN campaigns c ON c.id = s.campaign_id \
     WHERE s.id = $2 AND ",
    crate::readable_campaign!()
);

const SELECT_TARGET: &str = concat!(
    "SELECT c.team_id, c.status, a.status AS agent_status, a.login FROM campaigns c \
     JOIN agents a ON a.id = c.agent_id WHERE c.id = $2 AND ",
    crate::readable_campaign!()
);

const SOURCE_EXISTS: &str =
    "SELECT COUNT(*) FROM sales_navigator_sources WHERE campaign_id = $1 AND search_url = $2";

const CAMPAIGN_BUSY: &str = "SELECT (SELECT COUNT(*) FROM imports WHERE campaign_id = $1 \
     AND status IN ('queued', 'processing')) + (SELECT COUNT(*) FROM sales_navigator_sources \
     WHERE campaign_id = $1 AND status IN ('queued', 'running'))";

const ACTIVE_OF_TEAM: &str = "SELECT COUNT(*) FROM sales_navigator_sources \
     WHERE team_id = $1 AND status IN ('queued', 'running')";

const INSERT_SOURCE: &str = "INSERT INTO sales_navigator_sources (id, team_id, campaign_id, \
     name, search_url, requested_count, status, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)";

const ANY_DUE: &str = concat!(
    "SELECT s.id FROM sales_navigator_sources s WHERE ",
    due_source!(),
    " LIMIT 1"
);

const FAIL_INTERRUPTED: &str = "UPDATE sales_navigator_sources SET status = 'failed', \
     attempts = attempts + 1, error = $2, completed_at = $3, lease_until = NULL WHERE id = $1";

const START_RUN: &str = "UPDATE sales_navigator_sources SET status = 'running', run_id = $2, \
     lease_until = $3, started_at = COALESCE(started_at, $4), attempts = attempts + $5 \
     WHERE id = $1";

const SELECT_CLAIMED: &str = "SELECT s.id, s.team_id, s.campaign_id, s.search_url, \
     s.requested_count, s.attempts, s.created_at, a.id AS agent_id, a.status AS agent_status, \
     a.login, a.password_sealed, a.country, a.provider_account_id \
     FROM sales_navigator_sources s JOIN campaigns c ON c.id = s.campaign_id \
     JOIN agents a ON a.id = c.agent_id WHERE s.id = $1";

const COMPLETE_RUN: &str = "UPDATE sales_navigator_sources SET status = 'completed', \
     list_id = $2, found_count = $3, error = NULL, completed_at = $4, lease_until = NULL, \
     not_before = NULL WHERE id = $1";

const REQUEUE_RUN: &str = "UPDATE sales_navigator_sources SET status = 'queued', \
     not_before = $2, error = $3, attempts = attempts + $4, lease_until = NULL WHERE id = $1";

const FAIL_RUN: &str = "UPDATE sales_navigator_sources SET status = 'failed', error = $2, \
     attempts = attempts + $3, completed_at = $4, lease_until = NULL WHERE id = $1";

/// The message of a search failed because its runs kept being interrupted.
fn interrupted_error(attempts: i64) -> String {
    format!("The search was interrupted {attempts} times")
}

/// `impl_sales_navigator_store!(Store, "<row locking suffix>")`: PostgreSQL locks the claimed
/// row and skips those other workers hold; SQLite's single writer needs nothing.
macro_rules! impl_sales_navigator_store {
    ($store:ty, $lock:literal, $skip_locked:literal) => {
        impl $store {
            /// The number computed by `sql` with `$1`, `$2` bound to `first`, `second`.
            async fn sn_count_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                sql: &'static str,
                first: &str,
                second: Option<&str>,
            ) -> StoreResult<i64> {
                let query = sqlx::query_scalar::<_, i64>(sql).bind(first);
                let query = match second {
                    Some(second) => query.bind(second),
                    None => query,
                };
                Ok(query.fetch_one(&mut **tx).await?)
            }

            /// Why `source` cannot be queued for `team`, checked in `tx` (team locked).
            async fn sn_refusal_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                source: &NewSource,
            ) -> StoreResult<Option<QueueOutcome>> {
                let campaign = sqlx::query_as::<_, TargetCampaign>(SELECT_TARGET)
                    .bind(team)
                    .bind(&source.campaign_id)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some(campaign) = campaign else {
                    return Ok(Some(QueueOutcome::CampaignNotFound));
                };
                if campaign.team_id != team {
                    return Ok(Some(QueueOutcome::OtherTeam));
                }
                if let Some(refused) = refusal(&campaign)? {
                    return Ok(Some(refused));
                }
                let campaign_id = source.campaign_id.as_str();
                let url = Some(source.search_url.as_str());
                if Self::sn_count_in(tx, SOURCE_EXISTS, campaign_id, url).await? > 0 {
                    return Ok(Some(QueueOutcome::Exists));
                }
                if Self::sn_count_in(tx, CAMPAIGN_BUSY, campaign_id, None).await? > 0 {
                    return Ok(Some(QueueOutcome::Busy));
                }
                if Self::sn_count_in(tx, ACTIVE_OF_TEAM, team, None).await? >= MAX_ACTIVE_PER_TEAM {
                    return Ok(Some(QueueOutcome::TeamLimit));
                }
                Ok(None)
            }

            /// The oldest due search, started as run `run_id` in `tx`; searches interrupted
            /// too often on the way are failed.
            async fn sn_start_run_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                now: Millis,
                lease_until: Millis,
                run_id: &str,
            ) -> StoreResult<Option<ClaimRow>> {
                loop {
                    let due = sqlx::query_as::<_, DueRow>(concat!(
                        "SELECT s.id, s.status, s.attempts FROM sales_navigator_sources s \
                         WHERE ",
                        due_source!(),
                        " ORDER BY s.created_at, s.id LIMIT 1",
                        $skip_locked
                    ))
                    .bind(now)
                    .fetch_optional(&mut **tx)
                    .await?;
                    let Some(due) = due else {
                        return Ok(None);
                    };
                    let interrupted = i64::from(due.status == SourceStatus::Running.as_str());
                    if interrupted == 1 && due.attempts + 1 >= MAX_ATTEMPTS {
                        sqlx::query(FAIL_INTERRUPTED)
                            .bind(&due.id)
                            .bind(interrupted_error(due.attempts + 1))
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                        continue;
                    }
                    sqlx::query(START_RUN)
                        .bind(&due.id)
                        .bind(run_id)
                        .bind(lease_until)
                        .bind(now)
                        .bind(interrupted)
                        .execute(&mut **tx)
                        .await?;
                    return Ok(sqlx::query_as::<_, ClaimRow>(SELECT_CLAIMED)
                        .bind(&due.id)
                        .fetch_optional(&mut **tx)
                        .await?);
                }
            }
        }

        #[async_trait::async_trait]
        impl SalesNavigatorStore for $store {
            async fn queue_sales_navigator(
                &self,
                team: &str,
                source: &NewSource,
                now: Millis,
            ) -> StoreResult<QueueOutcome> {
                let mut tx = self.begin_write().await?;
                Self::lock_team(&mut tx, team).await?;
                if let Some(refused) = Self::sn_refusal_in(&mut tx, team, source).await? {
                    return Ok(refused);
                }
                let id = new_id();
                sqlx::query(INSERT_SOURCE)
                    .bind(&id)
                    .bind(team)
                    .bind(&source.campaign_id)
                    .bind(&source.name)
                    .bind(&source.search_url)
                    .bind(source.requested_count)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(QueueOutcome::Queued(Box::new(Source {
                    id,
                    team_id: team.to_owned(),
                    campaign_id: source.campaign_id.clone(),
                    name: source.name.clone(),
                    search_url: source.search_url.clone(),
                    requested_count: source.requested_count,
                    status: SourceStatus::Queued,
                    run_id: None,
                    list_id: None,
                    found_count: None,
                    error: None,
                    attempts: 0,
                    created_at: now,
                    started_at: None,
                    completed_at: None,
                })))
            }

            async fn get_sales_navigator(&self, team: &str, id: &str) -> StoreResult<Source> {
                sqlx::query_as::<_, SourceRow>(SELECT_SOURCE)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)
                    .and_then(Source::try_from)
            }

            async fn claim_sales_navigator(
                &self,
                now: Millis,
                lease_until: Millis,
            ) -> StoreResult<Option<ClaimedSource>> {
                // An idle poll only reads: it takes no write lock (SQLite) while nothing is
                // due. The claim looks again inside the transaction.
                let due: Option<String> = sqlx::query_scalar(ANY_DUE)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                if due.is_none() {
                    return Ok(None);
                }
                let run_id = new_id();
                let mut tx = self.begin_write().await?;
                let row = Self::sn_start_run_in(&mut tx, now, lease_until, &run_id).await?;
                tx.commit().await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let status: AgentStatus = row.agent_status.parse().map_err(
                    |e: outbound_core::agent::UnknownAgentStatus| {
                        StoreError::Corrupt(e.to_string())
                    },
                )?;
                Ok(Some(ClaimedSource {
                    id: row.id,
                    team_id: row.team_id,
                    campaign_id: row.campaign_id,
                    search_url: row.search_url,
                    requested_count: row.requested_count,
                    run_id,
                    attempts: row.attempts,
                    created_at: row.created_at,
                    agent: SourceAgent {
                        id: row.agent_id,
                        status,
                        login: row.login,
                        password_sealed: row.password_sealed,
                        country: row.country,
                        provider_account_id: row.provider_account_id,
                    },
                }))
            }

            async fn end_sales_navigator_run(
                &self,
                id: &str,
                run_id: &str,
                end: &RunEnd,
                now: Millis,
            ) -> StoreResult<Option<String>> {
                let mut tx = self.begin_write().await?;
                let current: Option<(String, String)> = sqlx::query_as(concat!(
                    "SELECT team_id, campaign_id FROM sales_navigator_sources \
                         WHERE id = $1 AND run_id = $2 AND status = 'running'",
                    $lock
                ))
                .bind(id)
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((team, campaign)) = current else {
                    return Ok(None);
                };
                let list_id = match end {
                    RunEnd::Found(rows) => {
                        let list_id = if rows.is_empty() {
                            None
                        } else {
                            Some(
                                Self::insert_import(
                                    &mut tx,
                                    &team,
                                    &campaign,
                                    IMPORT_SOURCE,
                                    rows,
                                    now,
                                )
                                .await?,
                            )
                        };
                        sqlx::query(COMPLETE_RUN)
                            .bind(id)
                            .bind(&list_id)
                            .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        list_id
                    }
                    RunEnd::Requeue { at, error, counted } => {
                        sqlx::query(REQUEUE_RUN)
                            .bind(id)
                            .bind(*at)
                            .bind(error)
                            .bind(i64::from(*counted))
                            .execute(&mut *tx)
                            .await?;
                        None
                    }
                    RunEnd::Failed { error, counted } => {
                        sqlx::query(FAIL_RUN)
                            .bind(id)
                            .bind(error)
                            .bind(i64::from(*counted))
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        None
                    }
                };
                tx.commit().await?;
                Ok(list_id)
            }
        }
    };
}

impl_sales_navigator_store!(crate::sqlite::SqliteStore, "", "");
impl_sales_navigator_store!(
    crate::postgres::PgStore,
    " FOR UPDATE",
    " FOR UPDATE OF s SKIP LOCKED"
);

#[cfg(test)]
mod tests {
    use super::*;

    fn target(agent_status: &str, status: &str, login: Option<&str>) -> TargetCampaign {
        TargetCampaign {
            team_id: "t".to_owned(),
            status: status.to_owned(),
            agent_status: agent_status.to_owned(),
            login: login.map(str::to_owned),
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in SourceStatus::ALL {
            assert_eq!(SourceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(SourceStatus::parse("processing"), None);
    }

    #[test]
    fn campaigns_need_a_set_up_agent_and_must_not_be_drafts() {
        let refused =
            |agent, status, login| refusal(&target(agent, status, login)).expect("known statuses");
        assert_eq!(
            refused("setup_needed", "active", None),
            Some(QueueOutcome::MissingAgent)
        );
        assert_eq!(
            refused("auth_in_progress", "active", None),
            Some(QueueOutcome::MissingAgent)
        );
        assert!(matches!(
            refused("running", "draft", Some("a@b.c")),
            Some(QueueOutcome::NotReady(_))
        ));
        assert!(matches!(
            refused("disabled", "active", Some("a@b.c")),
            Some(QueueOutcome::NotReady(_))
        ));
        assert_eq!(refused("running", "paused", Some("a@b.c")), None);
        assert_eq!(refused("auth_needed", "completed", Some("a@b.c")), None);
        assert!(refusal(&target("bogus", "active", None)).is_err());
    }
}
