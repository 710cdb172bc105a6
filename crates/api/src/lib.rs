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
pub mod mailer;
pub mod rate_limit;
mod request_id;
mod routes;

use axum::Router;
use outbound_core::secrets::SecretBox;
use outbound_core::time::Millis;
use outbound_store::Store;
use std::sync::Arc;

pub use catalog::ModelCatalog;
pub use rate_limit::{InMemoryLimiter, RateLimiter, RateLimits};

/// Where the API reads "now" for what it compares with the engine's timestamps.
pub type Now = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The machine's clock.
pub fn system_now() -> Now {
    Arc::new(outbound_core::time::now_millis)
}

/// Builds the service mounted at `/mcp` (the MCP door) from the `/v1` router, which it calls
/// in-process; the API puts its key check in front of it.
pub type McpMount = Arc<dyn Fn(Router) -> Router + Send + Sync>;

/// Default largest request body, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the API needs besides the store.
#[derive(Clone)]
pub struct ApiSettings {
    /// Requests per minute per bucket.
    pub rate_limits: RateLimits,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// The model catalogue.
    pub models: ModelCatalog,
    /// The SMTP server for workspace invitations (`smtp://`, `smtps://`, see [`mailer`]); none:
    /// invitations are recorded but no email is sent (`emailSent: false`). Check it with
    /// [`mailer::Mailer::from_url`] when loading the configuration: an unusable URL is logged
    /// here and treated as none.
    pub smtp_url: Option<String>,
    /// The public base URL of this server, e.g. `https://outbound.example.com`: the portal link
    /// of invitations without a `redirectUrl`. None: taken from the request's `Host`.
    pub public_url: Option<String>,
    /// The engine's clock: the analytics windows (`last24Hours`, `daily`) and provider webhooks
    /// are measured on it, so that under `outbound serve --time-scale N` they follow the
    /// simulated time the engine stamps its actions with. [`system_now`] otherwise.
    pub now: Now,
    /// The shared secret Unipile sends (header `X-Outbound-Webhook-Secret`) with its webhooks
    /// to `POST /integrations/unipile/webhook`; none: that route answers 404.
    pub unipile_webhook_secret: Option<String>,
    /// The MCP door mounted at `/mcp`; none: `/mcp` is not served.
    pub mcp: Option<McpMount>,
    /// The dashboard, mounted at `/app` (with `/` sending browsers there); none: not served.
    pub dashboard: Option<Router>,
}

impl ApiSettings {
    /// Kakiyo's rate limits, the default body limit, the system clock, `models`, and nothing
    /// optional (no SMTP, public URL, Unipile webhooks or MCP door).
    pub fn new(models: ModelCatalog) -> ApiSettings {
        ApiSettings {
            rate_limits: RateLimits::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            models,
            smtp_url: None,
            public_url: None,
            now: system_now(),
            unipile_webhook_secret: None,
            mcp: None,
            dashboard: None,
        }
    }
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("rate_limits", &self.rate_limits)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("models", &self.models)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(mailer::redact_url),
            )
            .field("public_url", &self.public_url)
            .field(
                "unipile_webhook_secret",
                &self.unipile_webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("mcp", &self.mcp.is_some())
            .field("dashboard", &self.dashboard.is_some())
            .finish()
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<SecretBox>,
    pub models: Arc<ModelCatalog>,
    pub limiter: Arc<dyn RateLimiter>,
    /// Sends workspace invitations; none without `smtp_url`.
    pub mailer: Option<Arc<mailer::Mailer>>,
    /// See [`ApiSettings::public_url`].
    pub public_url: Option<Arc<str>>,
    /// See [`ApiSettings::now`].
    pub now: Now,
    /// See [`ApiSettings::unipile_webhook_secret`].
    pub unipile_webhook_secret: Option<Arc<str>>,
}

/// The whole HTTP application.
pub fn app(store: Arc<dyn Store>, secrets: SecretBox, settings: ApiSettings) -> Router {
    let max_body_bytes = settings.max_body_bytes;
    let mcp = settings.mcp.clone();
    let dashboard = settings.dashboard.clone();
    routes::router(
        state(store, secrets, settings),
        max_body_bytes,
        mcp.as_ref(),
        dashboard,
    )
}

/// The `/v1` routes alone, with their authentication and rate limits, to be called in-process
/// by another door (`outbound mcp` over stdio).
pub fn rest_door(store: Arc<dyn Store>, secrets: SecretBox, settings: ApiSettings) -> Router {
    let max_body_bytes = settings.max_body_bytes;
    routes::rest_door(state(store, secrets, settings), max_body_bytes)
}

/// What every handler shares.
fn state(store: Arc<dyn Store>, secrets: SecretBox, settings: ApiSettings) -> AppState {
    AppState {
        store,
        secrets: Arc::new(secrets),
        models: Arc::new(settings.models),
        limiter: Arc::new(InMemoryLimiter::new(&settings.rate_limits)),
        mailer: settings.smtp_url.as_deref().and_then(mailer_for),
        public_url: settings
            .public_url
            .map(|url| Arc::from(url.trim_end_matches('/'))),
        now: settings.now,
        unipile_webhook_secret: settings
            .unipile_webhook_secret
            .filter(|secret| !secret.is_empty())
            .map(Arc::from),
    }
}

/// The mailer of `smtp_url`, or none (logged) when the URL is unusable.
fn mailer_for(smtp_url: &str) -> Option<Arc<mailer::Mailer>> {
    match mailer::Mailer::from_url(smtp_url) {
        Ok(mailer) => Some(Arc::new(mailer)),
        Err(error) => {
            tracing::error!(%error, "SMTP disabled: invitations will not be emailed");
            None
        }
    }
}

/// The OpenAPI document of every `/v1` route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::openapi()
}
