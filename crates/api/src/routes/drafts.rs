//! The review queue (our extension): the AI's drafts in review-mode campaigns, with the
//! conversation they answer, and the decisions a person makes on them.
//!
//! Rules:
//! - the list pages like the conversation lists: `limit`/`offset` or an opaque `cursor`
//!   (`X-Next-Cursor`), newest first; filters `campaignId`, `agentId`, `status`;
//! - a draft shows the prospect, its text (and the person's edit beside it) and the last
//!   messages of the conversation, oldest first;
//! - approve and reject act on a `pending` draft only (409 `draft_not_pending` otherwise); an
//!   approved draft is sent by the engine, in the agent's working hours and limits, at most
//!   once; drafts are the owner team's only, every other team gets 404.

use axum::Json;
use axum::extract::{Path, State};
use outbound_core::review::{Author, DraftKind, DraftStatus, MAX_MESSAGE_LEN, MAX_REASON_LEN};
use outbound_core::time::{iso8601, now_millis};
use outbound_core::validation::Problems;
use outbound_store::chats::ChatPage;
use outbound_store::drafts::{AfterRejection, ContextMessage, Draft, DraftFilter};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

use super::prospects::{cursor_page, decode_cursor};
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, ApiQuery, Tenant};

const DRAFT_NOT_FOUND: &str = "Draft not found";
/// Page size bounds and default of the list.
const PAGE_LIMIT: (i64, i64) = (1, 100);
const DEFAULT_PAGE_LIMIT: i64 = 25;

/// The person a draft is written to.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftProspect {
    name: String,
    url: String,
}

/// A message of the conversation, for context.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftContextMessage {
    role: &'static str,
    author: Author,
    content: String,
    date: String,
}

impl From<ContextMessage> for DraftContextMessage {
    fn from(m: ContextMessage) -> Self {
        DraftContextMessage {
            role: m.role.as_str(),
            author: outbound_store::chats::author_of(m.role, m.author.as_deref()),
            content: m.content,
            date: iso8601(m.created_at),
        }
    }
}

/// A draft of the AI waiting for (or decided by) a person.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DraftView {
    id: String,
    chat_id: String,
    campaign_id: String,
    agent_id: String,
    kind: DraftKind,
    /// What the AI wrote.
    text: String,
    /// What the person approved instead, when they edited it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    edited_text: Option<String>,
    status: DraftStatus,
    created_at: String,
    /// When a pending draft expires unless a person decides.
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    sent_at: Option<String>,
    /// Why a person rejected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    reason: Option<String>,
    /// The model and prompt that wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    prompt_id: Option<String>,
    prospect: DraftProspect,
    /// The last messages of the conversation, oldest first.
    messages: Vec<DraftContextMessage>,
}

impl DraftView {
    fn new(draft: Draft, messages: Vec<DraftContextMessage>) -> Self {
        DraftView {
            id: draft.id,
            chat_id: draft.chat_id,
            campaign_id: draft.campaign_id,
            agent_id: draft.agent_id,
            kind: draft.kind,
            text: draft.text,
            edited_text: draft.edited_text,
            status: draft.status,
            created_at: iso8601(draft.created_at),
            expires_at: iso8601(draft.expires_at),
            decided_at: draft.decided_at.map(iso8601),
            sent_at: draft.sent_at.map(iso8601),
            reason: draft.reason,
            model: draft.model,
            prompt_id: draft.prompt_id,
            prospect: DraftProspect {
                name: draft.prospect_name,
                url: draft.prospect_url,
            },
            messages,
        }
    }
}

/// Query of `GET /v1/drafts`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
    cursor: Option<String>,
    campaign_id: Option<String>,
    agent_id: Option<String>,
    status: Option<String>,
}

/// `POST /v1/drafts/{id}/approve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// Send this instead of the AI's text (1–8000 characters); the AI's text is kept.
    text: Option<String>,
}

/// `POST /v1/drafts/{id}/reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why (up to 1000 characters), kept with the draft.
    reason: Option<String>,
    /// `true`: the AI writes a new draft; default `false`: the conversation is paused.
    regenerate: Option<bool>,
}

