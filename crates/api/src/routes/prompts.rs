//! Prompts: list, create (with the legacy `type` and `model` values), read and patch their
//! sections. A patch is validated as a whole against the merged result; a rejected patch saves
//! nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::prompt::{
    FollowUp, MANDATORY_VARIABLES, PROMPT_NAME_LEN, PromptType, SectionsPatch,
};
use outbound_core::time::iso8601;
use outbound_core::validation::Problems;
use outbound_store::prompts::Prompt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, Tenant};

const PROMPT_NOT_FOUND: &str = "Prompt not found";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromptView {
    id: String,
    name: String,
    /// `Messages` or `Comment`.
    #[serde(rename = "type")]
    kind: PromptType,
    /// Model id from `/models`.
    model: String,
    created_at: String,
}

impl From<&Prompt> for PromptView {
    fn from(p: &Prompt) -> Self {
        PromptView {
            id: p.id.clone(),
            name: p.name.clone(),
            kind: p.kind,
            model: p.model.clone(),
            created_at: iso8601(p.created_at),
        }
    }
}

/// What the prompt's text must and does contain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Guidelines {
    /// Variables the system fills in and every messages prompt should use.
    mandatory_variables: Vec<String>,
    /// Mandatory variables not used yet.
    missing_variables: Vec<String>,
    /// Every `{{variable}}` the sections use.
    variables: Vec<String>,
    /// How the sections are shaped.
    schema: &'static str,
}

const SECTIONS_SCHEMA: &str = "context: string; firstMessage: string; followUps: at most 3 of \
     {prompt: string, delay: 1-30 days after the previous message}; followUpEnabled: boolean; \
     comment: string (Comment prompts only)";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromptDetails {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: PromptType,
    model: String,
    context: String,
    first_message: String,
    follow_ups: Vec<FollowUp>,
    follow_up_enabled: bool,
    comment: String,
    guidelines: Guidelines,
    created_at: String,
    updated_at: String,
}

impl From<Prompt> for PromptDetails {
    fn from(p: Prompt) -> Self {
        let guidelines = Guidelines {
            mandatory_variables: MANDATORY_VARIABLES
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
            missing_variables: p
                .sections
                .missing_mandatory_variables()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            variables: p.sections.variables().into_iter().collect(),
            schema: SECTIONS_SCHEMA,
        };
        PromptDetails {
            id: p.id,
            name: p.name,
            kind: p.kind,
            model: p.model,
            context: p.sections.context,
            first_message: p.sections.first_message,
            follow_ups: p.sections.follow_ups,
            follow_up_enabled: p.sections.follow_up_enabled,
            comment: p.sections.comment,
            guidelines,
            created_at: iso8601(p.created_at),
            updated_at: iso8601(p.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePromptRequest {
    /// At least 3 characters.
    name: String,
    /// A model id from `/models` (legacy `model_gpt4`, `model_claude3`, `model_gpt35` too).
    model: String,
    /// `Messages` or `Comment` (legacy `message` and `invitation` mean `Messages`).
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatePromptResponse {
    id: String,
    message: &'static str,
}

/// A partial update of a prompt's sections; omitted fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePromptRequest {
    context: Option<String>,
    first_message: Option<String>,
    /// Replaces the whole list (at most 3; `[]` clears).
    follow_ups: Option<Vec<FollowUp>>,
    follow_up_enabled: Option<bool>,
    /// Comment prompts only.
    comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatePromptResponse {
    id: String,
    message: &'static str,
    prompt: PromptDetails,
}

/// List the team's prompts, newest first.
#[utoipa::path(
    get,
    path = "/v1/prompts",
    tag = "Prompts",
    responses(
        (status = 200, description = "Prompts", body = Vec<PromptView>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_prompts(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<Vec<PromptView>>> {
    let prompts = state.store.list_prompts(&tenant.team_id).await?;
    Ok(Json(prompts.iter().map(PromptView::from).collect()))
}

/// Create a prompt; its text is set with `PUT /v1/prompts/{id}`.
#[utoipa::path(
    post,
    path = "/v1/prompts",
    tag = "Prompts",
    request_body = CreatePromptRequest,
    responses(
        (status = 201, description = "Created", body = CreatePromptResponse),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn create_prompt(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CreatePromptRequest>,
) -> ApiResult<(StatusCode, Json<CreatePromptResponse>)> {
    let mut problems = Problems::new();
    let name = body.name.trim();
    problems.check_len("name", name, PROMPT_NAME_LEN.0, PROMPT_NAME_LEN.1);
    let kind = PromptType::from_request(&body.kind);
    if kind.is_none() {
        problems.add("type", "The type must be one of Messages, Comment");
    }
    if state.models.get(&body.model).is_none() {
        problems.add("model", "Unknown model id; see GET /v1/models");
    }
    problems.into_result().map_err(ApiError::Validation)?;
    let kind = kind.ok_or_else(|| ApiError::field("type", "unknown prompt type"))?;
    let prompt = state
        .store
        .create_prompt(&tenant.team_id, name, kind, &body.model)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatePromptResponse {
            id: prompt.id,
            message: "Prompt created successfully",
        }),
    ))
}

/// Get a prompt's sections.
#[utoipa::path(
    get,
    path = "/v1/prompts/{id}",
    tag = "Prompts",
    params(("id" = String, Path, description = "Prompt id")),
    responses(
        (status = 200, description = "The prompt", body = PromptDetails),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Prompt not found", body = ErrorBody),
    )
)]
pub async fn get_prompt(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<PromptDetails>> {
    let prompt = state
        .store
        .get_prompt(&tenant.team_id, &id)
        .await
        .or_not_found(PROMPT_NOT_FOUND)?;
    Ok(Json(prompt.into()))
}

/// Patch a prompt's sections.
#[utoipa::path(
    put,
    path = "/v1/prompts/{id}",
    tag = "Prompts",
    params(("id" = String, Path, description = "Prompt id")),
    request_body = UpdatePromptRequest,
    responses(
        (status = 200, description = "Updated", body = UpdatePromptResponse),
        (status = 400, description = "Validation error; nothing was saved", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Prompt not found", body = ErrorBody),
    )
)]
pub async fn update_prompt(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdatePromptRequest>,
) -> ApiResult<Json<UpdatePromptResponse>> {
    let patch = SectionsPatch {
        context: body.context,
        first_message: body.first_message,
        follow_ups: body.follow_ups,
        follow_up_enabled: body.follow_up_enabled,
        comment: body.comment,
    };
    if patch == SectionsPatch::default() {
        return Err(ApiError::field(
            "body",
            "At least one section must be given",
        ));
    }
    let prompt = state
        .store
        .update_prompt(&tenant.team_id, &id, patch)
        .await
        .or_not_found(PROMPT_NOT_FOUND)?;
    Ok(Json(UpdatePromptResponse {
        id: prompt.id.clone(),
        message: "Prompt updated successfully",
        prompt: prompt.into(),
    }))
}
