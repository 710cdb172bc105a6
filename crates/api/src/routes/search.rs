//! `GET /v1/prospects/search`: the conversations a team can read, filtered and paged.
//!
//! Rules (DESIGN.md §4 "search response"):
//! - the response has the OAS shape `{prospects, pagination}`, each item an OAS `Prospect`
//!   keyed by its chat id (as in `GET /prospects/campaign/{id}`), plus the flattened fields of
//!   the docs' example (`name`, `headline`, …, `location`, `hasResponded`, `isPaused`,
//!   `lastActivity`, `campaign`, `stats`) and a top-level `filters` with the filters applied
//!   and the values available;
//! - `query` keeps the conversations whose prospect's name, headline or company contains every
//!   whitespace-separated term, case-insensitively; `city` and `country` match exactly,
//!   case-insensitively; `qualification` is the coarse vocabulary (`pending` = in progress or
//!   awaiting review);
//! - an unknown value, a malformed number or boolean, an unknown status code or an out-of-range
//!   `limit`/`offset` is 400 `validation_error` naming the parameter;
//! - results are newest first; the client team of an agency workspace also finds the
//!   conversations of the agents assigned to it.

use axum::Json;
use axum::extract::State;
use outbound_core::conversation::{CoarseQualification, status};
use outbound_core::time::iso8601;
use outbound_core::validation::Problems;
use outbound_store::search::{FilterOptions, SearchFilter, SearchHit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::prospects::ProspectListItem;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Tenant};

/// Page size bounds and default.
const PAGE_LIMIT: (i64, i64) = (1, 100);
const DEFAULT_PAGE_LIMIT: i64 = 50;
/// Longest `query`, and most terms in it.
const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_TERMS: usize = 10;
/// Longest `city`, `country` and `campaignId`.
const MAX_VALUE_CHARS: usize = 200;
/// The coarse verdicts a search filters on.
const QUALIFICATIONS: [CoarseQualification; 3] = [
    CoarseQualification::Pending,
    CoarseQualification::Qualified,
    CoarseQualification::Disqualified,
];

/// Query of `GET /v1/prospects/search`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    query: Option<String>,
    campaign_id: Option<String>,
    qualification: Option<CoarseQualification>,
    status: Option<i64>,
    city: Option<String>,
    country: Option<String>,
    has_responded: Option<bool>,
    is_paused: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    country: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchCampaign {
    id: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchStats {
    /// Messages the agent sent.
    messages: i64,
    /// Messages the prospect sent.
    responses: i64,
    /// When the prospect last wrote; `null` before any reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_response: Option<String>,
}

/// A conversation found: the OAS `Prospect` plus the flattened fields of the docs' example.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem {
    #[serde(flatten)]
    conversation: ProspectListItem,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    headline: Option<String>,
    url: String,
    current_company_name: Option<String>,
    current_job_title: Option<String>,
    current_company_website: Option<String>,
    #[serde(rename = "currentCompanyLinkedInUrl")]
    current_company_linkedin_url: Option<String>,
    location: SearchLocation,
    has_responded: bool,
    is_paused: bool,
    /// The last message, or the conversation's creation before any.
    last_activity: String,
    campaign: SearchCampaign,
    stats: SearchStats,
}

