//! Prospect imports: `POST /v1/prospects`, `/v1/prospects/batch`,
//! `/v1/prospects/batch/round-robin` and `GET /v1/prospects/imports/{listId}`.
//!
//! Rule: an import is a durable asynchronous job. The request is validated here and the job,
//! with every row, is committed before the 201; the worker (`outbound_engine::imports`) then
//! normalises each URL and reports it `imported`, `existing`, `invalid` or `skipped_dnc`. A URL
//! that is not a LinkedIn profile is therefore accepted here and reported `invalid` by the job.
//! The legacy `additionalFields` are folded into `customData` as `fieldName: fieldValue` lines
//! after any `customData`; the result must stay within 3000 characters.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::conversation::{MAX_CUSTOM_DATA_LEN, check_prospect};
use outbound_core::time::iso8601;
use outbound_core::validation::Problems;
use outbound_store::imports::{Assignment, Import, NewImportRow, ReportRow, RoundRobin, source};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, Tenant};

/// Most prospects in one batch or round-robin request.
pub const MAX_BATCH_PROSPECTS: usize = 100;
/// Fewest distinct campaigns of a round-robin request.
pub const MIN_ROUND_ROBIN_CAMPAIGNS: usize = 2;
/// Most campaigns of a round-robin request.
pub const MAX_ROUND_ROBIN_CAMPAIGNS: usize = 100;
/// Most legacy `additionalFields` of one prospect.
pub const MAX_ADDITIONAL_FIELDS: usize = 50;
/// Longest `campaignId` we look up (ids are 20 characters; anything far longer is not one).
const MAX_ID_LEN: usize = 100;

/// A legacy `{fieldName, fieldValue}` pair (the n8n node still sends them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalField {
    field_name: String,
    field_value: String,
}

