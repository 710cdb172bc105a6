//! Review queue: the AI's drafts waiting for a person (approve as written or edited, reject
//! with a reason, or reject and have it rewritten), and the conversations whose verdict the AI
//! left to a person (`needVerification`).
//!
//! Rule: the decisions are `DraftStore::approve_draft` / `reject_draft` and
//! `ChatStore::judge_chat`, exactly as `POST /v1/drafts/{id}/approve|reject` and
//! `/v1/prospects/{chatId}/qualify|disqualify`, with the same checks (an edit of 1 to
//! `MAX_MESSAGE_LEN` characters, a reason up to `MAX_REASON_LEN`); a draft decided meanwhile is
//! a 409 page that says so.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::conversation::Qualification;
use outbound_core::review::{DraftKind, DraftStatus, MAX_MESSAGE_LEN, MAX_REASON_LEN};
use outbound_core::time::now_millis;
use outbound_core::validation::Problems;
use outbound_store::chats::{ChatCursor, ChatPage, Verdict, author_of};
use outbound_store::drafts::{AfterRejection, DraftFilter};
use outbound_store::inbox::InboxFilter;
use serde::Deserialize;

use super::{PAGE_ROWS, done, next_page};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, ago, excerpt, render, until, url_escape};

/// Conversations waiting for a verdict shown at once.
const VERDICT_ROWS: i64 = 20;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(queue))
        .route("/review/{draft_id}/approve", post(approve))
        .route("/review/{draft_id}/reject", post(reject))
        .route("/review/verdict/{chat_id}", post(verdict))
}

/// A message of a draft's conversation.
struct ContextLine {
    who: &'static str,
    text: String,
}

/// A draft as the queue shows it.
struct DraftCard {
    id: String,
    chat_id: String,
    prospect: String,
    prospect_url: String,
    kind: &'static str,
    text: String,
    model: String,
    created: String,
    expires: String,
    context: Vec<ContextLine>,
}

/// A conversation waiting for a verdict.
struct VerdictRow {
    chat_id: String,
    name: String,
    campaign: String,
    last: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    drafts: Vec<DraftCard>,
    next: Option<String>,
    verdicts: Vec<VerdictRow>,
}

#[derive(Debug, Default, Deserialize)]
struct QueueQuery {
    /// `created_at:id` of the last draft of the previous page.
    after: Option<String>,
    done: Option<String>,
}

fn kind_label(kind: DraftKind) -> &'static str {
    match kind {
        DraftKind::FirstMessage => "First message",
        DraftKind::FollowUp => "Follow-up",
        DraftKind::Reply => "Reply",
    }
}

fn page_of(after: Option<&str>) -> ChatPage {
    after
        .and_then(|a| a.split_once(':'))
        .and_then(|(at, id)| {
            Some(ChatPage::After(ChatCursor {
                created_at: at.parse().ok()?,
                id: id.to_owned(),
            }))
        })
        .unwrap_or(ChatPage::Offset(0))
}

async fn queue(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let now = state.engine_now();
    let pending = DraftFilter {
        status: Some(DraftStatus::Pending),
        ..DraftFilter::default()
    };
    let drafts = state
        .store
        .list_drafts(team, &pending, &page_of(query.after.as_deref()), PAGE_ROWS)
        .await?;
    let chat_ids: Vec<String> = drafts.iter().map(|d| d.chat_id.clone()).collect();
    let context = state.store.draft_context(team, &chat_ids).await?;
    let next = next_page(&drafts, |d| {
        format!("{}:{}", d.created_at, url_escape(&d.id))
    });
    let cards = drafts
        .into_iter()
        .map(|d| DraftCard {
            context: context
                .iter()
                .filter(|m| m.chat_id == d.chat_id)
                .map(|m| ContextLine {
                    who: author_of(m.role, m.author.as_deref()).as_str(),
                    text: excerpt(&m.content, 400),
                })
                .collect(),
            id: d.id,
            chat_id: d.chat_id,
            prospect: d.prospect_name,
            prospect_url: d.prospect_url,
            kind: kind_label(d.kind),
            text: d.text,
            model: d.model.unwrap_or_default(),
            created: ago(d.created_at, now),
            expires: until(d.expires_at, now),
        })
        .collect();
    let waiting = InboxFilter {
        qualification: Some(Qualification::NeedVerification),
        ..InboxFilter::default()
    };
    let verdicts = state
        .store
        .inbox(team, &waiting, None, VERDICT_ROWS)
        .await?
        .into_iter()
        .map(|item| VerdictRow {
            chat_id: item.chat.id,
            name: item.chat.prospect.name,
            campaign: item.campaign_name,
            last: excerpt(item.last_message.as_deref().unwrap_or_default(), 120),
        })
        .collect();
    let page = ReviewPage {
        chrome: Chrome::new(&signed, Section::Review, "Review queue")
            .with_notice(query.done.as_deref()),
        drafts: cards,
        next,
        verdicts,
    };
    Ok(render(&page))
}

/// A form's problems as a 400 page.
fn refused(problems: Vec<outbound_core::validation::FieldError>) -> PageError {
    PageError::Refused(
        StatusCode::BAD_REQUEST,
        problems
            .into_iter()
            .map(|p| p.message)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

#[derive(Debug, Deserialize)]
struct ApproveForm {
    #[serde(default)]
    text: String,
    /// The AI's text as the form showed it: an unchanged text is no edit.
    #[serde(default)]
    original: String,
}

async fn approve(
    State(state): State<AppState>,
    signed: Signed,
    Path(draft_id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Result<Response, PageError> {
    let text = form.text.trim();
    let edited = (text != form.original.trim()).then_some(text);
    let mut problems = Problems::new();
    if let Some(text) = edited {
        problems.check_len("text", text, 1, MAX_MESSAGE_LEN);
    }
    problems.into_result().map_err(refused)?;
    state
        .store
        .approve_draft(signed.team(), &draft_id, edited, now_millis())
        .await?;
    Ok(done("/app/review", "approved").into_response())
}

#[derive(Debug, Deserialize)]
struct RejectForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    regenerate: Option<String>,
}

async fn reject(
    State(state): State<AppState>,
    signed: Signed,
    Path(draft_id): Path<String>,
    Form(form): Form<RejectForm>,
) -> Result<Response, PageError> {
    let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
    let mut problems = Problems::new();
    if let Some(reason) = reason {
        problems.check_len("reason", reason, 1, MAX_REASON_LEN);
    }
    problems.into_result().map_err(refused)?;
    let then = if form.regenerate.is_some() {
        AfterRejection::Regenerate
    } else {
        AfterRejection::Pause
    };
    state
        .store
        .reject_draft(signed.team(), &draft_id, reason, then, now_millis())
        .await?;
    Ok(done("/app/review", "rejected").into_response())
}

#[derive(Debug, Deserialize)]
struct VerdictForm {
    #[serde(default)]
    verdict: String,
}

async fn verdict(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
    Form(form): Form<VerdictForm>,
) -> Result<Response, PageError> {
    let (verdict, notice) = match form.verdict.as_str() {
        "qualified" => (Verdict::Qualified, "qualified"),
        "unqualified" => (Verdict::Unqualified, "disqualified"),
        _ => {
            return Err(PageError::Refused(
                StatusCode::BAD_REQUEST,
                "Choose qualified or not qualified.".to_owned(),
            ));
        }
    };
    state
        .store
        .judge_chat(signed.team(), &chat_id, verdict, now_millis())
        .await?;
    Ok(done("/app/review", notice).into_response())
}
