//! Sales Navigator imports: `POST /v1/prospects/sales-navigator` (catalogue §2.3) and our
//! `GET /v1/prospects/sales-navigator/{sourceId}`.
//!
//! Rules:
//! - the body admits exactly the documented fields (`additionalProperties: false`): an unknown
//!   field is a 400 `validation_error` naming it; `searchUrl` is an HTTPS
//!   `https://www.linkedin.com/sales/search/people` URL with a non-empty `query` parameter, at
//!   most 20,000 characters; `requestedCount` is 100, 250 or 500 (default 250); `name` 1–120
//!   characters (default "Sales Navigator import");
//! - the campaign must be the team's: 404 `campaign_not_found` when the team cannot see it
//!   (another team's campaign included), 403 `forbidden` when the team sees it only as the client
//!   of an agency workspace; then 400 `campaign_missing_agent` / `campaign_not_ready`, 409
//!   `sales_navigator_source_exists` / `campaign_busy`, 429 `sales_navigator_team_limit`, in
//!   that order; nothing is written unless the answer is 202;
//! - the search itself runs later (`outbound_engine::sales_navigator`); its state is read with
//!   `GET /v1/prospects/sales-navigator/{sourceId}`, and its people with the import job `listId`
//!   it names once completed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::time::{iso8601, now_millis};
use outbound_core::validation::Problems;
use outbound_store::sales_navigator::{MAX_ACTIVE_PER_TEAM, NewSource, QueueOutcome, Source};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, Tenant};

/// Longest search URL, in characters.
pub const MAX_SEARCH_URL_LEN: usize = 20_000;
/// The run sizes Sales Navigator offers.
pub const REQUESTED_COUNTS: [i64; 3] = [100, 250, 500];
/// Run size when none is given.
pub const DEFAULT_REQUESTED_COUNT: i64 = 250;
/// Name of a search when none is given.
pub const DEFAULT_NAME: &str = "Sales Navigator import";
/// Bounds of a search's name, in characters.
pub const NAME_LEN: (usize, usize) = (1, 120);
/// The only host, and path, of a people search.
const SEARCH_HOST: &str = "www.linkedin.com";
const SEARCH_PATH: &str = "/sales/search/people";
/// The parameter that holds the search.
const QUERY_PARAMETER: &str = "query";
/// Longest `campaignId` we look up (ids are 20 characters; anything far longer is not one).
const MAX_ID_LEN: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SalesNavigatorRequest {
    /// The campaign that receives the people found.
    campaign_id: String,
    /// A complete HTTPS `https://www.linkedin.com/sales/search/people?...` URL with a `query`
    /// parameter, at most 20,000 characters.
    #[schema(format = "uri", max_length = 20000)]
    search_url: String,
    /// Most people requested for this run: 100, 250 or 500 (default 250).
    #[serde(default)]
    #[schema(schema_with = requested_count_schema)]
    requested_count: Option<i64>,
    /// 1–120 characters (default "Sales Navigator import").
    #[serde(default)]
    #[schema(min_length = 1, max_length = 120)]
    name: Option<String>,
}

/// `requestedCount`: one of [`REQUESTED_COUNTS`], default [`DEFAULT_REQUESTED_COUNT`].
fn requested_count_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(REQUESTED_COUNTS))
        .default(Some(DEFAULT_REQUESTED_COUNT.into()))
        .description(Some(
            "Most people requested for this run: 100, 250 or 500 (default 250).",
        ))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesNavigatorQueued {
    /// `Sales Navigator import queued`.
    message: &'static str,
    /// The saved search; follow it with `GET /v1/prospects/sales-navigator/{sourceId}`.
    source_id: String,
    /// The current run, `null` until a worker starts the search.
    run_id: Option<String>,
    /// Always `queued`.
    status: &'static str,
    requested_count: i64,
}

