//! The Do-Not-Contact list, in its own documented envelope `{error: null, data, message?}`.
//!
//! Every URL is normalised (`outbound_core::dnc`) before it is stored or compared, so
//! `linkedin.com/in/u`, `https://www.linkedin.com/in/U/` and `in/u` are one entry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::dnc::{MAX_BATCH_URLS, normalize_linkedin_url};
use outbound_core::time::iso8601;
use outbound_store::StoreError;
use outbound_store::dnc::{BatchOutcome, DncDeletion, DncEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Tenant};

/// Page size bounds and default of `GET /dnc`.
const PAGE_LIMIT: (i64, i64) = (1, 1000);
const DEFAULT_PAGE_LIMIT: i64 = 50;

/// The DNC envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `null` on success.
    error: Option<String>,
    data: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

fn envelope<T>(data: T, message: Option<String>) -> Json<Envelope<T>> {
    Json(Envelope {
        error: None,
        data,
        message,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DncEntryView {
    #[serde(rename = "$id")]
    id: String,
    #[serde(rename = "teamId")]
    team_id: String,
    /// Normalised: `https://linkedin.com/in/<slug>`.
    url: String,
    #[serde(rename = "$createdAt")]
    created_at: String,
    #[serde(rename = "$updatedAt")]
    updated_at: String,
}

impl From<DncEntry> for DncEntryView {
    fn from(e: DncEntry) -> Self {
        DncEntryView {
            id: e.id,
            team_id: e.team_id,
            url: e.url,
            created_at: iso8601(e.created_at),
            updated_at: iso8601(e.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DncPage {
    entries: Vec<DncEntryView>,
    /// Entries in this page.
    total: usize,
    limit: i64,
    offset: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListQuery {
    /// 1–1000, default 50.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckQuery {
    /// The LinkedIn URL to look up (URL-encoded).
    url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    on_list: bool,
    entry: Option<DncEntryView>,
}

/// The documented body; parsed leniently as JSON to give the documented `invalid_request`.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "schema of the request body; the handler reads it as JSON"
)]
pub struct AddRequest {
    /// A LinkedIn profile URL in any usual spelling.
    url: String,
}

/// The documented body; parsed leniently as JSON to give the documented `invalid_request`.
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "schema of the request body; the handler reads it as JSON"
)]
pub struct BatchRequest {
    /// At least one `{url}`.
    entries: Vec<AddRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDetail {
    url: String,
    /// `added`, `duplicate` or `error`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    added: usize,
    duplicates: usize,
    errors: usize,
    details: Vec<BatchDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteResult {
    message: &'static str,
}

/// The `url` string of a JSON object, or the documented `invalid_request`.
fn url_field<'a>(value: &'a Value, missing: &str) -> ApiResult<&'a str> {
    value
        .get("url")
        .and_then(Value::as_str)
        .filter(|url| !url.trim().is_empty())
        .ok_or_else(|| ApiError::InvalidRequest(missing.to_owned()))
}

/// List the team's DNC entries, newest first.
#[utoipa::path(
    get,
    path = "/v1/dnc",
    tag = "Do-Not-Contact",
    params(
        ("limit" = Option<i64>, Query, description = "1–1000, default 50"),
        ("offset" = Option<i64>, Query, description = "Default 0"),
    ),
    responses(
        (status = 200, description = "A page of entries", body = Envelope<DncPage>),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded (with resetTime)", body = ErrorBody),
    )
)]
pub async fn list_dnc(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Envelope<DncPage>>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let mut problems = outbound_core::validation::Problems::new();
    problems.check_range("limit", limit, PAGE_LIMIT.0, PAGE_LIMIT.1);
    problems.check_range("offset", offset, 0, i64::MAX);
    problems.into_result().map_err(ApiError::Validation)?;
    let entries: Vec<DncEntryView> = state
        .store
        .list_dnc(&tenant.team_id, limit, offset)
        .await?
        .into_iter()
        .map(DncEntryView::from)
        .collect();
    Ok(envelope(
        DncPage {
            total: entries.len(),
            entries,
            limit,
            offset,
        },
        None,
    ))
}

/// Add one URL to the list.
#[utoipa::path(
    post,
    path = "/v1/dnc",
    tag = "Do-Not-Contact",
    request_body = AddRequest,
    responses(
        (status = 201, description = "Added", body = Envelope<DncEntryView>),
        (status = 400, description = "invalid_request or invalid_url", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 409, description = "dnc_entry_exists", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded (with resetTime)", body = ErrorBody),
    )
)]
pub async fn add_dnc(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Envelope<DncEntryView>>)> {
    let url = url_field(&body, "LinkedIn URL is required")?;
    let url = normalize_linkedin_url(url).ok_or(ApiError::InvalidUrl)?;
    let entry = state
        .store
        .add_dnc(&tenant.team_id, &url)
        .await
        .map_err(|error| match error {
            StoreError::AlreadyExists => ApiError::DncEntryExists,
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        envelope(
            entry.into(),
            Some("Added to Do Not Contact list".to_owned()),
        ),
    ))
}

/// Is this URL on the list?
#[utoipa::path(
    get,
    path = "/v1/dnc/check",
    tag = "Do-Not-Contact",
    params(("url" = String, Query, description = "The LinkedIn URL, URL-encoded")),
    responses(
        (status = 200, description = "Whether the URL is listed", body = Envelope<CheckResult>),
        (status = 400, description = "invalid_request or invalid_url", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded (with resetTime)", body = ErrorBody),
    )
)]
pub async fn check_dnc(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<CheckQuery>,
) -> ApiResult<Json<Envelope<CheckResult>>> {
    let url = query
        .url
        .filter(|url| !url.trim().is_empty())
        .ok_or_else(|| ApiError::InvalidRequest("LinkedIn URL is required".to_owned()))?;
    let url = normalize_linkedin_url(&url).ok_or(ApiError::InvalidUrl)?;
    let entry = state.store.find_dnc(&tenant.team_id, &url).await?;
    Ok(envelope(
        CheckResult {
            on_list: entry.is_some(),
            entry: entry.map(DncEntryView::from),
        },
        None,
    ))
}