/// The views of `drafts` with the last messages of their conversations, in one query.
async fn views(state: &AppState, team: &str, drafts: Vec<Draft>) -> ApiResult<Vec<DraftView>> {
    let chats: Vec<String> = drafts.iter().map(|d| d.chat_id.clone()).collect();
    let mut context: HashMap<String, Vec<DraftContextMessage>> = HashMap::new();
    for message in state.store.draft_context(team, &chats).await? {
        context
            .entry(message.chat_id.clone())
            .or_default()
            .push(message.into());
    }
    Ok(drafts
        .into_iter()
        .map(|draft| {
            let messages = context.remove(&draft.chat_id).unwrap_or_default();
            DraftView::new(draft, messages)
        })
        .collect())
}

async fn view(state: &AppState, team: &str, draft: Draft) -> ApiResult<DraftView> {
    let mut views = views(state, team, vec![draft]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::Internal("a draft without its view".into()))
}

/// The validated filters and page of a list request, and the page size.
fn list_request(query: &ListQuery) -> ApiResult<(DraftFilter, ChatPage, i64)> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let mut problems = Problems::new();
    problems.check_range("limit", limit, PAGE_LIMIT.0, PAGE_LIMIT.1);
    problems.check_range("offset", offset, 0, i64::MAX);
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(value) => {
            let status = DraftStatus::parse(value);
            if status.is_none() {
                problems.add(
                    "status",
                    "Must be one of pending, approved, rejected, expired, sent, superseded",
                );
            }
            status
        }
    };
    let page = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => match decode_cursor(cursor) {
            Some(position) => ChatPage::After(position),
            None => {
                problems.add(
                    "cursor",
                    "Invalid cursor: pass the X-Next-Cursor of a previous page",
                );
                ChatPage::Offset(0)
            }
        },
        None => ChatPage::Offset(offset),
    };
    problems.into_result().map_err(ApiError::Validation)?;
    let filter = DraftFilter {
        campaign_id: query.campaign_id.clone().filter(|c| !c.is_empty()),
        agent_id: query.agent_id.clone().filter(|a| !a.is_empty()),
        status,
    };
    Ok((filter, page, limit))
}

