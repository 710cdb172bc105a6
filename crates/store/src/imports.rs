//! Prospect imports: durable asynchronous jobs (`POST /prospects`, `/prospects/batch`,
//! `/prospects/batch/round-robin`) and the worker step that carries them out.
//!
//! Rules:
//! - a job and all its rows are committed in one transaction, before the API answers 201, and
//!   only for a campaign of the team; a refused request writes nothing;
//! - [`ImportStore::process_imports`] takes the oldest unfinished job (PostgreSQL:
//!   `FOR UPDATE SKIP LOCKED`, so two workers never run one job) and processes its next rows in
//!   order from `current_index`; the rows' results, the job's counters and `current_index`, and
//!   the prospects and chats created are committed together in ONE transaction, so a crash never
//!   loses nor repeats a row and a job interrupted mid-way resumes where it stopped;
//! - each row: URL not a LinkedIn profile → `invalid`; on the team's Do-Not-Contact list →
//!   `skipped_dnc`; the person already has a chat in the campaign (also one created earlier in
//!   the same job) → `existing`; else a prospect (if new to the team) and a chat are created →
//!   `imported`;
//! - a batch that fails is rolled back and retried; after [`MAX_ATTEMPTS`] failed batches in a
//!   row the job is `failed`.

use outbound_core::dnc::{normalize_linkedin_url, slug_of};
use outbound_core::ids::new_id;
use outbound_core::time::{Millis, now_millis};
use std::collections::HashSet;

use crate::chats::{Added, NewConversation};
use crate::{StoreError, StoreResult};

/// Consecutive failed batches after which a job is marked `failed`.
pub const MAX_ATTEMPTS: i64 = 5;

/// Where a job came from (stored in `imports.source`).
pub mod source {
    /// `POST /prospects`.
    pub const SINGLE: &str = "api";
    /// `POST /prospects/batch`.
    pub const BATCH: &str = "api_batch";
    /// `POST /prospects/batch/round-robin`.
    pub const ROUND_ROBIN: &str = "api_round_robin";
    /// A CSV uploaded in the dashboard.
    pub const DASHBOARD_CSV: &str = "dashboard_csv";
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Committed, no row processed yet.
    Queued,
    /// Some rows processed.
    Processing,
    /// Every row processed.
    Completed,
    /// Given up after [`MAX_ATTEMPTS`] failed batches.
    Failed,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 4] = [
        ImportStatus::Queued,
        ImportStatus::Processing,
        ImportStatus::Completed,
        ImportStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Processing => "processing",
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<ImportStatus> {
        ImportStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    Imported,
    Existing,
    Invalid,
    SkippedDnc,
    EnrichmentFailed,
}

impl RowStatus {
    pub const ALL: [RowStatus; 5] = [
        RowStatus::Imported,
        RowStatus::Existing,
        RowStatus::Invalid,
        RowStatus::SkippedDnc,
        RowStatus::EnrichmentFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Imported => "imported",
            RowStatus::Existing => "existing",
            RowStatus::Invalid => "invalid",
            RowStatus::SkippedDnc => "skipped_dnc",
            RowStatus::EnrichmentFailed => "enrichment_failed",
        }
    }

    pub fn parse(value: &str) -> Option<RowStatus> {
        RowStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The `message` of a report row.
    pub fn message(self) -> &'static str {
        match self {
            RowStatus::Imported => "Prospect imported",
            RowStatus::Existing => "Prospect already in this campaign",
            RowStatus::Invalid => "Not a LinkedIn profile URL",
            RowStatus::SkippedDnc => "Profile is on the Do-Not-Contact list",
            RowStatus::EnrichmentFailed => "Profile could not be enriched",
        }
    }
}

/// One person of an import request, validated by the caller (`custom_data` already folded and
/// within bounds). The URL is kept as given; the worker normalises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImportRow {
    pub name: String,
    pub url: String,
    pub custom_data: String,
    pub ongoing: bool,
}

/// One processed row, as `GET /prospects/imports/{listId}` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub index: i64,
    pub input_url: String,
    /// `None` for an invalid URL.
    pub linkedin_slug: Option<String>,
    pub status: RowStatus,
    pub prospect_id: Option<String>,
    pub chat_id: Option<String>,
    pub message: String,
    /// A new chat was created by this row.
    pub chat_created: bool,
    /// The row's (non-empty) custom data was stored on the new chat.
    pub custom_data_saved: bool,
}

