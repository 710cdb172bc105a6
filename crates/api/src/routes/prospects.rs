//! Conversations ("chats": a prospect inside one campaign) and prospect deletion: the campaign
//! list with offset and cursor paging, the details with messages, `customData`, pause, resume,
//! the manual verdicts, and single and bulk deletion.
//!
//! Rules:
//! - read and act routes take a chat id; delete routes take a prospect id (a person, with chats
//!   in any number of campaigns). `GET` and `DELETE /v1/prospects/{chatId}` share one path
//!   segment, so the `DELETE` parameter carries the name `chatId` although it is a prospect id;
//! - reads are open to the client teams of agency workspaces (`readable_campaign!`); every write
//!   is for the owning team only, and anyone else gets 404;
//! - the campaign list pages by `offset` or by an opaque `cursor` (base64url of the last row's
//!   `created_at.id`); a cursor page continues strictly after that row in newest-first order, so
//!   conversations created meanwhile (always newer) never shift or repeat later pages.
//!   `X-Next-Cursor` is always sent, empty when there is no next page;
//! - `customData` longer than 3000 characters is truncated, never refused; `""` clears it;
//! - qualify/disqualify are idempotent: the webhook event is written (in the same transaction)
//!   only when the verdict changed the conversation;
//! - a prospect can be deleted only when each of its conversations is paused or finished
//!   (409 `prospect_active`). The summary reports the campaign of its first conversation (by
//!   creation) when it has several; `tasks` counts the engine's tasks removed with its
//!   conversations.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use outbound_core::conversation::{Qualification, status, truncate_custom_data};
use outbound_core::review::{Author, check_person_message};
use outbound_core::time::{Millis, iso8601, now_millis};
use outbound_core::validation::Problems;
use outbound_store::chats::{
    BulkDeletion, ChatCursor, ChatDetails, ChatFilter, ChatMessage, ChatPage, ChatSummary,
    CountersAfter, DeleteRefusal, ProspectCard, ProspectDeleted, Role, Verdict,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, ApiQuery, Tenant};

const CONVERSATION_NOT_FOUND: &str = "Conversation not found";
const PROSPECT_NOT_FOUND: &str = "Prospect not found";
const CAMPAIGN_NOT_FOUND: &str = "Campaign not found";
/// Page size bounds and default of the campaign list.
const PAGE_LIMIT: (i64, i64) = (1, 100);
const DEFAULT_PAGE_LIMIT: i64 = 25;
/// Most prospect ids in one bulk deletion.
const MAX_BULK_IDS: usize = 100;
/// Longest id a cursor may carry (ids are 20 characters).
const MAX_CURSOR_ID_LEN: usize = 64;
/// Separates the timestamp from the id inside a cursor.
const CURSOR_SEPARATOR: char = '.';

/// The list headers.
const X_LIMIT: &str = "x-limit";
const X_OFFSET: &str = "x-offset";
const X_HAS_MORE: &str = "x-has-more";
const X_NEXT_CURSOR: &str = "x-next-cursor";

/// The person behind a conversation (OAS `Prospect.prospect`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProspectCardView {
    /// The prospect id (what `DELETE /v1/prospects/{prospectId}` takes).
    id: String,
    name: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    headline: Option<String>,
    current_company_name: Option<String>,
    current_job_title: Option<String>,
    current_company_website: Option<String>,
    #[serde(rename = "currentCompanyLinkedInUrl")]
    current_company_linkedin_url: Option<String>,
}

impl From<ProspectCard> for ProspectCardView {
    fn from(p: ProspectCard) -> Self {
        ProspectCardView {
            id: p.id,
            name: p.name,
            url: p.url,
            headline: p.headline,
            current_company_name: p.current_company_name,
            current_job_title: p.current_job_title,
            current_company_website: p.current_company_website,
            current_company_linkedin_url: p.current_company_linkedin_url,
        }
    }
}

