//! Settings: the team (name, plan, subscription), its API keys (create one — shown once —,
//! revoke, see when each was last used) and, on the agency plan, its client workspaces.
//!
//! Rule: a key is generated and hashed exactly as `outbound keys create` does and stored only as
//! its SHA-256; its text is shown on the page that answers the creation and never again.
//! Revoking is team-scoped (another team's key is 404) and ends the key's dashboard sessions.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::plan::Plan;
use outbound_core::time::{Millis, now_millis};
use outbound_store::teams::ApiKeyInfo;
use serde::Deserialize;

use super::{done, form_status};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, ago, render_status};

/// Key name bounds, in characters.
const KEY_NAME_LEN: (usize, usize) = (1, 100);

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings", get(settings))
        .route("/settings/keys", post(create_key))
        .route("/settings/keys/{id}/revoke", post(revoke_key))
}

struct KeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
    revoked: bool,
    current: bool,
}

fn key_row(key: ApiKeyInfo, now: Millis, current: &str) -> KeyRow {
    KeyRow {
        created: ago(key.created_at, now),
        last_used: key
            .last_used_at
            .map_or_else(|| "never".to_owned(), |at| ago(at, now)),
        revoked: key.revoked_at.is_some(),
        current: key.id == current,
        id: key.id,
        name: key.name,
    }
}

struct WorkspaceRow {
    name: String,
    client_team_id: String,
    created: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    chrome: Chrome,
    team_id: String,
    team_name: String,
    plan: String,
    subscription_active: bool,
    keys: Vec<KeyRow>,
    agency: bool,
    workspaces: Vec<WorkspaceRow>,
    /// A key just created: its only showing.
    new_key: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    notice: Option<&str>,
    new_key: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let team_id = signed.team();
    let now = now_millis();
    let team = state.store.get_team(team_id).await?;
    let keys = state
        .store
        .list_api_keys(team_id)
        .await?
        .into_iter()
        .rev()
        .map(|k| key_row(k, now, &signed.session.api_key_id))
        .collect();
    let agency = team.plan == Plan::Agency;
    let workspaces = if agency {
        state
            .store
            .list_workspaces(team_id)
            .await?
            .into_iter()
            .map(|w| WorkspaceRow {
                created: ago(w.created_at, now),
                name: w.name,
                client_team_id: w.client_team_id,
            })
            .collect()
    } else {
        Vec::new()
    };
    let status = form_status(error.is_some());
    let page = SettingsPage {
        chrome: Chrome::new(signed, Section::Settings, "Settings").with_notice(notice),
        team_id: team.id,
        team_name: team.name,
        plan: team.plan.as_str().to_owned(),
        subscription_active: team.subscription_active,
        keys,
        agency,
        workspaces,
        new_key,
        error,
    };
    Ok(render_status(status, &page))
}

async fn settings(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    page(&state, &signed, query.done.as_deref(), None, None).await
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    #[serde(default)]
    name: String,
}

/// Creates a key and shows it, once, on the page that answers (no redirect: a reload does
/// not show it again, it asks to re-send the form).
async fn create_key(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<KeyForm>,
) -> Result<Response, PageError> {
    let name = form.name.trim();
    let len = name.chars().count();
    if !(KEY_NAME_LEN.0..=KEY_NAME_LEN.1).contains(&len) {
        let error = format!(
            "Name the key ({} to {} characters).",
            KEY_NAME_LEN.0, KEY_NAME_LEN.1
        );
        return page(&state, &signed, None, None, Some(error)).await;
    }
    let key = generate_api_key();
    state
        .store
        .create_api_key(signed.team(), name, &hash_api_key(&key))
        .await?;
    tracing::info!(team = %signed.team(), name, "API key created in the dashboard");
    let response = page(&state, &signed, None, Some(key), None).await?;
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], response).into_response())
}

async fn revoke_key(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state.store.revoke_team_api_key(signed.team(), &id).await?;
    Ok(done("/app/settings", "key-revoked").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_row_says_when_it_was_used() {
        let key = ApiKeyInfo {
            id: "k".to_owned(),
            team_id: "t".to_owned(),
            name: "zapier".to_owned(),
            created_at: 0,
            revoked_at: None,
            last_used_at: None,
        };
        let row = key_row(key, 120_000, "k");
        assert_eq!(row.last_used, "never");
        assert!(row.current && !row.revoked);
    }
}
