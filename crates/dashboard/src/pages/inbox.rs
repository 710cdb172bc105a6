//! Inbox: every conversation of the team in one list, newest activity first, with filters and
//! search; the thread of one conversation with who wrote each message; and the actions on it —
//! take over (pause) and hand back (resume), send a message by hand, qualify or disqualify,
//! add the prospect to the Do-Not-Contact list.
//!
//! Rules:
//! - the list is `InboxStore::inbox` (keyset pages of [`PAGE_ROWS`]); with a search term it is
//!   `SearchStore::search_chats`, the same search as `GET /v1/prospects/search` (newest first,
//!   offset pages);
//! - every action is the store call of its `/v1` twin (`set_chat_paused`,
//!   `queue_person_message`, `judge_chat`, `add_dnc`), checked by the same core rules, and
//!   another team's conversation is 404 on every one of them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::conversation::{Qualification, status};
use outbound_core::dnc::normalize_linkedin_url;
use outbound_core::review::{Author, check_person_message};
use outbound_core::time::{Millis, now_millis};
use outbound_core::validation::Problems;
use outbound_store::StoreError;
use outbound_store::chats::{ChatDetails, ChatSummary, ProspectCard, Verdict};
use outbound_store::inbox::{InboxCursor, InboxFilter};
use outbound_store::search::SearchFilter;
use serde::Deserialize;

use super::{PAGE_ROWS, agent_choices, campaign_choices, done, next_page, wants_fragment};
use crate::AppState;
use crate::session::Signed;
use crate::view::{
    Choice, Chrome, PageError, Section, ago, excerpt, initials, qualification_label, render,
    render_status, status_label, url_escape,
};

/// Characters of the last message shown in the list.
const EXCERPT_CHARS: usize = 90;
/// Seconds between refreshes of the list and the thread.
const REFRESH_SECS: u32 = 10;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/inbox/list", get(list_fragment))
        .route("/inbox/{chat_id}", get(conversation))
        .route("/inbox/{chat_id}/thread", get(thread_fragment))
        .route("/inbox/{chat_id}/pause", post(pause))
        .route("/inbox/{chat_id}/resume", post(resume))
        .route("/inbox/{chat_id}/message", post(send_message))
        .route("/inbox/{chat_id}/qualify", post(qualify))
        .route("/inbox/{chat_id}/disqualify", post(disqualify))
        .route("/inbox/{chat_id}/dnc", post(add_to_dnc))
}

