//! The pages of the dashboard, one module per screen. Each handler reads the session's team,
//! calls the store (the same functions as the `/v1` routes), and renders a template; each form
//! posts to a handler that acts and answers `303 See Other` to the page to show next.

pub(crate) mod agents;
pub(crate) mod campaigns;
pub(crate) mod chart;
pub(crate) mod dnc;
pub(crate) mod home;
pub(crate) mod imports;
pub(crate) mod inbox;
pub(crate) mod products;
pub(crate) mod prompts;
pub(crate) mod review;
pub(crate) mod settings;
pub(crate) mod webhooks;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Redirect;

use outbound_store::campaigns::ListWindow;

use crate::AppState;
use crate::view::{Choice, PageError};

/// Most rows of any list page.
pub(crate) const PAGE_ROWS: i64 = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(dnc::routes())
        .merge(imports::routes())
        .merge(agents::routes())
        .merge(campaigns::routes())
        .merge(inbox::routes())
        .merge(products::routes())
        .merge(prompts::routes())
        .merge(review::routes())
        .merge(settings::routes())
        .merge(webhooks::routes())
}

/// The link value of the page after `rows`, when `rows` is a full page: `cursor` of its last
/// row. A shorter page is the last one.
pub(crate) fn next_page<T>(rows: &[T], cursor: impl FnOnce(&T) -> String) -> Option<String> {
    let full = i64::try_from(rows.len()).is_ok_and(|n| n == PAGE_ROWS);
    full.then(|| rows.last().map(cursor)).flatten()
}

/// 400 for a form shown again with its problems, else 200.
pub(crate) fn form_status(refused: bool) -> StatusCode {
    if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// Most campaigns offered in a `<select>`.
const CAMPAIGN_CHOICES: u32 = 100;

/// The team's agents as the options of a `<select>` (a plan bounds them).
pub(crate) async fn agent_choices(state: &AppState, team: &str) -> Result<Vec<Choice>, PageError> {
    Ok(state
        .store
        .list_agents(team)
        .await?
        .into_iter()
        .map(|a| Choice::new(a.id, a.name))
        .collect())
}

/// The newest campaigns the team can read as the options of a `<select>`; `owned_only` leaves
/// out those an agency workspace only shows it.
pub(crate) async fn campaign_choices(
    state: &AppState,
    team: &str,
    owned_only: bool,
) -> Result<Vec<Choice>, PageError> {
    let window = ListWindow {
        after: None,
        offset: 0,
        limit: Some(CAMPAIGN_CHOICES),
    };
    Ok(state
        .store
        .list_campaigns(team, &window)
        .await?
        .into_iter()
        .filter(|c| !owned_only || c.team_id == team)
        .map(|c| Choice::new(c.id, c.name))
        .collect())
}

/// Whether the script asked for the refreshable part of a page only.
pub(crate) fn wants_fragment(headers: &HeaderMap) -> bool {
    headers.get("x-fragment").is_some_and(|v| v == "1")
}

/// `303 See Other` to `path` with the notice `done`.
pub(crate) fn done(path: &str, notice: &str) -> Redirect {
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}done={notice}"))
}
