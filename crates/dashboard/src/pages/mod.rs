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
use axum::http::HeaderMap;
use axum::response::Redirect;

use crate::AppState;

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

/// Whether the script asked for the refreshable part of a page only.
pub(crate) fn wants_fragment(headers: &HeaderMap) -> bool {
    headers.get("x-fragment").is_some_and(|v| v == "1")
}

/// `303 See Other` to `path` with the notice `done`.
pub(crate) fn done(path: &str, notice: &str) -> Redirect {
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}done={notice}"))
}