/// A saved search and what became of it (our extension).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesNavigatorSourceView {
    source_id: String,
    /// The current (or last) run, `null` before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    run_id: Option<String>,
    campaign_id: String,
    name: String,
    search_url: String,
    requested_count: i64,
    /// `queued`, `running`, `completed` or `failed`.
    status: &'static str,
    /// The import job of the people found, once completed (`null` when nobody was found);
    /// follow it with `GET /v1/prospects/imports/{listId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    list_id: Option<String>,
    /// How many people the search returned, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    found_count: Option<i64>,
    /// Why the last run failed (`null` once completed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    error: Option<String>,
    created_at: String,
    /// When the search completed or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    completed_at: Option<String>,
}

impl From<Source> for SalesNavigatorSourceView {
    fn from(s: Source) -> Self {
        SalesNavigatorSourceView {
            source_id: s.id,
            run_id: s.run_id,
            campaign_id: s.campaign_id,
            name: s.name,
            search_url: s.search_url,
            requested_count: s.requested_count,
            status: s.status.as_str(),
            list_id: s.list_id,
            found_count: s.found_count,
            error: s.error,
            created_at: iso8601(s.created_at),
            completed_at: s.completed_at.map(iso8601),
        }
    }
}

/// What is wrong with `url` as a Sales Navigator people search, if anything.
pub fn search_url_problem(url: &str) -> Option<String> {
    if url.is_empty() {
        return Some("The searchUrl field is required".to_owned());
    }
    if url.chars().count() > MAX_SEARCH_URL_LEN {
        return Some(format!(
            "The searchUrl field must be at most {MAX_SEARCH_URL_LEN} characters long"
        ));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("The searchUrl field must be a valid URL".to_owned());
    };
    let is_search = parsed.scheme() == "https"
        && parsed.host_str() == Some(SEARCH_HOST)
        && parsed.port().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.path().trim_end_matches('/') == SEARCH_PATH;
    if !is_search {
        return Some(format!(
            "The searchUrl must be a Sales Navigator people search: https://{SEARCH_HOST}{SEARCH_PATH}?query=..."
        ));
    }
    let has_query = parsed
        .query_pairs()
        .any(|(key, value)| key == QUERY_PARAMETER && !value.trim().is_empty());
    if !has_query {
        return Some(format!(
            "The searchUrl must contain a non-empty `{QUERY_PARAMETER}` parameter"
        ));
    }
    None
}

/// The validated request, or every problem found in it.
fn new_source(body: SalesNavigatorRequest) -> ApiResult<NewSource> {
    let mut problems = Problems::new();
    let campaign_id = body.campaign_id.trim();
    if campaign_id.is_empty() {
        problems.add("campaignId", "The campaignId field is required");
    } else if campaign_id.chars().count() > MAX_ID_LEN {
        problems.add("campaignId", "The campaignId field is not a valid id");
    }
    let search_url = body.search_url.trim();
    if let Some(problem) = search_url_problem(search_url) {
        problems.add("searchUrl", problem);
    }
    let requested_count = body.requested_count.unwrap_or(DEFAULT_REQUESTED_COUNT);
    if !REQUESTED_COUNTS.contains(&requested_count) {
        problems.add(
            "requestedCount",
            "The requestedCount field must be one of 100, 250 or 500",
        );
    }
    let name = body.name.as_deref().map_or(DEFAULT_NAME, str::trim);
    problems.check_len("name", name, NAME_LEN.0, NAME_LEN.1);
    problems.into_result().map_err(ApiError::Validation)?;
    Ok(NewSource {
        campaign_id: campaign_id.to_owned(),
        name: name.to_owned(),
        search_url: search_url.to_owned(),
        requested_count,
    })
}