/// The filters of the list, as the query string carries them.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    qualification: String,
    #[serde(default)]
    awaiting: String,
    #[serde(default)]
    paused: String,
    #[serde(default)]
    q: String,
    /// `activity_at:id` of the last row of the previous page.
    #[serde(default)]
    after: String,
    /// Offset of a search page.
    #[serde(default)]
    skip: Option<i64>,
    done: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> InboxFilter {
        InboxFilter {
            campaign_id: non_empty(&self.campaign),
            agent_id: non_empty(&self.agent),
            status: self
                .status
                .parse()
                .ok()
                .filter(|code| status::ALL.contains(code)),
            qualification: Qualification::parse(&self.qualification),
            awaiting_reply: self.awaiting == "1",
            paused: self.paused == "1",
        }
    }

    fn cursor(&self) -> Option<InboxCursor> {
        let (at, id) = self.after.split_once(':')?;
        Some(InboxCursor {
            activity_at: at.parse().ok()?,
            id: id.to_owned(),
        })
    }

    /// The query string of these filters (without the page), to keep them across links.
    fn to_query(&self) -> String {
        [
            ("campaign", &self.campaign),
            ("agent", &self.agent),
            ("status", &self.status),
            ("qualification", &self.qualification),
            ("awaiting", &self.awaiting),
            ("paused", &self.paused),
            ("q", &self.q),
        ]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", url_escape(value)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A conversation in the list.
pub(crate) struct Row {
    id: String,
    name: String,
    initials: String,
    campaign: String,
    last: String,
    when: String,
    status: &'static str,
    qualification: &'static str,
    qualification_class: &'static str,
    paused: bool,
    awaiting: bool,
}

fn row(
    chat: &ChatSummary,
    campaign: &str,
    last: Option<&str>,
    at: i64,
    awaiting: bool,
    now: Millis,
) -> Row {
    Row {
        id: chat.id.clone(),
        name: chat.prospect.name.clone(),
        initials: initials(&chat.prospect.name),
        campaign: campaign.to_owned(),
        last: last.map_or_else(
            || chat.prospect.headline.clone().unwrap_or_default(),
            |text| excerpt(text, EXCERPT_CHARS),
        ),
        when: ago(at, now),
        status: status_label(chat.status),
        qualification: qualification_label(chat.qualification),
        qualification_class: chat.qualification.as_str(),
        paused: chat.paused,
        awaiting,
    }
}

/// One page of the list and the link to the next.
struct ListPage {
    rows: Vec<Row>,
    next: Option<String>,
    query: String,
    current: String,
}

/// Reads one page of the list for `query`.
async fn list_page(
    state: &AppState,
    team: &str,
    query: &ListQuery,
    current: &str,
) -> Result<ListPage, PageError> {
    let filter = query.filter();
    let base = query.to_query();
    let now = state.engine_now();
    let join = |extra: String| {
        if base.is_empty() {
            extra
        } else {
            format!("{base}&{extra}")
        }
    };
    if let Some(term) = non_empty(&query.q) {
        let skip = query.skip.unwrap_or(0).max(0);
        let search = SearchFilter {
            query: Some(term),
            campaign_id: filter.campaign_id.clone(),
            status: filter.status,
            paused: filter.paused.then_some(true),
            ..SearchFilter::default()
        };
        let results = state
            .store
            .search_chats(team, &search, PAGE_ROWS, skip)
            .await?;
        let rows: Vec<Row> = results
            .hits
            .iter()
            .map(|hit| {
                let at = hit.chat.last_message_at.unwrap_or(hit.chat.created_at);
                row(&hit.chat, &hit.campaign_name, None, at, false, now)
            })
            .collect();
        let next =
            (skip + PAGE_ROWS < results.total).then(|| join(format!("skip={}", skip + PAGE_ROWS)));
        return Ok(ListPage {
            rows,
            next,
            query: base,
            current: current.to_owned(),
        });
    }
    let items = state
        .store
        .inbox(team, &filter, query.cursor().as_ref(), PAGE_ROWS)
        .await?;
    let next = next_page(&items, |last| {
        let cursor = last.cursor();
        join(format!(
            "after={}:{}",
            cursor.activity_at,
            url_escape(&cursor.id)
        ))
    });
    let rows = items
        .iter()
        .map(|item| {
            row(
                &item.chat,
                &item.campaign_name,
                item.last_message.as_deref(),
                item.activity_at,
                item.awaiting_reply,
                now,
            )
        })
        .collect();
    Ok(ListPage {
        rows,
        next,
        query: base,
        current: current.to_owned(),
    })
}

/// The choices of the campaign and agent filters.
async fn filter_choices(
    state: &AppState,
    team: &str,
) -> Result<(Vec<Choice>, Vec<Choice>), PageError> {
    let campaigns = campaign_choices(state, team, false).await?;
    let agents = agent_choices(state, team).await?;
    Ok((campaigns, agents))
}

/// One message of the thread.
struct Bubble {
    class: &'static str,
    who: String,
    text: String,
    when: String,
}

/// The open conversation.
struct Thread {
    id: String,
    name: String,
    url: String,
    headline: String,
    company: String,
    campaign_id: String,
    campaign: String,
    status: &'static str,
    qualification: &'static str,
    qualification_class: &'static str,
    score: String,
    reason: String,
    custom_data: String,
    paused: bool,
    finished: bool,
    bubbles: Vec<Bubble>,
}

/// "Title at Company", unless the headline already says it.
fn company_line(prospect: &ProspectCard) -> String {
    let line = [
        prospect.current_job_title.as_deref(),
        prospect.current_company_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" at ");
    let headline = prospect.headline.as_deref().unwrap_or_default();
    if headline.contains(&line) {
        String::new()
    } else {
        line
    }
}

fn thread(details: ChatDetails, now: Millis) -> Thread {
    let chat = &details.summary;
    let bubbles = details
        .messages
        .iter()
        .map(|m| {
            let (class, who) = match m.author {
                Author::Prospect => ("prospect", chat.prospect.name.clone()),
                Author::Person => ("person", "You (by hand)".to_owned()),
                Author::Ai => (
                    "ai",
                    m.model
                        .as_deref()
                        .map_or_else(|| "AI".to_owned(), |model| format!("AI · {model}")),
                ),
            };
            Bubble {
                class,
                who,
                text: m.content.clone(),
                when: ago(m.created_at, now),
            }
        })
        .collect();
    Thread {
        id: chat.id.clone(),
        name: chat.prospect.name.clone(),
        url: chat.prospect.url.clone(),
        headline: chat.prospect.headline.clone().unwrap_or_default(),
        company: company_line(&chat.prospect),
        campaign_id: details.campaign_id.clone(),
        campaign: details.campaign_name.clone(),
        status: status_label(chat.status),
        qualification: qualification_label(chat.qualification),
        qualification_class: chat.qualification.as_str(),
        score: details.score.map(|s| s.to_string()).unwrap_or_default(),
        reason: details.score_reason.clone().unwrap_or_default(),
        custom_data: details.custom_data.clone(),
        paused: chat.paused,
        finished: status::is_finished(chat.status),
        bubbles,
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    filters: ListQuery,
    campaigns: Vec<Choice>,
    agents: Vec<Choice>,
    statuses: Vec<Choice>,
    list: ListPage,
    thread: Option<Thread>,
    problems: Vec<String>,
    draft_text: String,
    refresh_secs: u32,
}

#[derive(Template)]
#[template(path = "inbox_list.html")]
struct ListFragment {
    list: ListPage,
}

#[derive(Template)]
#[template(path = "inbox_thread.html")]
struct ThreadFragment {
    thread: Thread,
}

fn status_choices() -> Vec<Choice> {
    status::ALL
        .iter()
        .map(|code| Choice::new(code.to_string(), status_label(*code).to_owned()))
        .collect()
}

/// The inbox page, with `open` as the open conversation.
async fn page(
    state: &AppState,
    signed: &Signed,
    query: ListQuery,
    open: Option<&str>,
    problems: Vec<String>,
    draft_text: String,
) -> Result<InboxPage, PageError> {
    let team = signed.team();
    let list = list_page(state, team, &query, open.unwrap_or_default()).await?;
    let thread = match open {
        Some(chat_id) => Some(thread(
            state.store.get_chat(team, chat_id).await?,
            state.engine_now(),
        )),
        None => None,
    };
    let (campaigns, agents) = filter_choices(state, team).await?;
    let title = thread
        .as_ref()
        .map_or_else(|| "Inbox".to_owned(), |t| format!("{} · Inbox", t.name));
    Ok(InboxPage {
        chrome: Chrome::new(signed, Section::Inbox, title).with_notice(query.done.as_deref()),
        filters: query,
        campaigns,
        agents,
        statuses: status_choices(),
        list,
        thread,
        problems,
        draft_text,
        refresh_secs: REFRESH_SECS,
    })
}

async fn inbox(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    Ok(render(
        &page(&state, &signed, query, None, Vec::new(), String::new()).await?,
    ))
}

async fn list_fragment(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let current = headers
        .get("x-current")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let list = list_page(&state, signed.team(), &query, &current).await?;
    Ok(render(&ListFragment { list }))
}

async fn conversation(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if wants_fragment(&headers) {
        let thread = thread(
            state.store.get_chat(signed.team(), &chat_id).await?,
            state.engine_now(),
        );
        return Ok(render(&ThreadFragment { thread }));
    }
    Ok(render(
        &page(
            &state,
            &signed,
            query,
            Some(&chat_id),
            Vec::new(),
            String::new(),
        )
        .await?,
    ))
}

async fn thread_fragment(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
) -> Result<Response, PageError> {
    let thread = thread(
        state.store.get_chat(signed.team(), &chat_id).await?,
        state.engine_now(),
    );
    Ok(render(&ThreadFragment { thread }))
}

/// The conversation's page, after an action.
fn back(chat_id: &str, notice: &str) -> Response {
    done(&format!("/app/inbox/{}", url_escape(chat_id)), notice).into_response()
}

async fn pause(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
) -> Result<Response, PageError> {
    state
        .store
        .set_chat_paused(signed.team(), &chat_id, true, now_millis())
        .await?;
    Ok(back(&chat_id, "paused"))
}

async fn resume(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
) -> Result<Response, PageError> {
    state
        .store
        .set_chat_paused(signed.team(), &chat_id, false, now_millis())
        .await?;
    Ok(back(&chat_id, "resumed"))
}

#[derive(Debug, Deserialize)]
struct MessageForm {
    #[serde(default)]
    text: String,
}

async fn send_message(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
    Form(form): Form<MessageForm>,
) -> Result<Response, PageError> {
    let mut problems = Problems::new();
    check_person_message(&mut problems, "text", &form.text);
    if let Err(problems) = problems.into_result() {
        let messages = problems.into_iter().map(|p| p.message).collect();
        let page = page(
            &state,
            &signed,
            ListQuery::default(),
            Some(&chat_id),
            messages,
            form.text,
        )
        .await?;
        return Ok(render_status(StatusCode::BAD_REQUEST, &page));
    }
    state
        .store
        .queue_person_message(signed.team(), &chat_id, form.text.trim(), now_millis())
        .await?;
    Ok(back(&chat_id, "message-queued"))
}

async fn judge(
    state: &AppState,
    signed: &Signed,
    chat_id: &str,
    verdict: Verdict,
) -> Result<(), PageError> {
    state
        .store
        .judge_chat(signed.team(), chat_id, verdict, now_millis())
        .await?;
    Ok(())
}

async fn qualify(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
) -> Result<Response, PageError> {
    judge(&state, &signed, &chat_id, Verdict::Qualified).await?;
    Ok(back(&chat_id, "qualified"))
}

async fn disqualify(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
) -> Result<Response, PageError> {
    judge(&state, &signed, &chat_id, Verdict::Unqualified).await?;
    Ok(back(&chat_id, "disqualified"))
}

/// Adds the conversation's prospect to the team's Do-Not-Contact list (already there: done).
async fn add_to_dnc(
    State(state): State<AppState>,
    signed: Signed,
    Path(chat_id): Path<String>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let details = state.store.get_chat(team, &chat_id).await?;
    let url = normalize_linkedin_url(&details.summary.prospect.url).ok_or_else(|| {
        PageError::Refused(
            StatusCode::BAD_REQUEST,
            "This prospect's URL is not a LinkedIn profile URL.".to_owned(),
        )
    })?;
    match state.store.add_dnc(team, &url).await {
        Ok(_) | Err(StoreError::AlreadyExists) => Ok(back(&chat_id, "dnc-added")),
        Err(error) => Err(error.into()),
    }
}
