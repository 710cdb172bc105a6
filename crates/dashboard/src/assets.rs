//! The dashboard's own stylesheet, script and icon, compiled into the binary and served with a
//! version in their path, so browsers may keep them for a year.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

/// The version in the assets' paths: a new release is new paths.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

const STYLESHEET: &str = include_str!("../assets/app.css");
const SCRIPT: &str = include_str!("../assets/app.js");
const ICON: &str = include_str!("../assets/icon.svg");

/// Long-lived: the path changes with every release.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(CACHE_FOREVER),
            ),
        ],
        body,
    )
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("/assets/{VERSION}/app.css"),
            get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }),
        )
        .route(
            &format!("/assets/{VERSION}/app.js"),
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            &format!("/assets/{VERSION}/icon.svg"),
            get(|| async { asset("image/svg+xml", ICON) }),
        )
}
