//! Campaigns: list, create, update, delete, pause, resume and stats.
//!
//! Rules (catalogue §2.2, DESIGN §4):
//! - `GET /campaigns` is a bare array, newest first; `limit` (1–100), `offset` and `after` (the
//!   campaigns after that id in the list) are optional and combine; without any the whole list
//!   comes back. The list and `GET /campaigns/{id}/stats` also show the campaigns a client team
//!   of an agency workspace may read; every write acts on the team's own campaigns only, so
//!   another team's id is 404.
//! - A new campaign's product, prompt and agent must be the team's (404 `not_found` naming the
//!   missing one); it counts against the plan's campaign quota (403 `plan_limit_reached`).
//! - Thresholds are 0–100 (defaults 70 and 50). Any pair is accepted: when
//!   `qualificationAutomatic` is below `qualificationVerification` no score falls between them,
//!   so nothing ever needs verification.
//! - `variables` maps each custom `{{variable}}` of the prompt to its value: at most
//!   `MAX_VARIABLES` keys of 1–`MAX_VARIABLE_NAME_LEN` characters, values up to
//!   `MAX_VARIABLE_VALUE_LEN` characters (`outbound_core::campaign`, shared with the dashboard).
//!   A campaign whose prompt uses a custom variable that
//!   `variables` does not define is refused (400 on `variables`); the system variables (`outbound_core::prompt::SYSTEM_VARIABLES`) need
//!   no definition. `PUT` replaces the whole map.
//! - Delete is refused with 409 `campaign_active` while the campaign is `active` (a `paused`,
//!   `draft` or `completed` campaign may go) and with 409 `campaign_busy` while an import into
//!   it is unfinished; the `deletionSummary` counts are those of the rows really deleted.
//! - Pause makes any campaign `paused`; resume makes any campaign `active` (a `draft` starts, a
//!   `completed` one runs again) and clears `preventAutoStart`. Both are idempotent.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::campaign::{
    check_name, check_reference, check_review_mode, check_threshold, check_variables,
    undefined_variables,
};
use outbound_core::conversation::{
    CampaignStatus, DEFAULT_AUTOMATIC_THRESHOLD, DEFAULT_VERIFICATION_THRESHOLD, percent_string,
};
use outbound_core::plan::Quota;
use outbound_core::prompt::PromptSections;
use outbound_core::review::ReviewMode;
use outbound_core::time::iso8601;
use outbound_core::validation::Problems;
use outbound_store::campaigns::{
    Campaign, CampaignCounters, CampaignPatch, DeletionSummary, ListWindow, NewCampaign,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, ApiQuery, Tenant};

const CAMPAIGN_NOT_FOUND: &str = "Campaign not found";
/// `limit` bounds of `GET /campaigns`.
const PAGE_LIMIT: (i64, i64) = (1, 100);

/// The counters of a campaign's conversations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStatsView {
    /// Conversations in the campaign.
    prospects: i64,
    /// Conversations in which the prospect answered.
    prospects_answers: i64,
    /// Messages sent by the agent.
    messages: i64,
    qualified: i64,
    /// Conversations that ended without a qualification.
    closed: i64,
}

impl From<CampaignCounters> for CampaignStatsView {
    fn from(c: CampaignCounters) -> Self {
        CampaignStatsView {
            prospects: c.prospects,
            prospects_answers: c.answers,
            messages: c.messages,
            qualified: c.qualified,
            closed: c.closed,
        }
    }
}