/// A conversation in a campaign's list (OAS `Prospect`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProspectListItem {
    /// The chat (conversation) id.
    id: String,
    /// Conversation status code (0–7, 502–505).
    status: i64,
    qualification: Qualification,
    paused: bool,
    /// When the last message was sent or received; `null` before any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_message: Option<String>,
    prospect: ProspectCardView,
}

impl From<ChatSummary> for ProspectListItem {
    fn from(c: ChatSummary) -> Self {
        ProspectListItem {
            id: c.id,
            status: c.status,
            qualification: c.qualification,
            paused: c.paused,
            last_message: c.last_message_at.map(iso8601),
            prospect: c.prospect.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatCampaign {
    id: String,
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProspectLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    country: Option<String>,
}

/// The person, with location and about (OAS `ProspectDetails.prospect`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProspectProfileView {
    #[serde(flatten)]
    card: ProspectCardView,
    location: ProspectLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    about: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    Assistant,
    User,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    role: MessageRole,
    content: String,
    /// When it was sent or received.
    date: String,
    /// Who wrote it: the AI, a person of the team (a take-over) or the prospect.
    author: Author,
    /// The model that wrote an AI message.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    model: Option<String>,
    /// The prompt an AI message was written from.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    prompt_id: Option<String>,
}

impl From<ChatMessage> for MessageView {
    fn from(m: ChatMessage) -> Self {
        MessageView {
            role: match m.role {
                Role::Assistant => MessageRole::Assistant,
                Role::User => MessageRole::User,
            },
            content: m.content,
            date: iso8601(m.created_at),
            author: m.author,
            model: m.model,
            prompt_id: m.prompt_id,
        }
    }
}

/// A conversation with its messages, oldest first (OAS `ProspectDetails` + `customData`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProspectDetails {
    /// The chat (conversation) id.
    id: String,
    status: i64,
    qualification: Qualification,
    paused: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_message: Option<String>,
    /// The per-conversation prompt context (`{{customData}}`).
    custom_data: String,
    campaign: ChatCampaign,
    prospect: ProspectProfileView,
    /// The AI's last qualification score (0–100), once it judged the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    qualification_score: Option<i64>,
    /// The model's one-line reason for that score.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    qualification_reason: Option<String>,
    messages: Vec<MessageView>,
}

impl From<ChatDetails> for ProspectDetails {
    fn from(d: ChatDetails) -> Self {
        let summary = d.summary;
        ProspectDetails {
            id: summary.id,
            status: summary.status,
            qualification: summary.qualification,
            paused: summary.paused,
            last_message: summary.last_message_at.map(iso8601),
            custom_data: d.custom_data,
            campaign: ChatCampaign {
                id: d.campaign_id,
                name: d.campaign_name,
            },
            prospect: ProspectProfileView {
                card: summary.prospect.into(),
                location: ProspectLocation {
                    city: d.city,
                    country: d.country,
                },
                about: d.about,
            },
            qualification_score: d.score,
            qualification_reason: d.score_reason,
            messages: d.messages.into_iter().map(MessageView::from).collect(),
        }
    }
}

/// Query of `GET /v1/prospects/campaign/{campaignId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
    cursor: Option<String>,
    status: Option<i64>,
    is_paused: Option<bool>,
    has_responded: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomDataRequest {
    /// The new value; longer than 3000 characters is truncated; `""` clears it.
    custom_data: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomDataResponse {
    message: &'static str,
    chat_id: String,
    /// `false` when the value was cleared.
    custom_data_saved: bool,
    /// Characters stored (after truncation).
    custom_data_length: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResult {
    message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProspectDeletedItems {
    chats: i64,
    messages: i64,
    /// The engine's tasks of those conversations.
    tasks: i64,
    webhook_events: i64,
}

impl From<&ProspectDeleted> for ProspectDeletedItems {
    fn from(d: &ProspectDeleted) -> Self {
        ProspectDeletedItems {
            chats: d.chats,
            messages: d.messages,
            tasks: d.tasks,
            webhook_events: d.webhook_events,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProspectDeletionSummary {
    prospect_id: String,
    prospect_name: String,
    /// The campaign of the prospect's first conversation (by creation); `null` without any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    campaign_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    campaign_name: Option<String>,
    deleted_items: ProspectDeletedItems,
    deleted_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStatsUpdated {
    prospects_count: i64,
    messages_count: i64,
    qualified_count: i64,
}

impl From<&CountersAfter> for CampaignStatsUpdated {
    fn from(c: &CountersAfter) -> Self {
        CampaignStatsUpdated {
            prospects_count: c.prospects_count,
            messages_count: c.messages_count,
            qualified_count: c.qualified_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteProspectResponse {
    message: &'static str,
    deletion_summary: ProspectDeletionSummary,
    /// The reported campaign's counters after the deletion; `null` when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    campaign_stats_updated: Option<CampaignStatsUpdated>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkDeleteRequest {
    /// 1–100 prospect ids.
    prospect_ids: Option<Vec<String>>,
    /// Safety filter: only prospects with a conversation in this campaign are deleted (the
    /// others fail with `campaign_mismatch`). A campaign the team does not have refuses the
    /// whole request with 400 `campaign_mismatch`.
    campaign_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkSummary {
    requested: usize,
    successful: usize,
    failed: usize,
    processed_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BulkItemStatus {
    Success,
    Failed,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkItemResult {
    prospect_id: String,
    status: BulkItemStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    prospect_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_items: Option<ProspectDeletedItems>,
    /// `not_found`, `prospect_active` or `campaign_mismatch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkCampaignStats {
    campaign_id: String,
    prospects_count: i64,
    messages_count: i64,
    qualified_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkDeleteResponse {
    message: &'static str,
    summary: BulkSummary,
    results: Vec<BulkItemResult>,
    /// Counters of `campaignId` (or, without it, of the first deleted prospect's campaign);
    /// `null` when there is no such campaign.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    campaign_stats_updated: Option<BulkCampaignStats>,
}

/// The cursor that continues after the row created at `created_at` with `id` (newest-first
/// lists: conversations, drafts).
pub(crate) fn encode_cursor(created_at: Millis, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_at}{CURSOR_SEPARATOR}{id}"))
}

/// Trims `rows` (read with one more than `limit`, to know whether another page follows) to
/// the page and returns its headers: `X-Limit`, `X-Offset`, `X-Has-More`, `X-Next-Cursor`
/// (continuing after the last row, whose `(created_at, id)` is `position`).
pub(crate) fn cursor_page<T>(
    rows: &mut Vec<T>,
    page: &ChatPage,
    limit: i64,
    position: impl Fn(&T) -> (Millis, &str),
) -> [(&'static str, String); 4] {
    let page_size = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > page_size;
    rows.truncate(page_size);
    let next_cursor = rows
        .last()
        .filter(|_| has_more)
        .map(|row| {
            let (created_at, id) = position(row);
            encode_cursor(created_at, id)
        })
        .unwrap_or_default();
    let offset = match page {
        ChatPage::Offset(offset) => *offset,
        ChatPage::After(_) => 0,
    };
    [
        (X_LIMIT, limit.to_string()),
        (X_OFFSET, offset.to_string()),
        (X_HAS_MORE, has_more.to_string()),
        (X_NEXT_CURSOR, next_cursor),
    ]
}

/// The position a cursor stands for, or `None` when it is not one of ours.
pub(crate) fn decode_cursor(cursor: &str) -> Option<ChatCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (created_at, id) = text.split_once(CURSOR_SEPARATOR)?;
    let valid_id = !id.is_empty()
        && id.len() <= MAX_CURSOR_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric());
    valid_id.then_some(())?;
    Some(ChatCursor {
        created_at: created_at.parse().ok()?,
        id: id.to_owned(),
    })
}

/// The validated filters and page of a list request, and the page size.
fn list_request(query: &ListQuery) -> ApiResult<(ChatFilter, ChatPage, i64)> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    let offset = query.offset.unwrap_or(0);
    let mut problems = Problems::new();
    problems.check_range("limit", limit, PAGE_LIMIT.0, PAGE_LIMIT.1);
    problems.check_range("offset", offset, 0, i64::MAX);
    if let Some(code) = query.status
        && !status::ALL.contains(&code)
    {
        problems.add("status", format!("Unknown conversation status {code}"));
    }
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let page = match cursor.map(decode_cursor) {
        Some(Some(position)) => ChatPage::After(position),
        Some(None) => {
            problems.add(
                "cursor",
                "Invalid cursor: pass the X-Next-Cursor of a previous page",
            );
            ChatPage::Offset(0)
        }
        None => ChatPage::Offset(offset),
    };
    problems.into_result().map_err(ApiError::Validation)?;
    let filter = ChatFilter {
        status: query.status,
        paused: query.is_paused,
        has_responded: query.has_responded,
    };
    Ok((filter, page, limit))
}

/// List a campaign's conversations, newest first.
///
/// Pages by `offset`, or by `cursor` (then `offset` is ignored). Headers: `X-Limit` (page
/// size), `X-Offset` (the offset applied; 0 when paging by cursor), `X-Has-More`
/// (`true`/`false`) and `X-Next-Cursor` (pass it as `cursor` for the next page; empty when
/// there is none). Cursor pages are stable while conversations are added.
#[utoipa::path(
    get,
    path = "/v1/prospects/campaign/{campaignId}",
    tag = "Prospects",
    params(
        ("campaignId" = String, Path, description = "Campaign id"),
        ("limit" = Option<i64>, Query, description = "1–100, default 25"),
        ("offset" = Option<i64>, Query, description = "Default 0; ignored when `cursor` is given"),
        ("cursor" = Option<String>, Query, description = "Opaque, from `X-Next-Cursor`"),
        ("status" = Option<i64>, Query, description = "Conversation status code, e.g. 4 = replied"),
        ("isPaused" = Option<bool>, Query, description = "Only paused (or running) conversations"),
        ("hasResponded" = Option<bool>, Query, description = "Only conversations where the prospect replied (or not)"),
    ),
    responses(
        (status = 200, description = "Conversations", body = Vec<ProspectListItem>, headers(
            ("X-Limit" = i64, description = "Page size"),
            ("X-Offset" = i64, description = "Offset applied (0 with a cursor)"),
            ("X-Has-More" = bool, description = "`true` when another page follows"),
            ("X-Next-Cursor" = String, description = "Cursor of the next page; empty when none"),
        )),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Campaign not found", body = ErrorBody),
    )
)]
pub async fn list_campaign_prospects(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(campaign_id): Path<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<([(&'static str, String); 4], Json<Vec<ProspectListItem>>)> {
    let (filter, page, limit) = list_request(&query)?;
    let mut chats = state
        .store
        .list_campaign_chats(&tenant.team_id, &campaign_id, &filter, &page, limit + 1)
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    let headers = cursor_page(&mut chats, &page, limit, |chat| (chat.created_at, &chat.id));
    Ok((
        headers,
        Json(chats.into_iter().map(ProspectListItem::from).collect()),
    ))
}

/// A conversation with the prospect's profile and every message, oldest first.
#[utoipa::path(
    get,
    path = "/v1/prospects/{chatId}",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    responses(
        (status = 200, description = "Conversation details", body = ProspectDetails),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Prospect not found", body = ErrorBody),
    )
)]
pub async fn get_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<ProspectDetails>> {
    let details = state
        .store
        .get_chat(&tenant.team_id, &chat_id)
        .await
        .or_not_found(PROSPECT_NOT_FOUND)?;
    Ok(Json(details.into()))
}

/// Set the conversation's `customData` (longer than 3000 characters is truncated; `""`
/// clears it). Later AI messages use the new value.
#[utoipa::path(
    patch,
    path = "/v1/prospects/{chatId}/custom-data",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    request_body = CustomDataRequest,
    responses(
        (status = 200, description = "Saved", body = CustomDataResponse),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Conversation not found", body = ErrorBody),
    )
)]
pub async fn update_custom_data(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
    ApiJson(body): ApiJson<CustomDataRequest>,
) -> ApiResult<Json<CustomDataResponse>> {
    let value = truncate_custom_data(&body.custom_data);
    state
        .store
        .set_chat_custom_data(&tenant.team_id, &chat_id, &value, now_millis())
        .await
        .or_not_found(CONVERSATION_NOT_FOUND)?;
    Ok(Json(CustomDataResponse {
        message: "Conversation customData updated successfully",
        custom_data_saved: !value.is_empty(),
        custom_data_length: value.chars().count(),
        chat_id,
    }))
}

async fn set_paused(
    state: &AppState,
    tenant: &Tenant,
    chat_id: &str,
    paused: bool,
) -> ApiResult<()> {
    state
        .store
        .set_chat_paused(&tenant.team_id, chat_id, paused, now_millis())
        .await
        .or_not_found(CONVERSATION_NOT_FOUND)
}

async fn judge(
    state: &AppState,
    tenant: &Tenant,
    chat_id: &str,
    verdict: Verdict,
) -> ApiResult<()> {
    state
        .store
        .judge_chat(&tenant.team_id, chat_id, verdict, now_millis())
        .await
        .or_not_found(CONVERSATION_NOT_FOUND)?;
    Ok(())
}

/// Pause a conversation: the AI stops writing in it (a human takes over). Idempotent.
#[utoipa::path(
    post,
    path = "/v1/prospects/{chatId}/pause",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    responses(
        (status = 200, description = "Paused", body = ActionResult),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Conversation not found", body = ErrorBody),
    )
)]
pub async fn pause_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<ActionResult>> {
    set_paused(&state, &tenant, &chat_id, true).await?;
    Ok(Json(ActionResult {
        message: "Conversation paused successfully",
    }))
}

/// Resume a paused conversation: the AI continues with the whole history. Idempotent.
#[utoipa::path(
    post,
    path = "/v1/prospects/{chatId}/resume",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    responses(
        (status = 200, description = "Resumed", body = ActionResult),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Conversation not found", body = ErrorBody),
    )
)]
pub async fn resume_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<ActionResult>> {
    set_paused(&state, &tenant, &chat_id, false).await?;
    Ok(Json(ActionResult {
        message: "Conversation resumed successfully",
    }))
}

/// `POST /v1/prospects/{chatId}/messages`: what a person writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonMessageRequest {
    /// The message, sent as written (1–8000 characters).
    text: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonMessageQueued {
    message: &'static str,
    /// The message's id.
    id: String,
    chat_id: String,
    /// Always `queued`: the agent sends it within seconds; it then appears in the
    /// conversation with `author: "person"`.
    status: &'static str,
    /// Always `true`: the AI stays paused on the conversation until it is resumed.
    paused: bool,
}

/// The text of a person's message, or what is wrong with it.
fn person_text(body: &PersonMessageRequest) -> ApiResult<String> {
    let mut problems = Problems::new();
    check_person_message(&mut problems, "text", &body.text);
    problems.into_result().map_err(ApiError::Validation)?;
    Ok(body.text.trim().to_owned())
}

/// Take over a conversation: send a person's message through the agent now. It counts in the
/// agent's messages of the day, is recorded as written by a person, and pauses the AI on the
/// conversation (and supersedes its draft) until `POST /v1/prospects/{chatId}/resume`. Never
/// sent to someone on the Do-Not-Contact list.
#[utoipa::path(
    post,
    path = "/v1/prospects/{chatId}/messages",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    request_body = PersonMessageRequest,
    responses(
        (status = 202, description = "Queued: the agent sends it now", body = PersonMessageQueued),
        (status = 400, description = "Missing, empty or too long text", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Conversation not found", body = ErrorBody),
        (status = 409, description = "The prospect is on the Do-Not-Contact list", body = ErrorBody),
    )
)]
pub async fn send_person_message(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
    ApiJson(body): ApiJson<PersonMessageRequest>,
) -> ApiResult<(StatusCode, Json<PersonMessageQueued>)> {
    let text = person_text(&body)?;
    let id = state
        .store
        .queue_person_message(&tenant.team_id, &chat_id, &text, now_millis())
        .await
        .or_not_found(CONVERSATION_NOT_FOUND)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PersonMessageQueued {
            message: "Message queued: the agent sends it now and the AI is paused on this conversation",
            id,
            chat_id,
            status: "queued",
            paused: true,
        }),
    ))
}

/// Mark the prospect qualified (`qualified`, status 5; the AI's work ends). Counts toward the
/// campaign's `qualified`; sends `prospect.qualified` with `qualifiedBy: "manual"` once.
/// Idempotent.
#[utoipa::path(
    post,
    path = "/v1/prospects/{chatId}/qualify",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    responses(
        (status = 200, description = "Qualified", body = ActionResult),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Conversation not found", body = ErrorBody),
    )
)]
pub async fn qualify_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<ActionResult>> {
    judge(&state, &tenant, &chat_id, Verdict::Qualified).await?;
    Ok(Json(ActionResult {
        message: "Prospect marked as qualified successfully",
    }))
}