/// One person to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProspectInput {
    /// Full name.
    name: String,
    /// LinkedIn profile URL (`linkedin.com/in/...`); other URLs are reported `invalid`.
    url: String,
    /// The conversation is already running: no invitation or opening message (status 3).
    #[serde(default)]
    ongoing: Option<bool>,
    /// At most 3000 characters, exposed to prompts as `{{customData}}`.
    #[serde(default)]
    custom_data: Option<String>,
    /// Legacy: folded into `customData` as `fieldName: fieldValue` lines.
    #[serde(default)]
    additional_fields: Option<Vec<AdditionalField>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddProspectRequest {
    campaign_id: String,
    /// Full name.
    name: String,
    /// LinkedIn profile URL (`linkedin.com/in/...`); other URLs are reported `invalid`.
    url: String,
    /// The conversation is already running: no invitation or opening message (status 3).
    #[serde(default)]
    ongoing: Option<bool>,
    /// At most 3000 characters.
    #[serde(default)]
    custom_data: Option<String>,
    /// Legacy: folded into `customData` as `fieldName: fieldValue` lines.
    #[serde(default)]
    additional_fields: Option<Vec<AdditionalField>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddBatchRequest {
    campaign_id: String,
    /// 1 to 100 prospects.
    prospects: Vec<ProspectInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoundRobinRequest {
    /// At least 2 campaigns of the team (duplicates count once).
    campaign_ids: Vec<String>,
    /// 1 to 100 prospects.
    prospects: Vec<ProspectInput>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportQueued {
    /// `Prospect added successfully` or `N prospects added successfully`.
    message: String,
    /// The import job; follow it with `GET /v1/prospects/imports/{listId}`.
    list_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DistributionView {
    campaign_id: String,
    campaign_name: String,
    list_id: String,
    prospects_assigned: i64,
}

impl From<Assignment> for DistributionView {
    fn from(a: Assignment) -> Self {
        DistributionView {
            campaign_id: a.campaign_id,
            campaign_name: a.campaign_name,
            list_id: a.list_id,
            prospects_assigned: a.prospects_assigned,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoundRobinQueued {
    message: &'static str,
    total_prospects: usize,
    /// Distinct campaigns in the request.
    campaigns_count: usize,
    /// The campaigns that received prospects (each with one import job).
    successful_campaign_ids: Vec<String>,
    /// One entry per campaign that received prospects, in request order.
    distribution: Vec<DistributionView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRowView {
    index: i64,
    /// The URL as sent.
    input_url: String,
    /// `null` when the URL is not a LinkedIn profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    linkedin_slug: Option<String>,
    /// `imported`, `existing`, `invalid`, `skipped_dnc` or `enrichment_failed`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    prospect_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    chat_id: Option<String>,
    message: String,
    /// A new chat was created; only then is the row confirmed.
    chat_created: bool,
    /// The row's custom data was stored on the new chat.
    custom_data_saved: bool,
}

impl From<ReportRow> for ReportRowView {
    fn from(r: ReportRow) -> Self {
        ReportRowView {
            index: r.index,
            input_url: r.input_url,
            linkedin_slug: r.linkedin_slug,
            status: r.status.as_str(),
            prospect_id: r.prospect_id,
            chat_id: r.chat_id,
            message: r.message,
            chat_created: r.chat_created,
            custom_data_saved: r.custom_data_saved,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportView {
    list_id: String,
    campaign_id: String,
    /// `queued`, `processing`, `completed` or `failed`.
    status: &'static str,
    total: i64,
    processed: i64,
    imported: i64,
    existing: i64,
    invalid: i64,
    skipped_dnc: i64,
    enrichment_failed: i64,
    /// Index of the next row to process.
    current_index: i64,
    /// When the first row was processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_processed_at: Option<String>,
    /// When the job finished (completed or failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    completed_at: Option<String>,
    /// The processed rows, by index.
    report: Vec<ReportRowView>,
}

impl From<Import> for ImportView {
    fn from(i: Import) -> Self {
        ImportView {
            list_id: i.id,
            campaign_id: i.campaign_id,
            status: i.status.as_str(),
            total: i.total,
            processed: i.processed,
            imported: i.imported,
            existing: i.existing,
            invalid: i.invalid,
            skipped_dnc: i.skipped_dnc,
            enrichment_failed: i.enrichment_failed,
            current_index: i.current_index,
            started_at: i.started_at.map(iso8601),
            last_processed_at: i.last_processed_at.map(iso8601),
            completed_at: i.completed_at.map(iso8601),
            report: i.report.into_iter().map(ReportRowView::from).collect(),
        }
    }
}

/// `custom_data` followed by one `fieldName: fieldValue` line per legacy field.
pub fn fold_additional_fields(custom_data: &str, fields: &[AdditionalField]) -> String {
    let lines = fields
        .iter()
        .map(|f| format!("{}: {}", f.field_name.trim(), f.field_value.trim()));
    std::iter::once(custom_data.to_owned())
        .filter(|c| !c.is_empty())
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The row for `input`, or its problems recorded under `prefix` (`""` or `prospects[3].`).
fn import_row(input: ProspectInput, prefix: &str, problems: &mut Problems) -> Option<NewImportRow> {
    let before = problems.clone();
    let custom_data = input.custom_data.unwrap_or_default();
    check_prospect(problems, prefix, &input.name, &input.url, &custom_data);
    let (name, url) = (input.name.trim(), input.url.trim());
    let fields = input.additional_fields.unwrap_or_default();
    let folded = fold_additional_fields(&custom_data, &fields);
    if fields.len() > MAX_ADDITIONAL_FIELDS {
        problems.add(
            format!("{prefix}additionalFields"),
            format!("At most {MAX_ADDITIONAL_FIELDS} additional fields are accepted"),
        );
    } else if !fields.is_empty() && folded.chars().count() > MAX_CUSTOM_DATA_LEN {
        problems.add(
            format!("{prefix}additionalFields"),
            format!(
                "customData with the additional fields folded in must be at most \
                 {MAX_CUSTOM_DATA_LEN} characters long"
            ),
        );
    }
    (*problems == before).then(|| NewImportRow {
        name: name.to_owned(),
        url: url.to_owned(),
        custom_data: folded,
        ongoing: input.ongoing.unwrap_or(false),
    })
}

/// Records a problem when `id` is blank or cannot be an id.
fn check_id(field: &str, id: &str, problems: &mut Problems) {
    if id.trim().is_empty() {
        problems.add(field, format!("The {field} field is required"));
    } else if id.chars().count() > MAX_ID_LEN {
        problems.add(field, format!("The {field} field is not a valid id"));
    }
}

/// The rows of a batch, or every problem found in it.
fn batch_rows(prospects: Vec<ProspectInput>, problems: &mut Problems) -> Vec<NewImportRow> {
    if prospects.is_empty() {
        problems.add("prospects", "At least one prospect is required");
        return Vec::new();
    }
    if prospects.len() > MAX_BATCH_PROSPECTS {
        problems.add(
            "prospects",
            format!("At most {MAX_BATCH_PROSPECTS} prospects per request"),
        );
        return Vec::new();
    }
    prospects
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| import_row(p, &format!("prospects[{i}]."), problems))
        .collect()
}

/// Add one prospect to a campaign (asynchronous import).
#[utoipa::path(
    post,
    path = "/v1/prospects",
    tag = "Prospects",
    request_body = AddProspectRequest,
    responses(
        (status = 201, description = "Import queued", body = ImportQueued),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn add_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<AddProspectRequest>,
) -> ApiResult<(StatusCode, Json<ImportQueued>)> {
    let mut problems = Problems::new();
    check_id("campaignId", &body.campaign_id, &mut problems);
    let input = ProspectInput {
        name: body.name,
        url: body.url,
        ongoing: body.ongoing,
        custom_data: body.custom_data,
        additional_fields: body.additional_fields,
    };
    let row = import_row(input, "", &mut problems);
    problems.into_result().map_err(ApiError::Validation)?;
    let rows: Vec<NewImportRow> = row.into_iter().collect();
    let list_id = state
        .store
        .create_import(
            &tenant.team_id,
            body.campaign_id.trim(),
            source::SINGLE,
            &rows,
        )
        .await
        .or_not_found("Campaign not found")?;
    Ok((
        StatusCode::CREATED,
        Json(ImportQueued {
            message: "Prospect added successfully".to_owned(),
            list_id,
        }),
    ))
}

/// Add up to 100 prospects to a campaign (asynchronous import).
#[utoipa::path(
    post,
    path = "/v1/prospects/batch",
    tag = "Prospects",
    request_body = AddBatchRequest,
    responses(
        (status = 201, description = "Import queued", body = ImportQueued),
        (
            status = 400,
            description = "Validation error (including more than 100 prospects)",
            body = ErrorBody
        ),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn add_prospects_batch(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<AddBatchRequest>,
) -> ApiResult<(StatusCode, Json<ImportQueued>)> {
    let mut problems = Problems::new();
    check_id("campaignId", &body.campaign_id, &mut problems);
    let rows = batch_rows(body.prospects, &mut problems);
    problems.into_result().map_err(ApiError::Validation)?;
    let list_id = state
        .store
        .create_import(
            &tenant.team_id,
            body.campaign_id.trim(),
            source::BATCH,
            &rows,
        )
        .await
        .or_not_found("Campaign not found")?;
    Ok((
        StatusCode::CREATED,
        Json(ImportQueued {
            message: format!("{} prospects added successfully", rows.len()),
            list_id,
        }),
    ))
}

/// The distinct campaign ids of a round-robin request, in request order.
fn distinct_ids(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Distribute prospects over several campaigns, each to the least loaded one.
///
/// Each prospect goes to the campaign with the lowest current load (its prospects plus those
/// this request already gave it), ties to the campaign first in the request; one import job is
/// queued per campaign that received prospects.
#[utoipa::path(
    post,
    path = "/v1/prospects/batch/round-robin",
    tag = "Prospects",
    request_body = RoundRobinRequest,
    responses(
        (status = 201, description = "Imports queued", body = RoundRobinQueued),
        (
            status = 400,
            description = "`invalid_campaigns` (fewer than 2 campaigns) or validation error",
            body = ErrorBody
        ),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "`forbidden`: a campaign of another team", body = ErrorBody),
        (status = 404, description = "`campaign_not_found`", body = ErrorBody),
    )
)]
pub async fn add_prospects_round_robin(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<RoundRobinRequest>,
) -> ApiResult<(StatusCode, Json<RoundRobinQueued>)> {
    let campaign_ids = distinct_ids(body.campaign_ids);
    if campaign_ids.len() < MIN_ROUND_ROBIN_CAMPAIGNS {
        return Err(ApiError::InvalidCampaigns);
    }
    let mut problems = Problems::new();
    if campaign_ids.len() > MAX_ROUND_ROBIN_CAMPAIGNS {
        problems.add(
            "campaignIds",
            format!("At most {MAX_ROUND_ROBIN_CAMPAIGNS} campaigns per request"),
        );
    } else {
        for (i, id) in campaign_ids.iter().enumerate() {
            check_id(&format!("campaignIds[{i}]"), id, &mut problems);
        }
    }
    let rows = batch_rows(body.prospects, &mut problems);
    problems.into_result().map_err(ApiError::Validation)?;
    let outcome = state
        .store
        .create_round_robin(&tenant.team_id, &campaign_ids, &rows)
        .await?;
    let assignments = match outcome {
        RoundRobin::Created(assignments) => assignments,
        RoundRobin::CampaignNotFound(id) => return Err(ApiError::CampaignNotFound(id)),
        RoundRobin::OtherTeam(id) => {
            return Err(ApiError::Forbidden(format!(
                "Campaign {id} does not belong to your team"
            )));
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(RoundRobinQueued {
            message: "Round Robin distribution processing started",
            total_prospects: rows.len(),
            campaigns_count: campaign_ids.len(),
            successful_campaign_ids: assignments.iter().map(|a| a.campaign_id.clone()).collect(),
            distribution: assignments
                .into_iter()
                .map(DistributionView::from)
                .collect(),
        }),
    ))
}

/// The status, counters and per-row report of an import.
///
/// An import of another team answers 404, as an unknown one does.
#[utoipa::path(
    get,
    path = "/v1/prospects/imports/{listId}",
    tag = "Prospects",
    params(
        ("listId" = String, Path, description = "The `listId` returned when the import was created")
    ),
    responses(
        (status = 200, description = "Import status", body = ImportView),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Import not found", body = ErrorBody),
    )
)]
pub async fn get_import(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(list_id): Path<String>,
) -> ApiResult<Json<ImportView>> {
    let import = state
        .store
        .get_import(&tenant.team_id, &list_id)
        .await
        .or_not_found("Import not found")?;
    Ok(Json(ImportView::from(import)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &str) -> AdditionalField {
        AdditionalField {
            field_name: name.to_owned(),
            field_value: value.to_owned(),
        }
    }

    #[test]
    fn legacy_fields_are_appended_as_lines_after_custom_data() {
        let fields = [field("company", "Acme"), field(" role ", " CTO ")];
        assert_eq!(
            fold_additional_fields("Met at a fair", &fields),
            "Met at a fair\ncompany: Acme\nrole: CTO"
        );
        assert_eq!(
            fold_additional_fields("", &fields),
            "company: Acme\nrole: CTO"
        );
        assert_eq!(fold_additional_fields("only", &[]), "only");
    }

    #[test]
    fn duplicate_campaign_ids_count_once_in_request_order() {
        let ids = ["b", "a", " b", "c", "a"].map(str::to_owned).to_vec();
        assert_eq!(distinct_ids(ids), ["b", "a", "c"]);
    }
}