/// A campaign in the list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    id: String,
    name: String,
    status: CampaignStatus,
    /// The agent id.
    agent: String,
    /// The product id.
    product: String,
    created_at: String,
    stats: CampaignStatsView,
    /// Which AI messages wait for a person's approval (`off`, `first_message`, `all`).
    review_mode: ReviewMode,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        CampaignView {
            id: c.id,
            name: c.name,
            status: c.status,
            agent: c.agent_id,
            product: c.product_id,
            created_at: iso8601(c.created_at),
            stats: c.counters.into(),
            review_mode: c.review_mode,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// 1–100; without it, every campaign (after `after` and `offset`).
    limit: Option<i64>,
    /// Campaigns to skip, default 0.
    offset: Option<i64>,
    /// Only the campaigns after the one with this id, in list order.
    after: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCampaignRequest {
    /// 3 to 100 characters.
    name: String,
    /// A product of the team.
    product_id: String,
    /// A prompt of the team.
    prompt_id: String,
    /// An agent of the team.
    agent_id: String,
    /// 0–100, default 70: a score at or above it qualifies the prospect.
    qualification_automatic: Option<i64>,
    /// 0–100, default 50: a score at or above it (and below the automatic threshold) asks for
    /// a human verdict.
    qualification_verification: Option<i64>,
    /// Values of the prompt's custom `{{variables}}`.
    variables: Option<BTreeMap<String, String>>,
    /// Start `paused` and stay paused through lead uploads until resumed. Default false.
    prevent_auto_start: Option<bool>,
    /// `off` (default: the AI's messages are sent as written), `first_message` (the first
    /// message of each conversation waits for a person in `GET /v1/drafts`) or `all` (every
    /// AI message waits).
    #[schema(value_type = Option<ReviewMode>)]
    review_mode: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedCampaign {
    id: String,
    name: String,
    status: CampaignStatus,
    prevent_auto_start: bool,
    review_mode: ReviewMode,
}

/// Every field optional, at least one given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCampaignRequest {
    /// 3 to 100 characters.
    name: Option<String>,
    /// 0–100.
    qualification_automatic: Option<i64>,
    /// 0–100.
    qualification_verification: Option<i64>,
    /// Replaces the whole map.
    variables: Option<BTreeMap<String, String>>,
    /// `off`, `first_message` or `all`; drafts already waiting stay in the queue.
    #[schema(value_type = Option<ReviewMode>)]
    review_mode: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdMessage {
    id: String,
    message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedItemsView {
    /// Prospects that were in no other campaign.
    prospects: i64,
    chats: i64,
    messages: i64,
    /// Scheduled engine tasks.
    tasks: i64,
    webhook_events: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletionSummaryView {
    campaign_id: String,
    campaign_name: String,
    deleted_items: DeletedItemsView,
    deleted_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCampaignResponse {
    message: &'static str,
    deletion_summary: DeletionSummaryView,
}

impl From<DeletionSummary> for DeleteCampaignResponse {
    fn from(s: DeletionSummary) -> Self {
        DeleteCampaignResponse {
            message: "Campaign deleted successfully",
            deletion_summary: DeletionSummaryView {
                campaign_id: s.campaign_id,
                campaign_name: s.campaign_name,
                deleted_items: DeletedItemsView {
                    prospects: s.deleted.prospects,
                    chats: s.deleted.chats,
                    messages: s.deleted.messages,
                    tasks: s.deleted.tasks,
                    webhook_events: s.deleted.webhook_events,
                },
                deleted_at: iso8601(s.deleted_at),
            },
        }
    }
}

/// The counters with the two rates.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsWithRates {
    #[serde(flatten)]
    counters: CampaignStatsView,
    /// `qualified / prospects`, e.g. `"12.00%"`.
    conversion_rate: String,
    /// `prospectsAnswers / prospects`, e.g. `"28.00%"`.
    response_rate: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignStatsResponse {
    id: String,
    name: String,
    status: CampaignStatus,
    stats: StatsWithRates,
}

impl From<Campaign> for CampaignStatsResponse {
    fn from(c: Campaign) -> Self {
        let counters = c.counters;
        CampaignStatsResponse {
            id: c.id,
            name: c.name,
            status: c.status,
            stats: StatsWithRates {
                conversion_rate: percent_string(counters.qualified, counters.prospects),
                response_rate: percent_string(counters.answers, counters.prospects),
                counters: counters.into(),
            },
        }
    }
}

/// Refuses `variables` that leave a custom variable of `sections` undefined.
fn check_prompt_variables(
    sections: &PromptSections,
    variables: &BTreeMap<String, String>,
) -> ApiResult<()> {
    match undefined_variables(sections, variables) {
        Some(problem) => Err(ApiError::field("variables", problem)),
        None => Ok(()),
    }
}

/// The prompt's sections, to check variables against.
async fn prompt_sections(
    state: &AppState,
    tenant: &Tenant,
    prompt_id: &str,
) -> ApiResult<PromptSections> {
    Ok(state
        .store
        .get_prompt(&tenant.team_id, prompt_id)
        .await
        .or_not_found("Prompt not found")?
        .sections)
}

/// A campaign the team owns (a campaign it may only read is not found).
async fn owned(state: &AppState, tenant: &Tenant, id: &str) -> ApiResult<Campaign> {
    let campaign = state
        .store
        .get_campaign(&tenant.team_id, id)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    if campaign.team_id != tenant.team_id {
        return Err(ApiError::NotFound(CAMPAIGN_NOT_FOUND));
    }
    Ok(campaign)
}

/// List campaigns, newest first.
#[utoipa::path(
    get,
    path = "/v1/campaigns",
    tag = "Campaigns",
    params(
        ("limit" = Option<i64>, Query, description = "1–100; without it, the rest of the list"),
        ("offset" = Option<i64>, Query, description = "Campaigns to skip, default 0"),
        ("after" = Option<String>, Query, description = "Only the campaigns after this campaign id"),
    ),
    responses(
        (status = 200, description = "Campaigns (a bare array)", body = Vec<CampaignView>),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_campaigns(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<CampaignView>>> {
    let mut problems = Problems::new();
    if let Some(limit) = query.limit {
        problems.check_range("limit", limit, PAGE_LIMIT.0, PAGE_LIMIT.1);
    }
    let offset = query.offset.unwrap_or(0);
    problems.check_range("offset", offset, 0, i64::MAX);
    problems.into_result().map_err(ApiError::Validation)?;
    let window = ListWindow {
        after: query.after.filter(|after| !after.is_empty()),
        offset: u64::try_from(offset).unwrap_or_default(),
        limit: query.limit.and_then(|limit| u32::try_from(limit).ok()),
    };
    let campaigns = state.store.list_campaigns(&tenant.team_id, &window).await?;
    Ok(Json(
        campaigns.into_iter().map(CampaignView::from).collect(),
    ))
}

/// Create a campaign: `active` at once, or `paused` with `preventAutoStart`.
#[utoipa::path(
    post,
    path = "/v1/campaigns",
    tag = "Campaigns",
    request_body = CreateCampaignRequest,
    responses(
        (status = 201, description = "Created", body = CreatedCampaign),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Plan limit reached", body = ErrorBody),
        (status = 404, description = "Product, prompt or agent not found", body = ErrorBody),
    )
)]
pub async fn create_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CreateCampaignRequest>,
) -> ApiResult<(StatusCode, Json<CreatedCampaign>)> {
    let variables = body.variables.unwrap_or_default();
    let mut problems = Problems::new();
    check_name(&mut problems, &body.name);
    check_reference(&mut problems, "productId", &body.product_id);
    check_reference(&mut problems, "promptId", &body.prompt_id);
    check_reference(&mut problems, "agentId", &body.agent_id);
    check_threshold(
        &mut problems,
        "qualificationAutomatic",
        body.qualification_automatic,
    );
    check_threshold(
        &mut problems,
        "qualificationVerification",
        body.qualification_verification,
    );
    check_variables(&mut problems, &variables);
    let review_mode = check_review_mode(&mut problems, body.review_mode.as_deref());
    problems.into_result().map_err(ApiError::Validation)?;
    let sections = prompt_sections(&state, &tenant, &body.prompt_id).await?;
    check_prompt_variables(&sections, &variables)?;
    let new = NewCampaign {
        name: body.name.trim().to_owned(),
        product_id: body.product_id,
        prompt_id: body.prompt_id,
        agent_id: body.agent_id,
        qualification_automatic: body
            .qualification_automatic
            .unwrap_or(DEFAULT_AUTOMATIC_THRESHOLD),
        qualification_verification: body
            .qualification_verification
            .unwrap_or(DEFAULT_VERIFICATION_THRESHOLD),
        variables,
        prevent_auto_start: body.prevent_auto_start.unwrap_or(false),
        review_mode: review_mode.unwrap_or_default(),
    };
    let campaign = state
        .store
        .create_campaign(&tenant.team_id, &new, tenant.plan.quota(Quota::Campaigns))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedCampaign {
            id: campaign.id,
            name: campaign.name,
            status: campaign.status,
            prevent_auto_start: campaign.prevent_auto_start,
            review_mode: campaign.review_mode,
        }),
    ))
}

/// Change a campaign's name, thresholds or variables (which are replaced as a whole).
#[utoipa::path(
    put,
    path = "/v1/campaigns/{id}",
    tag = "Campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    request_body = UpdateCampaignRequest,
    responses(
        (status = 200, description = "Updated", body = IdMessage),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn update_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateCampaignRequest>,
) -> ApiResult<Json<IdMessage>> {
    let mut problems = Problems::new();
    if body.name.is_none()
        && body.qualification_automatic.is_none()
        && body.qualification_verification.is_none()
        && body.variables.is_none()
        && body.review_mode.is_none()
    {
        problems.add(
            "body",
            "Give at least one of name, qualificationAutomatic, qualificationVerification, \
             variables, reviewMode",
        );
    }
    let review_mode = check_review_mode(&mut problems, body.review_mode.as_deref());
    if let Some(name) = &body.name {
        check_name(&mut problems, name);
    }
    check_threshold(
        &mut problems,
        "qualificationAutomatic",
        body.qualification_automatic,
    );
    check_threshold(
        &mut problems,
        "qualificationVerification",
        body.qualification_verification,
    );
    if let Some(variables) = &body.variables {
        check_variables(&mut problems, variables);
    }
    problems.into_result().map_err(ApiError::Validation)?;
    if let Some(variables) = &body.variables {
        let campaign = owned(&state, &tenant, &id).await?;
        let sections = prompt_sections(&state, &tenant, &campaign.prompt_id).await?;
        check_prompt_variables(&sections, variables)?;
    }
    let patch = CampaignPatch {
        name: body.name.map(|name| name.trim().to_owned()),
        qualification_automatic: body.qualification_automatic,
        qualification_verification: body.qualification_verification,
        variables: body.variables,
        review_mode,
    };
    let campaign = state
        .store
        .update_campaign(&tenant.team_id, &id, &patch)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    Ok(Json(IdMessage {
        id: campaign.id,
        message: "Campaign updated successfully",
    }))
}

/// Delete a campaign that is not active, with its conversations, messages, import jobs, webhook
/// events and the prospects that are in no other campaign.
#[utoipa::path(
    delete,
    path = "/v1/campaigns/{id}",
    tag = "Campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Deleted, with what went", body = DeleteCampaignResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
        (status = 409, description = "campaign_active (pause it first) or campaign_busy (an import is running)", body = ErrorBody),
    )
)]
pub async fn delete_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<DeleteCampaignResponse>> {
    let summary = state
        .store
        .delete_campaign(&tenant.team_id, &id)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    Ok(Json(summary.into()))
}