/// Mark the prospect disqualified (`unqualified`, status 6; the AI's work ends); sends
/// `prospect.unqualified` with `qualifiedBy: "manual"` once. Idempotent.
#[utoipa::path(
    post,
    path = "/v1/prospects/{chatId}/disqualify",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "Chat (conversation) id")),
    responses(
        (status = 200, description = "Disqualified", body = ActionResult),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Conversation not found", body = ErrorBody),
    )
)]
pub async fn disqualify_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(chat_id): Path<String>,
) -> ApiResult<Json<ActionResult>> {
    judge(&state, &tenant, &chat_id, Verdict::Unqualified).await?;
    Ok(Json(ActionResult {
        message: "Prospect marked as disqualified successfully",
    }))
}

/// Delete a prospect with all its conversations, their messages and webhook events.
///
/// Every conversation of the prospect must be paused or finished (409 `prospect_active`).
/// The path segment is the **prospect id** (`prospect.id`), named `chatId` only because it
/// shares the path of `GET /v1/prospects/{chatId}`. For a prospect in several campaigns the
/// summary and `campaignStatsUpdated` name the campaign of its first conversation.
#[utoipa::path(
    delete,
    path = "/v1/prospects/{chatId}",
    tag = "Prospects",
    params(("chatId" = String, Path, description = "The prospect id (`prospect.id`, not a chat id)")),
    responses(
        (status = 200, description = "Deleted", body = DeleteProspectResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Prospect not found", body = ErrorBody),
        (status = 409, description = "A conversation is still active (`prospect_active`)", body = ErrorBody),
    )
)]
pub async fn delete_prospect(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(prospect_id): Path<String>,
) -> ApiResult<Json<DeleteProspectResponse>> {
    let deletion = state
        .store
        .delete_prospect(&tenant.team_id, &prospect_id)
        .await
        .or_not_found(PROSPECT_NOT_FOUND)?;
    let deleted = deletion.deleted;
    let (campaign_id, campaign_name) = deleted.campaign.clone().unzip();
    Ok(Json(DeleteProspectResponse {
        message: "Prospect deleted successfully",
        deletion_summary: ProspectDeletionSummary {
            deleted_items: ProspectDeletedItems::from(&deleted),
            prospect_id: deleted.prospect_id,
            prospect_name: deleted.prospect_name,
            campaign_id,
            campaign_name,
            deleted_at: iso8601(now_millis()),
        },
        campaign_stats_updated: deletion.counters.as_ref().map(CampaignStatsUpdated::from),
    }))
}