/// A job with its counters and the report of its processed rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub id: String,
    pub team_id: String,
    pub campaign_id: String,
    pub status: ImportStatus,
    pub total: i64,
    pub processed: i64,
    pub imported: i64,
    pub existing: i64,
    pub invalid: i64,
    pub skipped_dnc: i64,
    pub enrichment_failed: i64,
    pub current_index: i64,
    pub started_at: Option<Millis>,
    pub last_processed_at: Option<Millis>,
    pub completed_at: Option<Millis>,
    pub created_at: Millis,
    /// Processed rows, by index.
    pub report: Vec<ReportRow>,
}

/// The share of a round-robin request that went to one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub campaign_id: String,
    pub campaign_name: String,
    /// The job created for this campaign.
    pub list_id: String,
    pub prospects_assigned: i64,
}

/// The outcome of a round-robin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundRobin {
    /// One job per campaign that received prospects, in request order.
    Created(Vec<Assignment>),
    /// No campaign has this id (nothing written).
    CampaignNotFound(String),
    /// The campaign belongs to another team (nothing written).
    OtherTeam(String),
}

/// For each of `count` prospects, the index of the campaign it goes to: always the campaign
/// with the lowest current load (`loads[i]` plus what this distribution already gave it), ties
/// going to the campaign first in the request.
pub fn distribute(loads: &[i64], count: usize) -> Vec<usize> {
    let mut loads = loads.to_vec();
    let mut targets = Vec::with_capacity(count);
    for _ in 0..count {
        let Some((target, _)) = loads
            .iter()
            .enumerate()
            .min_by_key(|&(index, load)| (*load, index))
        else {
            break;
        };
        loads[target] += 1;
        targets.push(target);
    }
    targets
}

#[async_trait::async_trait]
pub trait ImportStore {
    /// Queues a job of `rows` (at least one) for a campaign of `team`; returns its id (the
    /// `listId`). [`StoreError::NotFound`] when the team has no such campaign.
    async fn create_import(
        &self,
        team: &str,
        campaign_id: &str,
        source: &str,
        rows: &[NewImportRow],
    ) -> StoreResult<String>;

    /// Distributes `rows` over `campaign_ids` (distinct, in request order) with [`distribute`]
    /// on the campaigns' current prospect counts, and queues one job per campaign that received
    /// rows, all in one transaction.
    async fn create_round_robin(
        &self,
        team: &str,
        campaign_ids: &[String],
        rows: &[NewImportRow],
    ) -> StoreResult<RoundRobin>;

    /// A job readable by `team` (its own, or one of a campaign shared with it through an agency
    /// workspace) with the report of its processed rows.
    async fn get_import(&self, team: &str, list_id: &str) -> StoreResult<Import>;

    /// The job's status and counters without its report (`report` is empty), whatever its size:
    /// what a progress view polls.
    async fn get_import_summary(&self, team: &str, list_id: &str) -> StoreResult<Import>;

    /// Processes up to `max_rows` rows of the oldest unfinished job in one transaction; returns
    /// how many rows were processed (0: no work).
    async fn process_imports(&self, max_rows: i64) -> StoreResult<usize>;
}

/// An unfinished job as the worker claims it.
#[derive(Debug, sqlx::FromRow)]
struct ClaimedJob {
    id: String,
    team_id: String,
    campaign_id: String,
    current_index: i64,
    total: i64,
}

/// A row waiting to be processed.
#[derive(Debug, sqlx::FromRow)]
struct PendingRow {
    idx: i64,
    name: String,
    input_url: String,
    custom_data: Option<String>,
    ongoing: bool,
}

/// A row's URL, normalised.
struct Normalised {
    url: String,
    slug: String,
}

fn normalise(input: &str) -> Option<Normalised> {
    Some(Normalised {
        url: normalize_linkedin_url(input)?,
        slug: slug_of(input)?,
    })
}

/// The result of one row, before it is written.
struct RowResult {
    idx: i64,
    slug: Option<String>,
    status: RowStatus,
    prospect_id: Option<String>,
    chat_id: Option<String>,
    chat_created: bool,
    custom_data_saved: bool,
}

impl RowResult {
    fn without_chat(idx: i64, slug: Option<String>, status: RowStatus) -> Self {
        RowResult {
            idx,
            slug,
            status,
            prospect_id: None,
            chat_id: None,
            chat_created: false,
            custom_data_saved: false,
        }
    }
}

/// How many rows of each status a batch produced.
#[derive(Debug, Default)]
struct Counts {
    imported: i64,
    existing: i64,
    invalid: i64,
    skipped_dnc: i64,
    enrichment_failed: i64,
}