/// List the team's drafts, newest first (our extension: the review queue).
///
/// Headers as on the conversation lists: `X-Limit`, `X-Offset`, `X-Has-More`, `X-Next-Cursor`.
#[utoipa::path(
    get,
    path = "/v1/drafts",
    tag = "Review",
    params(
        ("limit" = Option<i64>, Query, description = "1–100, default 25"),
        ("offset" = Option<i64>, Query, description = "Default 0; ignored when `cursor` is given"),
        ("cursor" = Option<String>, Query, description = "Opaque, from `X-Next-Cursor`"),
        ("campaignId" = Option<String>, Query, description = "Only this campaign's drafts"),
        ("agentId" = Option<String>, Query, description = "Only this agent's drafts"),
        ("status" = Option<DraftStatus>, Query, description = "Only drafts in this status, e.g. `pending`"),
    ),
    responses(
        (status = 200, description = "Drafts", body = Vec<DraftView>, headers(
            ("X-Limit" = i64, description = "Page size"),
            ("X-Offset" = i64, description = "Offset applied (0 with a cursor)"),
            ("X-Has-More" = bool, description = "`true` when another page follows"),
            ("X-Next-Cursor" = String, description = "Cursor of the next page; empty when none"),
        )),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_drafts(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<([(&'static str, String); 4], Json<Vec<DraftView>>)> {
    let (filter, page, limit) = list_request(&query)?;
    let mut drafts = state
        .store
        .list_drafts(&tenant.team_id, &filter, &page, limit + 1)
        .await?;
    let headers = cursor_page(&mut drafts, &page, limit, |d| (d.created_at, &d.id));
    Ok((headers, Json(views(&state, &tenant.team_id, drafts).await?)))
}

/// A draft with the last messages of its conversation.
#[utoipa::path(
    get,
    path = "/v1/drafts/{id}",
    tag = "Review",
    params(("id" = String, Path, description = "Draft id")),
    responses(
        (status = 200, description = "The draft", body = DraftView),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Draft not found", body = ErrorBody),
    )
)]
pub async fn get_draft(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<DraftView>> {
    let draft = state
        .store
        .get_draft(&tenant.team_id, &id)
        .await
        .or_not_found(DRAFT_NOT_FOUND)?;
    Ok(Json(view(&state, &tenant.team_id, draft).await?))
}

/// Approve a pending draft, as written or with `text` edited: the engine sends it in the
/// agent's working hours and limits, at most once. A conversation that changes first (a reply,
/// a pause, the DNC list, a person's message) supersedes it and nothing is sent.
#[utoipa::path(
    post,
    path = "/v1/drafts/{id}/approve",
    tag = "Review",
    params(("id" = String, Path, description = "Draft id")),
    request_body(content = ApproveRequest, description = "Optional edit"),
    responses(
        (status = 200, description = "Approved", body = DraftView),
        (status = 400, description = "Empty or too long text", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Draft not found", body = ErrorBody),
        (status = 409, description = "draft_not_pending: already decided, expired, sent or superseded", body = ErrorBody),
    )
)]
pub async fn approve_draft(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveRequest>,
) -> ApiResult<Json<DraftView>> {
    let mut problems = Problems::new();
    let edited = body.text.as_deref().map(str::trim);
    if let Some(text) = edited {
        problems.check_len("text", text, 1, MAX_MESSAGE_LEN);
    }
    problems.into_result().map_err(ApiError::Validation)?;
    let draft = state
        .store
        .approve_draft(&tenant.team_id, &id, edited, now_millis())
        .await
        .or_not_found(DRAFT_NOT_FOUND)?;
    Ok(Json(view(&state, &tenant.team_id, draft).await?))
}

/// Reject a pending draft: the conversation pauses, or with `regenerate: true` the AI writes a
/// new draft.
#[utoipa::path(
    post,
    path = "/v1/drafts/{id}/reject",
    tag = "Review",
    params(("id" = String, Path, description = "Draft id")),
    request_body(content = RejectRequest, description = "Optional reason and regenerate"),
    responses(
        (status = 200, description = "Rejected", body = DraftView),
        (status = 400, description = "Too long reason", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Draft not found", body = ErrorBody),
        (status = 409, description = "draft_not_pending: already decided, expired, sent or superseded", body = ErrorBody),
    )
)]
pub async fn reject_draft(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectRequest>,
) -> ApiResult<Json<DraftView>> {
    let mut problems = Problems::new();
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(reason) = reason {
        problems.check_len("reason", reason, 1, MAX_REASON_LEN);
    }
    problems.into_result().map_err(ApiError::Validation)?;
    let then = if body.regenerate.unwrap_or(false) {
        AfterRejection::Regenerate
    } else {
        AfterRejection::Pause
    };
    let draft = state
        .store
        .reject_draft(&tenant.team_id, &id, reason, then, now_millis())
        .await
        .or_not_found(DRAFT_NOT_FOUND)?;
    Ok(Json(view(&state, &tenant.team_id, draft).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_store::chats::Role;

    fn query(status: Option<&str>, cursor: Option<&str>) -> ListQuery {
        ListQuery {
            limit: None,
            offset: None,
            cursor: cursor.map(str::to_owned),
            campaign_id: None,
            agent_id: None,
            status: status.map(str::to_owned),
        }
    }

    #[test]
    fn list_filters_are_checked() {
        let (filter, page, limit) = list_request(&query(Some("pending"), None)).expect("valid");
        assert_eq!(filter.status, Some(DraftStatus::Pending));
        assert_eq!(page, ChatPage::Offset(0));
        assert_eq!(limit, DEFAULT_PAGE_LIMIT);
        assert!(list_request(&query(Some("waiting"), None)).is_err());
        assert!(list_request(&query(None, Some("not a cursor"))).is_err());
    }

    #[test]
    fn context_messages_name_their_author() {
        let message = ContextMessage {
            chat_id: "c".into(),
            role: Role::User,
            author: None,
            content: "Hi".into(),
            created_at: 0,
        };
        assert_eq!(DraftContextMessage::from(message).author, Author::Prospect);
    }
}