/// One bulk result.
fn bulk_item(
    prospect_id: String,
    outcome: Result<ProspectDeleted, DeleteRefusal>,
    campaign: Option<&str>,
) -> BulkItemResult {
    let failed = |error: &'static str, message: String| BulkItemResult {
        prospect_id: prospect_id.clone(),
        status: BulkItemStatus::Failed,
        prospect_name: None,
        deleted_items: None,
        error: Some(error),
        message: Some(message),
    };
    match outcome {
        Ok(deleted) => BulkItemResult {
            deleted_items: Some(ProspectDeletedItems::from(&deleted)),
            prospect_name: Some(deleted.prospect_name),
            prospect_id,
            status: BulkItemStatus::Success,
            error: None,
            message: None,
        },
        Err(DeleteRefusal::NotFound) => failed("not_found", PROSPECT_NOT_FOUND.to_owned()),
        Err(DeleteRefusal::Active) => {
            failed("prospect_active", ApiError::ProspectActive.to_string())
        }
        Err(DeleteRefusal::CampaignMismatch) => failed(
            "campaign_mismatch",
            format!(
                "Prospect has no conversation in campaign {}",
                campaign.unwrap_or_default()
            ),
        ),
    }
}

/// Delete up to 100 prospects; each is deleted or fails on its own (partial success is 200).
///
/// Each prospect follows the rules of the single deletion. With `campaignId`, a prospect
/// without a conversation in that campaign fails with `campaign_mismatch` (a prospect that has
/// one is deleted whole, from every campaign), and a `campaignId` the team does not have
/// refuses the whole request with 400 `campaign_mismatch`. `campaignStatsUpdated` gives the
/// counters of `campaignId`, or without it of the first deleted prospect's campaign (`null`
/// when none).
#[utoipa::path(
    delete,
    path = "/v1/prospects",
    tag = "Prospects",
    request_body = BulkDeleteRequest,
    responses(
        (status = 200, description = "Bulk deletion completed", body = BulkDeleteResponse),
        (status = 400, description = "`invalid_request` (no ids), `too_many_prospects` (over 100), `campaign_mismatch` (unknown campaign)", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn delete_prospects(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<BulkDeleteRequest>,
) -> ApiResult<Json<BulkDeleteResponse>> {
    let ids = body.prospect_ids.unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::InvalidRequest(
            "prospectIds must be a non-empty array of prospect ids".to_owned(),
        ));
    }
    if ids.len() > MAX_BULK_IDS {
        return Err(ApiError::TooManyProspects(MAX_BULK_IDS));
    }
    let campaign = body.campaign_id.as_deref();
    let BulkDeletion { items, counters } = state
        .store
        .delete_prospects(&tenant.team_id, &ids, campaign)
        .await
        .map_err(|error| match error {
            outbound_store::StoreError::NotFound => ApiError::CampaignMismatch(format!(
                "Campaign {} not found in your team",
                campaign.unwrap_or_default()
            )),
            other => other.into(),
        })?;
    let successful = items.iter().filter(|(_, outcome)| outcome.is_ok()).count();
    let results: Vec<BulkItemResult> = items
        .into_iter()
        .map(|(id, outcome)| bulk_item(id, outcome, campaign))
        .collect();
    Ok(Json(BulkDeleteResponse {
        message: "Bulk deletion completed",
        summary: BulkSummary {
            requested: ids.len(),
            successful,
            failed: ids.len() - successful,
            processed_at: iso8601(now_millis()),
        },
        results,
        campaign_stats_updated: counters.map(|c| BulkCampaignStats {
            campaign_id: c.campaign_id,
            prospects_count: c.prospects_count,
            messages_count: c.messages_count,
            qualified_count: c.qualified_count,
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        let cursor = encode_cursor(1_777_716_840_000, "0193f3a2b4c5d6e7f8a9");
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            decode_cursor(&cursor),
            Some(ChatCursor {
                created_at: 1_777_716_840_000,
                id: "0193f3a2b4c5d6e7f8a9".to_owned()
            })
        );
        assert_eq!(decode_cursor("not a cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("12.")), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("x.abc")), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("12.a'b")), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("12abc")), None);
    }
}