impl Counts {
    fn of(results: &[RowResult]) -> Self {
        let mut counts = Counts::default();
        for result in results {
            let counter = match result.status {
                RowStatus::Imported => &mut counts.imported,
                RowStatus::Existing => &mut counts.existing,
                RowStatus::Invalid => &mut counts.invalid,
                RowStatus::SkippedDnc => &mut counts.skipped_dnc,
                RowStatus::EnrichmentFailed => &mut counts.enrichment_failed,
            };
            *counter += 1;
        }
        counts
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ImportRow {
    id: String,
    team_id: String,
    campaign_id: String,
    status: String,
    total: i64,
    processed: i64,
    imported: i64,
    existing: i64,
    invalid: i64,
    skipped_dnc: i64,
    enrichment_failed: i64,
    current_index: i64,
    started_at: Option<Millis>,
    last_processed_at: Option<Millis>,
    completed_at: Option<Millis>,
    created_at: Millis,
}

#[derive(Debug, sqlx::FromRow)]
struct ReportRowRow {
    idx: i64,
    input_url: String,
    linkedin_slug: Option<String>,
    status: String,
    prospect_id: Option<String>,
    chat_id: Option<String>,
    message: Option<String>,
    chat_created: bool,
    custom_data_saved: bool,
}

impl TryFrom<ReportRowRow> for ReportRow {
    type Error = StoreError;

    fn try_from(row: ReportRowRow) -> StoreResult<Self> {
        let status = RowStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("import row status {}", row.status)))?;
        Ok(ReportRow {
            index: row.idx,
            input_url: row.input_url,
            linkedin_slug: row.linkedin_slug,
            status,
            prospect_id: row.prospect_id,
            chat_id: row.chat_id,
            message: row.message.unwrap_or_else(|| status.message().to_owned()),
            chat_created: row.chat_created,
            custom_data_saved: row.custom_data_saved,
        })
    }
}

fn to_import(row: ImportRow, report: Vec<ReportRowRow>) -> StoreResult<Import> {
    let status = ImportStatus::parse(&row.status)
        .ok_or_else(|| StoreError::Corrupt(format!("import status {}", row.status)))?;
    Ok(Import {
        id: row.id,
        team_id: row.team_id,
        campaign_id: row.campaign_id,
        status,
        total: row.total,
        processed: row.processed,
        imported: row.imported,
        existing: row.existing,
        invalid: row.invalid,
        skipped_dnc: row.skipped_dnc,
        enrichment_failed: row.enrichment_failed,
        current_index: row.current_index,
        started_at: row.started_at,
        last_processed_at: row.last_processed_at,
        completed_at: row.completed_at,
        created_at: row.created_at,
        report: report
            .into_iter()
            .map(ReportRow::try_from)
            .collect::<StoreResult<_>>()?,
    })
}

/// A campaign as round-robin sees it.
#[derive(Debug, sqlx::FromRow)]
struct RoundRobinCampaign {
    id: String,
    team_id: String,
    name: String,
    prospects_count: i64,
}

const SELECT_IMPORT: &str = concat!(
    "SELECT i.id, i.team_id, i.campaign_id, i.status, i.total, i.processed, i.imported, ",
    "i.existing, i.invalid, i.skipped_dnc, i.enrichment_failed, i.current_index, i.started_at, ",
    "i.last_processed_at, i.completed_at, i.created_at FROM imports i ",
    "JOIN campaigns c ON c.id = i.campaign_id WHERE i.id = $2 AND ",
    crate::readable_campaign!()
);

const SELECT_REPORT: &str = "SELECT idx, input_url, linkedin_slug, status, prospect_id, chat_id, \
     message, chat_created, custom_data_saved FROM import_rows \
     WHERE list_id = $1 AND status IS NOT NULL ORDER BY idx";

const INSERT_ROWS: &str =
    "INSERT INTO import_rows (list_id, idx, name, input_url, custom_data, ongoing) ";

const ANY_UNFINISHED: &str =
    "SELECT id FROM imports WHERE status IN ('queued', 'processing') LIMIT 1";

const SELECT_PENDING_ROWS: &str = "SELECT idx, name, input_url, custom_data, ongoing \
     FROM import_rows WHERE list_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3";

const UPDATE_ROW: &str = "UPDATE import_rows SET linkedin_slug = $3, status = $4, \
     prospect_id = $5, chat_id = $6, message = $7, chat_created = $8, custom_data_saved = $9 \
     WHERE list_id = $1 AND idx = $2";