/// Add many URLs; each gets its own result and the batch continues past failures.
#[utoipa::path(
    post,
    path = "/v1/dnc/batch",
    tag = "Do-Not-Contact",
    request_body = BatchRequest,
    responses(
        (status = 201, description = "Processed, even when some entries failed", body = Envelope<BatchResult>),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded (with resetTime)", body = ErrorBody),
    )
)]
pub async fn add_dnc_batch(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Envelope<BatchResult>>)> {
    let entries = body
        .get("entries")
        .and_then(Value::as_array)
        .filter(|entries| !entries.is_empty())
        .ok_or_else(|| ApiError::InvalidRequest("Entries array is required".to_owned()))?;
    if entries.len() > MAX_BATCH_URLS {
        return Err(ApiError::InvalidRequest(format!(
            "At most {MAX_BATCH_URLS} entries per batch"
        )));
    }
    let inputs: Vec<&str> = entries
        .iter()
        .map(|entry| url_field(entry, "Each entry must have a url field"))
        .collect::<ApiResult<_>>()?;
    let normalised: Vec<Option<String>> = inputs
        .iter()
        .map(|url| normalize_linkedin_url(url))
        .collect();
    let valid: Vec<String> = normalised.iter().flatten().cloned().collect();
    let mut outcomes = state
        .store
        .add_dnc_batch(&tenant.team_id, &valid)
        .await?
        .into_iter();
    let mut result = BatchResult {
        added: 0,
        duplicates: 0,
        errors: 0,
        details: Vec::with_capacity(inputs.len()),
    };
    for (input, normalised) in inputs.iter().zip(normalised) {
        let detail = match normalised {
            None => {
                result.errors += 1;
                BatchDetail {
                    url: (*input).to_owned(),
                    status: "error",
                    error: Some("Invalid LinkedIn URL format"),
                }
            }
            Some(url) => {
                let added = matches!(outcomes.next(), Some(BatchOutcome::Added(_)));
                if added {
                    result.added += 1;
                } else {
                    result.duplicates += 1;
                }
                BatchDetail {
                    url,
                    status: if added { "added" } else { "duplicate" },
                    error: None,
                }
            }
        };
        result.details.push(detail);
    }
    let message = format!(
        "Bulk import completed: {} added, {} duplicates, {} errors",
        result.added, result.duplicates, result.errors
    );
    Ok((StatusCode::CREATED, envelope(result, Some(message))))
}

/// Remove an entry.
#[utoipa::path(
    delete,
    path = "/v1/dnc/{id}",
    tag = "Do-Not-Contact",
    params(("id" = String, Path, description = "DNC entry id ($id)")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<DeleteResult>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "unauthorized_dnc: the entry belongs to another team", body = ErrorBody),
        (status = 404, description = "dnc_not_found", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded (with resetTime)", body = ErrorBody),
    )
)]
pub async fn delete_dnc(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<Envelope<DeleteResult>>> {
    match state.store.delete_dnc(&tenant.team_id, &id).await? {
        DncDeletion::Deleted => Ok(envelope(
            DeleteResult {
                message: "DNC entry deleted successfully",
            },
            None,
        )),
        DncDeletion::NotFound => Err(ApiError::DncNotFound),
        DncDeletion::OtherTeam => Err(ApiError::UnauthorizedDnc),
    }
}