/// Queue a Sales Navigator people search for import into a campaign.
///
/// The people found go through the standard import (Do-Not-Contact, duplicates, invalid
/// profiles). At most 3 active searches per team and 1 active import per campaign.
#[utoipa::path(
    post,
    path = "/v1/prospects/sales-navigator",
    tag = "Prospects",
    request_body = SalesNavigatorRequest,
    responses(
        (status = 202, description = "Sales Navigator import queued", body = SalesNavigatorQueued),
        (
            status = 400,
            description = "`validation_error` (URL, count, name, unknown field), \
                           `campaign_missing_agent` or `campaign_not_ready`",
            body = ErrorBody
        ),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (
            status = 403,
            description = "`forbidden`: a campaign the team sees only as an agency client",
            body = ErrorBody
        ),
        (status = 404, description = "`campaign_not_found`", body = ErrorBody),
        (
            status = 409,
            description = "`campaign_busy` (the campaign is already importing) or \
                           `sales_navigator_source_exists` (the search is saved for the campaign)",
            body = ErrorBody
        ),
        (
            status = 429,
            description = "`sales_navigator_team_limit`: the team has 3 active imports",
            body = ErrorBody
        ),
    )
)]
pub async fn import_sales_navigator(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<SalesNavigatorRequest>,
) -> ApiResult<(StatusCode, Json<SalesNavigatorQueued>)> {
    let source = new_source(body)?;
    let outcome = state
        .store
        .queue_sales_navigator(&tenant.team_id, &source, now_millis())
        .await?;
    let queued = match outcome {
        QueueOutcome::Queued(queued) => queued,
        QueueOutcome::CampaignNotFound => {
            return Err(ApiError::CampaignNotFound(source.campaign_id));
        }
        QueueOutcome::OtherTeam => {
            return Err(ApiError::Forbidden(format!(
                "Campaign {} does not belong to your team",
                source.campaign_id
            )));
        }
        QueueOutcome::MissingAgent => return Err(ApiError::CampaignMissingAgent),
        QueueOutcome::NotReady(why) => return Err(ApiError::CampaignNotReady(why)),
        QueueOutcome::Exists => return Err(ApiError::SalesNavigatorSourceExists),
        QueueOutcome::Busy => return Err(ApiError::CampaignBusy),
        QueueOutcome::TeamLimit => {
            return Err(ApiError::SalesNavigatorTeamLimit(MAX_ACTIVE_PER_TEAM));
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(SalesNavigatorQueued {
            message: "Sales Navigator import queued",
            source_id: queued.id,
            run_id: queued.run_id,
            status: queued.status.as_str(),
            requested_count: queued.requested_count,
        }),
    ))
}

/// A Sales Navigator import and what became of it (our extension).
///
/// A search of another team answers 404, as an unknown one does.
#[utoipa::path(
    get,
    path = "/v1/prospects/sales-navigator/{sourceId}",
    tag = "Prospects",
    params(("sourceId" = String, Path, description = "The `sourceId` of the queued import")),
    responses(
        (status = 200, description = "The import", body = SalesNavigatorSourceView),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Import not found", body = ErrorBody),
    )
)]
pub async fn get_sales_navigator(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(source_id): Path<String>,
) -> ApiResult<Json<SalesNavigatorSourceView>> {
    let source = state
        .store
        .get_sales_navigator(&tenant.team_id, &source_id)
        .await
        .or_not_found("Sales Navigator import not found")?;
    Ok(Json(SalesNavigatorSourceView::from(source)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "https://www.linkedin.com/sales/search/people?query=(keywords%3ASaaS)";

    #[test]
    fn only_https_people_searches_with_a_query_are_accepted() {
        assert_eq!(search_url_problem(GOOD), None);
        assert_eq!(
            search_url_problem(
                "https://www.linkedin.com/sales/search/people/?sessionId=x&query=(a)"
            ),
            None
        );
        for bad in [
            "",
            "not a url",
            "http://www.linkedin.com/sales/search/people?query=(a)",
            "https://linkedin.com/sales/search/people?query=(a)",
            "https://www.linkedin.evil.com/sales/search/people?query=(a)",
            "https://www.linkedin.com:8443/sales/search/people?query=(a)",
            "https://user@www.linkedin.com/sales/search/people?query=(a)",
            "https://www.linkedin.com/sales/search/company?query=(a)",
            "https://www.linkedin.com/sales/search/people",
            "https://www.linkedin.com/sales/search/people?keywords=x",
            "https://www.linkedin.com/sales/search/people?query=",
        ] {
            assert!(search_url_problem(bad).is_some(), "{bad} was accepted");
        }
        let long = format!("{GOOD}{}", "a".repeat(MAX_SEARCH_URL_LEN));
        assert!(search_url_problem(&long).is_some_and(|p| p.contains("20000")));
    }
}
