//! The Do-Not-Contact list: the team's entries newest first, a search by profile URL, one URL
//! added by hand or up to [`MAX_BATCH_URLS`] from a CSV file, and removal.
//!
//! Rule: URLs are normalised by `outbound_core::dnc::normalize_linkedin_url` and written by
//! `add_dnc` / `add_dnc_batch` / `delete_dnc`, as `/v1/dnc` does: adding a URL stops every
//! unfinished conversation with that person in the same transaction.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::dnc::{MAX_BATCH_URLS, normalize_linkedin_url};
use outbound_core::time::now_millis;
use outbound_store::StoreError;
use outbound_store::dnc::{BatchOutcome, DncDeletion, DncEntry};
use serde::Deserialize;

use super::{PAGE_ROWS, done, form_status};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, ago, render_status};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/dnc", get(list).post(add))
        .route("/dnc/upload", post(upload))
        .route("/dnc/{id}/delete", post(remove))
}

struct EntryRow {
    id: String,
    url: String,
    added: String,
}

#[derive(Template)]
#[template(path = "dnc.html")]
struct DncPage {
    chrome: Chrome,
    entries: Vec<EntryRow>,
    q: String,
    page: i64,
    has_next: bool,
    error: Option<String>,
    summary: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
    done: Option<String>,
}

fn rows(entries: Vec<DncEntry>) -> Vec<EntryRow> {
    let now = now_millis();
    entries
        .into_iter()
        .map(|e| EntryRow {
            added: ago(e.created_at, now),
            id: e.id,
            url: e.url,
        })
        .collect()
}

async fn page(
    state: &AppState,
    signed: &Signed,
    query: ListQuery,
    error: Option<String>,
    summary: Option<String>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let page = query.page.unwrap_or(0).max(0);
    let q = query.q.trim().to_owned();
    let (entries, has_next) = if q.is_empty() {
        let mut entries = state
            .store
            .list_dnc(team, PAGE_ROWS + 1, page * PAGE_ROWS)
            .await?;
        let has_next = entries.len() > usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX);
        entries.truncate(usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX));
        (entries, has_next)
    } else {
        let found = match normalize_linkedin_url(&q) {
            Some(url) => state.store.find_dnc(team, &url).await?,
            None => None,
        };
        (found.into_iter().collect(), false)
    };
    let status = form_status(error.is_some());
    let page = DncPage {
        chrome: Chrome::new(signed, Section::Dnc, "Do-Not-Contact")
            .with_notice(query.done.as_deref()),
        entries: rows(entries),
        q,
        page,
        has_next,
        error,
        summary,
    };
    Ok(render_status(status, &page))
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    page(&state, &signed, query, None, None).await
}

#[derive(Debug, Deserialize)]
struct AddForm {
    #[serde(default)]
    url: String,
}

async fn add(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    let Some(url) = normalize_linkedin_url(form.url.trim()) else {
        let error =
            "That is not a LinkedIn profile URL (https://www.linkedin.com/in/…).".to_owned();
        return page(&state, &signed, ListQuery::default(), Some(error), None).await;
    };
    match state.store.add_dnc(signed.team(), &url).await {
        Ok(_) | Err(StoreError::AlreadyExists) => Ok(done("/app/dnc", "dnc-added").into_response()),
        Err(error) => Err(error.into()),
    }
}

/// The LinkedIn profile URLs of a CSV or plain text file: every cell that is one.
fn urls_in(text: &str) -> (Vec<String>, usize) {
    let mut urls = Vec::new();
    let mut unreadable = 0;
    for line in text.lines() {
        let cells: Vec<&str> = line
            .split([',', ';', '\t'])
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        match cells.iter().find_map(|cell| normalize_linkedin_url(cell)) {
            Some(url) => urls.push(url),
            None if cells.iter().any(|c| c.contains("linkedin.com")) => unreadable += 1,
            None => {}
        }
    }
    (urls, unreadable)
}

async fn upload(
    State(state): State<AppState>,
    signed: Signed,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let mut text = String::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|_| PageError::TooLarge)?;
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    let (urls, unreadable) = urls_in(&text);
    let error = if urls.is_empty() {
        Some("The file holds no LinkedIn profile URL.".to_owned())
    } else if urls.len() > MAX_BATCH_URLS {
        Some(format!(
            "At most {MAX_BATCH_URLS} URLs per file: split it in parts."
        ))
    } else {
        None
    };
    if error.is_some() {
        return page(&state, &signed, ListQuery::default(), error, None).await;
    }
    let outcomes = state.store.add_dnc_batch(signed.team(), &urls).await?;
    let added = outcomes
        .iter()
        .filter(|o| matches!(o, BatchOutcome::Added(_)))
        .count();
    let summary = format!(
        "{added} added, {} already on the list{}.",
        outcomes.len() - added,
        if unreadable > 0 {
            format!(", {unreadable} lines not understood")
        } else {
            String::new()
        }
    );
    page(&state, &signed, ListQuery::default(), None, Some(summary)).await
}

async fn remove(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    match state.store.delete_dnc(signed.team(), &id).await? {
        DncDeletion::Deleted => Ok(done("/app/dnc", "dnc-removed").into_response()),
        DncDeletion::NotFound | DncDeletion::OtherTeam => Err(PageError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_in_any_column() {
        let (urls, unreadable) = urls_in(
            "name,url\nAda,https://www.linkedin.com/in/ada-lovelace\n\"https://linkedin.com/in/bob/\"\nCarl,linkedin.com/company/x\n",
        );
        assert_eq!(urls.len(), 2, "{urls:?}");
        assert_eq!(unreadable, 1);
    }
}