/// Pause a campaign (idempotent).
#[utoipa::path(
    post,
    path = "/v1/campaigns/{id}/pause",
    tag = "Campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Paused", body = IdMessage),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn pause_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<IdMessage>> {
    let campaign = state
        .store
        .pause_campaign(&tenant.team_id, &id)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    Ok(Json(IdMessage {
        id: campaign.id,
        message: "Campaign paused successfully",
    }))
}

/// Resume a campaign (idempotent); also clears `preventAutoStart`.
#[utoipa::path(
    post,
    path = "/v1/campaigns/{id}/resume",
    tag = "Campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Resumed", body = IdMessage),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn resume_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<IdMessage>> {
    let campaign = state
        .store
        .resume_campaign(&tenant.team_id, &id)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    Ok(Json(IdMessage {
        id: campaign.id,
        message: "Campaign resumed successfully",
    }))
}

/// A campaign's counters with its conversion and response rates.
#[utoipa::path(
    get,
    path = "/v1/campaigns/{id}/stats",
    tag = "Campaigns",
    params(("id" = String, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Counters and rates", body = CampaignStatsResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn campaign_stats(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignStatsResponse>> {
    let campaign = state
        .store
        .get_campaign(&tenant.team_id, &id)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    Ok(Json(campaign.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::prompt::FollowUp;

    fn sections(text: &str) -> PromptSections {
        PromptSections {
            context: text.to_owned(),
            follow_ups: vec![FollowUp {
                prompt: "About {{goal}}".to_owned(),
                delay: 3,
            }],
            ..PromptSections::default()
        }
    }

    #[test]
    fn custom_variables_must_be_defined_system_ones_need_not() {
        let sections = sections("{{prospectName}} at {{company}}, {{customData}} {{painPoint}}");
        let mut variables = BTreeMap::new();
        let Err(ApiError::Validation(details)) = check_prompt_variables(&sections, &variables)
        else {
            panic!("undefined variables accepted");
        };
        assert_eq!(details[0].field, "variables");
        assert!(
            details[0].message.contains("{{goal}}, {{painPoint}}"),
            "{details:?}"
        );
        variables.insert("goal".to_owned(), "a demo".to_owned());
        variables.insert("painPoint".to_owned(), String::new());
        assert!(check_prompt_variables(&sections, &variables).is_ok());
    }
}