impl From<SearchHit> for SearchItem {
    fn from(hit: SearchHit) -> Self {
        let prospect = hit.chat.prospect.clone();
        SearchItem {
            name: prospect.name,
            headline: prospect.headline,
            url: prospect.url,
            current_company_name: prospect.current_company_name,
            current_job_title: prospect.current_job_title,
            current_company_website: prospect.current_company_website,
            current_company_linkedin_url: prospect.current_company_linkedin_url,
            location: SearchLocation {
                city: hit.city,
                country: hit.country,
            },
            has_responded: hit.has_responded,
            is_paused: hit.chat.paused,
            last_activity: iso8601(hit.chat.last_message_at.unwrap_or(hit.chat.created_at)),
            campaign: SearchCampaign {
                id: hit.campaign_id,
                name: hit.campaign_name,
            },
            stats: SearchStats {
                messages: hit.messages_sent,
                responses: hit.responses,
                last_response: hit.last_response_at.map(iso8601),
            },
            conversation: ProspectListItem::from(hit.chat),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Matches in all.
    total: i64,
    limit: i64,
    offset: i64,
    /// Whether matches follow this page.
    has_more: bool,
}

/// The filters of this request, each only when given.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qualification: Option<CoarseQualification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_responded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_paused: Option<bool>,
}

/// The values the filters can take.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableFilters {
    qualifications: [CoarseQualification; 3],
    /// The distinct cities of the prospects the team can read, sorted, at most 100.
    cities: Vec<String>,
    /// The distinct countries, likewise.
    countries: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Filters {
    applied: AppliedFilters,
    available: AvailableFilters,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    prospects: Vec<SearchItem>,
    pagination: Pagination,
    filters: Filters,
}

/// `value` trimmed, `None` when blank.
fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The validated filter and page of a query.
fn parse(query: SearchQuery) -> ApiResult<(AppliedFilters, i64, i64)> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let applied = AppliedFilters {
        query: given(query.query),
        campaign_id: given(query.campaign_id),
        qualification: query.qualification,
        status: query.status,
        city: given(query.city),
        country: given(query.country),
        has_responded: query.has_responded,
        is_paused: query.is_paused,
    };
    let mut problems = Problems::new();
    problems.check_range("limit", limit, PAGE_LIMIT.0, PAGE_LIMIT.1);
    problems.check_range("offset", offset, 0, i64::MAX);
    if let Some(code) = applied.status.filter(|code| !status::ALL.contains(code)) {
        problems.add(
            "status",
            format!("Unknown status {code}: expected one of 0–7, 502–505"),
        );
    }
    if let Some(text) = &applied.query {
        problems.check_len("query", text, 1, MAX_QUERY_CHARS);
        if text.split_whitespace().count() > MAX_QUERY_TERMS {
            problems.add(
                "query",
                format!("At most {MAX_QUERY_TERMS} words can be searched at once"),
            );
        }
    }
    for (field, value) in [
        ("campaignId", &applied.campaign_id),
        ("city", &applied.city),
        ("country", &applied.country),
    ] {
        if let Some(value) = value {
            problems.check_len(field, value, 1, MAX_VALUE_CHARS);
        }
    }
    problems.into_result().map_err(ApiError::Validation)?;
    Ok((applied, limit, offset))
}

impl AppliedFilters {
    fn to_filter(&self) -> SearchFilter {
        SearchFilter {
            query: self.query.clone(),
            campaign_id: self.campaign_id.clone(),
            qualification: self.qualification,
            status: self.status,
            city: self.city.clone(),
            country: self.country.clone(),
            has_responded: self.has_responded,
            paused: self.is_paused,
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/prospects/search",
    tag = "Prospects",
    params(
        ("query" = Option<String>, Query, description = "Words that must all occur in the name, headline or company (case-insensitive)"),
        ("campaignId" = Option<String>, Query, description = "Only this campaign"),
        ("qualification" = Option<CoarseQualification>, Query, description = "pending, qualified or disqualified"),
        ("status" = Option<i64>, Query, description = "Conversation status code (0–7, 502–505)"),
        ("city" = Option<String>, Query, description = "Exact city, case-insensitive"),
        ("country" = Option<String>, Query, description = "Exact country, case-insensitive"),
        ("hasResponded" = Option<bool>, Query, description = "Whether the prospect replied"),
        ("isPaused" = Option<bool>, Query, description = "Whether the conversation is paused"),
        ("limit" = Option<i64>, Query, description = "1–100, default 50"),
        ("offset" = Option<i64>, Query, description = "≥ 0, default 0"),
    ),
    responses(
        (status = 200, description = "Matching conversations, newest first", body = SearchResponse),
        (status = 400, description = "A filter or the page is invalid", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn search_prospects(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResponse>> {
    let (applied, limit, offset) = parse(query)?;
    let results = state
        .store
        .search_chats(&tenant.team_id, &applied.to_filter(), limit, offset)
        .await?;
    let FilterOptions { cities, countries } =
        state.store.search_filter_options(&tenant.team_id).await?;
    let shown = i64::try_from(results.hits.len()).unwrap_or(i64::MAX);
    Ok(Json(SearchResponse {
        pagination: Pagination {
            total: results.total,
            limit,
            offset,
            has_more: offset.saturating_add(shown) < results.total,
        },
        prospects: results.hits.into_iter().map(SearchItem::from).collect(),
        filters: Filters {
            applied,
            available: AvailableFilters {
                qualifications: QUALIFICATIONS,
                cities,
                countries,
            },
        },
    }))
}
