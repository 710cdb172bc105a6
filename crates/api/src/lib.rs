//! The Kakiyo-compatible HTTP API of Outbound.
//!
//! The path of a request: request id and access log → body limit → route → authentication
//! (Bearer key → team, subscription check) → rate limit of the route's bucket → handler → store
//! (one transaction) → JSON. Every `/v1` route is registered through utoipa's router together
//! with its OpenAPI description, so no route can exist undocumented.

mod auth;
pub mod catalog;
mod docs;
pub mod error;
pub mod extract;
pub mod rate_limit;
mod request_id;
mod routes;

use axum::Router;
use outbound_core::secrets::SecretBox;
use outbound_store::Store;
use std::sync::Arc;

pub use catalog::ModelCatalog;
pub use rate_limit::{InMemoryLimiter, RateLimiter, RateLimits};

/// Default largest request body, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the API needs besides the store.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Requests per minute per bucket.
    pub rate_limits: RateLimits,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// The model catalogue.
    pub models: ModelCatalog,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<SecretBox>,
    pub models: Arc<ModelCatalog>,
    pub limiter: Arc<dyn RateLimiter>,
}

/// The whole HTTP application.
pub fn app(store: Arc<dyn Store>, secrets: SecretBox, settings: ApiSettings) -> Router {
    let state = AppState {
        store,
        secrets: Arc::new(secrets),
        models: Arc::new(settings.models),
        limiter: Arc::new(InMemoryLimiter::new(&settings.rate_limits)),
    };
    routes::router(state, settings.max_body_bytes)
}

/// The OpenAPI document of every `/v1` route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}