const UPDATE_JOB: &str = "UPDATE imports SET processed = processed + $2, \
     imported = imported + $3, existing = existing + $4, invalid = invalid + $5, \
     skipped_dnc = skipped_dnc + $6, enrichment_failed = enrichment_failed + $7, \
     current_index = $8, status = $9, started_at = COALESCE(started_at, $10), \
     last_processed_at = $10, completed_at = $11, attempts = 0 WHERE id = $1";

const RECORD_FAILURE: &str = "UPDATE imports SET attempts = attempts + 1, \
     status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE status END, \
     completed_at = CASE WHEN attempts + 1 >= $2 THEN $3 ELSE completed_at END \
     WHERE id = $1 AND status IN ('queued', 'processing')";

/// `impl_import_store!(Store, "<locking suffix of the job claim>")`: PostgreSQL skips jobs other
/// workers hold; SQLite's single writer needs nothing.
macro_rules! impl_import_store {
    ($store:ty, $lock_job:literal) => {
        impl $store {
            /// Inserts a queued job of `rows` for `campaign_id`; returns its id.
            pub(crate) async fn insert_import(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                campaign_id: &str,
                source: &str,
                rows: &[NewImportRow],
                now: Millis,
            ) -> StoreResult<String> {
                let id = new_id();
                let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                sqlx::query(
                    "INSERT INTO imports (id, team_id, campaign_id, source, status, total, \
                     created_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6)",
                )
                .bind(&id)
                .bind(team)
                .bind(campaign_id)
                .bind(source)
                .bind(total)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let mut insert =
                    sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(INSERT_ROWS);
                insert.push_values(rows.iter().zip(0_i64..), |mut values, (row, idx)| {
                    values
                        .push_bind(id.clone())
                        .push_bind(idx)
                        .push_bind(row.name.clone())
                        .push_bind(row.url.clone())
                        .push_bind(row.custom_data.clone())
                        .push_bind(row.ongoing);
                });
                insert.build().execute(&mut **tx).await?;
                Ok(id)
            }

            /// The normalised URLs among `urls` that are on the team's DNC list, in one query.
            async fn dnc_among(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                urls: &HashSet<&str>,
            ) -> StoreResult<HashSet<String>> {
                if urls.is_empty() {
                    return Ok(HashSet::new());
                }
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                    "SELECT url FROM dnc_entries WHERE team_id = ",
                );
                query.push_bind(team.to_owned()).push(" AND url IN (");
                let mut list = query.separated(", ");
                for url in urls {
                    list.push_bind((*url).to_owned());
                }
                list.push_unseparated(")");
                let found: Vec<String> = query.build_query_scalar().fetch_all(&mut **tx).await?;
                Ok(found.into_iter().collect())
            }

            /// Decides and carries out every row of `rows`, in order.
            async fn run_rows(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                job: &ClaimedJob,
                rows: Vec<PendingRow>,
                now: Millis,
            ) -> StoreResult<Vec<RowResult>> {
                let normalised: Vec<Option<Normalised>> =
                    rows.iter().map(|row| normalise(&row.input_url)).collect();
                let urls: HashSet<&str> =
                    normalised.iter().flatten().map(|n| n.url.as_str()).collect();
                let dnc = Self::dnc_among(tx, &job.team_id, &urls).await?;
                let mut results = Vec::with_capacity(rows.len());
                for (row, normalised) in rows.into_iter().zip(normalised) {
                    let Some(Normalised { url, slug }) = normalised else {
                        results.push(RowResult::without_chat(row.idx, None, RowStatus::Invalid));
                        continue;
                    };
                    if dnc.contains(&url) {
                        results.push(RowResult::without_chat(
                            row.idx,
                            Some(slug),
                            RowStatus::SkippedDnc,
                        ));
                        continue;
                    }
                    let custom_data = row.custom_data.unwrap_or_default();
                    let has_custom_data = !custom_data.is_empty();
                    let person = NewConversation {
                        name: row.name,
                        url,
                        slug: slug.clone(),
                        custom_data,
                        ongoing: row.ongoing,
                        list_id: Some(job.id.clone()),
                    };
                    let added = Self::add_to_campaign_in(
                        tx,
                        &job.team_id,
                        &job.campaign_id,
                        &person,
                        now,
                    )
                    .await?;
                    results.push(match added {
                        Added::Created { prospect_id, chat_id } => RowResult {
                            idx: row.idx,
                            slug: Some(slug),
                            status: RowStatus::Imported,
                            prospect_id: Some(prospect_id),
                            chat_id: Some(chat_id),
                            chat_created: true,
                            custom_data_saved: has_custom_data,
                        },
                        Added::Existing { prospect_id, chat_id } => RowResult {
                            prospect_id: Some(prospect_id),
                            chat_id: Some(chat_id),
                            ..RowResult::without_chat(row.idx, Some(slug), RowStatus::Existing)
                        },
                    });
                }
                Ok(results)
            }

            /// Processes the next rows of `job` and records everything in `tx`.
            async fn process_job_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                job: &ClaimedJob,
                max_rows: i64,
            ) -> StoreResult<usize> {
                let now = now_millis();
                let rows = sqlx::query_as::<_, PendingRow>(SELECT_PENDING_ROWS)
                    .bind(&job.id)
                    .bind(job.current_index)
                    .bind(max_rows)
                    .fetch_all(&mut **tx)
                    .await?;
                let next_index = rows.last().map_or(job.total, |row| row.idx + 1);
                let results = Self::run_rows(tx, job, rows, now).await?;
                for result in &results {
                    sqlx::query(UPDATE_ROW)
                        .bind(&job.id)
                        .bind(result.idx)
                        .bind(&result.slug)
                        .bind(result.status.as_str())
                        .bind(&result.prospect_id)
                        .bind(&result.chat_id)
                        .bind(result.status.message())
                        .bind(result.chat_created)
                        .bind(result.custom_data_saved)
                        .execute(&mut **tx)
                        .await?;
                }
                let counts = Counts::of(&results);
                let done = next_index >= job.total;
                let status = if done { ImportStatus::Completed } else { ImportStatus::Processing };
                sqlx::query(UPDATE_JOB)
                    .bind(&job.id)
                    .bind(i64::try_from(results.len()).unwrap_or(i64::MAX))
                    .bind(counts.imported)
                    .bind(counts.existing)
                    .bind(counts.invalid)
                    .bind(counts.skipped_dnc)
                    .bind(counts.enrichment_failed)
                    .bind(next_index)
                    .bind(status.as_str())
                    .bind(now)
                    .bind(done.then_some(now))
                    .execute(&mut **tx)
                    .await?;
                Ok(results.len())
            }

            /// Counts a failed batch of `job_id`; the job fails after [`MAX_ATTEMPTS`].
            async fn record_failure(&self, job_id: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(RECORD_FAILURE)
                    .bind(job_id)
                    .bind(MAX_ATTEMPTS)
                    .bind(now_millis())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl ImportStore for $store {
            async fn create_import(
                &self,
                team: &str,
                campaign_id: &str,
                source: &str,
                rows: &[NewImportRow],
            ) -> StoreResult<String> {
                if rows.is_empty() {
                    return Err(StoreError::Invalid(vec![outbound_core::validation::FieldError {
                        field: "prospects".to_owned(),
                        message: "At least one prospect is required".to_owned(),
                    }]));
                }
                let mut tx = self.begin_write().await?;
                let owned: Option<String> =
                    sqlx::query_scalar("SELECT id FROM campaigns WHERE team_id = $1 AND id = $2")
                        .bind(team)
                        .bind(campaign_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if owned.is_none() {
                    return Err(StoreError::NotFound);
                }
                let id =
                    Self::insert_import(&mut tx, team, campaign_id, source, rows, now_millis())
                        .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn create_round_robin(
                &self,
                team: &str,
                campaign_ids: &[String],
                rows: &[NewImportRow],
            ) -> StoreResult<RoundRobin> {
                if campaign_ids.is_empty() || rows.is_empty() {
                    return Ok(RoundRobin::Created(Vec::new()));
                }
                let mut tx = self.begin_write().await?;
                let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                    "SELECT id, team_id, name, prospects_count FROM campaigns WHERE id IN (",
                );
                let mut list = query.separated(", ");
                for id in campaign_ids {
                    list.push_bind(id.clone());
                }
                list.push_unseparated(")");
                let found: Vec<RoundRobinCampaign> =
                    query.build_query_as().fetch_all(&mut *tx).await?;
                let mut campaigns = Vec::with_capacity(campaign_ids.len());
                for id in campaign_ids {
                    match found.iter().find(|c| &c.id == id) {
                        None => return Ok(RoundRobin::CampaignNotFound(id.clone())),
                        Some(c) if c.team_id != team => {
                            return Ok(RoundRobin::OtherTeam(id.clone()));
                        }
                        Some(c) => campaigns.push(c),
                    }
                }
                let loads: Vec<i64> = campaigns.iter().map(|c| c.prospects_count).collect();
                let mut shares: Vec<Vec<NewImportRow>> = vec![Vec::new(); campaigns.len()];
                for (row, target) in rows.iter().zip(distribute(&loads, rows.len())) {
                    shares[target].push(row.clone());
                }
                let now = now_millis();
                let mut assignments = Vec::new();
                for (campaign, share) in campaigns.into_iter().zip(shares) {
                    if share.is_empty() {
                        continue;
                    }
                    let list_id = Self::insert_import(
                        &mut tx,
                        team,
                        &campaign.id,
                        source::ROUND_ROBIN,
                        &share,
                        now,
                    )
                    .await?;
                    assignments.push(Assignment {
                        campaign_id: campaign.id.clone(),
                        campaign_name: campaign.name.clone(),
                        list_id,
                        prospects_assigned: i64::try_from(share.len()).unwrap_or(i64::MAX),
                    });
                }
                tx.commit().await?;
                Ok(RoundRobin::Created(assignments))
            }

            async fn get_import(&self, team: &str, list_id: &str) -> StoreResult<Import> {
                let row = sqlx::query_as::<_, ImportRow>(SELECT_IMPORT)
                    .bind(team)
                    .bind(list_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let report = sqlx::query_as::<_, ReportRowRow>(SELECT_REPORT)
                    .bind(list_id)
                    .fetch_all(&self.pool)
                    .await?;
                to_import(row, report)
            }

            async fn get_import_summary(&self, team: &str, list_id: &str) -> StoreResult<Import> {
                let row = sqlx::query_as::<_, ImportRow>(SELECT_IMPORT)
                    .bind(team)
                    .bind(list_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                to_import(row, Vec::new())
            }

            async fn process_imports(&self, max_rows: i64) -> StoreResult<usize> {
                if max_rows <= 0 {
                    return Ok(0);
                }
                // An idle poll only reads: it takes no write lock (SQLite) while there is no
                // work. The claim below looks again inside the transaction.
                let waiting: Option<String> = sqlx::query_scalar(ANY_UNFINISHED)
                    .fetch_optional(&self.pool)
                    .await?;
                if waiting.is_none() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let job = sqlx::query_as::<_, ClaimedJob>(concat!(
                    "SELECT id, team_id, campaign_id, current_index, total FROM imports \
                     WHERE status IN ('queued', 'processing') ORDER BY created_at, id LIMIT 1",
                    $lock_job
                ))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(job) = job else {
                    return Ok(0);
                };
                match Self::process_job_in(&mut tx, &job, max_rows).await {
                    Ok(processed) => {
                        tx.commit().await?;
                        Ok(processed)
                    }
                    Err(error) => {
                        drop(tx);
                        if let Err(also) = self.record_failure(&job.id).await {
                            tracing::warn!(
                                list_id = %job.id,
                                error = %also,
                                "could not count a failed import batch"
                            );
                        }
                        Err(error)
                    }
                }
            }
        }
    };
}

impl_import_store!(crate::sqlite::SqliteStore, "");
impl_import_store!(crate::postgres::PgStore, " FOR UPDATE SKIP LOCKED");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_fills_the_lightest_campaign_first_ties_in_request_order() {
        assert_eq!(distribute(&[5, 2], 6), [1, 1, 1, 0, 1, 0]);
        assert_eq!(distribute(&[0, 0, 0], 4), [0, 1, 2, 0]);
        assert_eq!(distribute(&[3, 1, 1], 3), [1, 2, 1]);
        assert!(distribute(&[], 3).is_empty());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in ImportStatus::ALL {
            assert_eq!(ImportStatus::parse(status.as_str()), Some(status));
        }
        for status in RowStatus::ALL {
            assert_eq!(RowStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RowStatus::SkippedDnc.as_str(), "skipped_dnc");
    }

    #[test]
    fn counts_add_up_per_status() {
        let results = [
            RowResult::without_chat(0, None, RowStatus::Invalid),
            RowResult::without_chat(1, None, RowStatus::Existing),
            RowResult::without_chat(2, None, RowStatus::Existing),
            RowResult::without_chat(3, None, RowStatus::SkippedDnc),
        ];
        let counts = Counts::of(&results);
        assert_eq!(
            (
                counts.invalid,
                counts.existing,
                counts.skipped_dnc,
                counts.imported
            ),
            (1, 2, 1, 0)
        );
    }
}
