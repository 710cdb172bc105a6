//! The dashboard: the web app of Outbound for the people who run the outreach, mounted at `/app`
//! by `outbound serve` beside `/v1` and `/mcp`.
//!
//! Rules of this crate:
//! - server-rendered HTML (askama templates, checked when compiled); every page works without
//!   JavaScript: links, and forms that answer `303 See Other`. One small script of our own
//!   (`assets/app.js`) only refreshes marked parts of a page. No third-party code;
//! - one rule, two doors: every action calls the same core rule and store function as its `/v1`
//!   twin, so the Do-Not-Contact list, the counters and the webhook events are the same whichever
//!   door a change came through;
//! - `/app` authenticates by session cookie only (never a Bearer key) and `/v1` by Bearer key
//!   only, see [`session`]; every state-changing request passes the CSRF checks of [`csrf`];
//! - a team sees only its own rows: every store call takes the session's team, and another
//!   team's id is the same 404 page as an id that does not exist;
//! - every list is a page of bounded length; nothing loads unbounded rows.

mod assets;
mod csrf;
mod pages;
mod session;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::get;
use outbound_core::model::ModelSpec;
use outbound_core::secrets::SecretBox;
use outbound_core::time::Millis;
use outbound_store::Store;
use outbound_store::sessions::SessionLimits;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// Where the dashboard is mounted.
pub const BASE: &str = "/app";

/// Idle limit of a session: 12 hours.
pub const DEFAULT_SESSION_IDLE: Millis = 12 * 60 * 60 * 1000;
/// Absolute limit of a session: 7 days.
pub const DEFAULT_SESSION_ABSOLUTE: Millis = 7 * 24 * 60 * 60 * 1000;

/// The content security policy of every page: our own scripts, styles and forms only; images
/// may be agents' avatars on other hosts; no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: https:; \
     style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Reads "now" on the engine's clock (analytics windows follow it under `--time-scale`).
pub type Now = Arc<dyn Fn() -> Millis + Send + Sync>;

/// What the dashboard needs besides the store.
#[derive(Clone)]
pub struct DashboardSettings {
    /// The public base URL (`https://outbound.example.com`): its origin is the one state-changing
    /// requests must come from, and `https` makes the cookie `Secure` (`__Host-` prefixed).
    /// None: the request's `Host` is the origin, cookies are not `Secure`.
    pub public_url: Option<String>,
    /// How long sessions live.
    pub sessions: SessionLimits,
    /// The engine's clock, for the figures of the home page.
    pub now: Now,
    /// Seals agents' LinkedIn passwords and verification codes, as `/v1` does.
    pub secrets: Arc<SecretBox>,
    /// The models a prompt may name (`GET /v1/models`' catalogue).
    pub models: Vec<ModelSpec>,
}

impl DashboardSettings {
    /// No public URL, the default session limits, the machine's clock.
    pub fn new(secrets: SecretBox) -> DashboardSettings {
        DashboardSettings {
            secrets: Arc::new(secrets),
            public_url: None,
            sessions: SessionLimits {
                idle: DEFAULT_SESSION_IDLE,
                absolute: DEFAULT_SESSION_ABSOLUTE,
            },
            now: Arc::new(outbound_core::time::now_millis),
            models: outbound_core::model::default_catalogue(),
        }
    }

    /// Whether the dashboard is served over TLS (its cookie must then be `Secure`).
    fn is_tls(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

impl std::fmt::Debug for DashboardSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardSettings")
            .field("public_url", &self.public_url)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

/// Shared by every page.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<DashboardSettings>,
}

impl AppState {
    /// "Now" on the engine's clock: what the engine's timestamps (messages, drafts, planned
    /// tasks) are compared with. The rows people create (campaigns, products, DNC entries)
    /// carry the machine's time.
    pub fn engine_now(&self) -> Millis {
        (self.settings.now)()
    }
}

/// The dashboard, to be mounted at [`BASE`] (`nest_service`): its pages, assets and 404 page.
pub fn router(store: Arc<dyn Store>, settings: DashboardSettings) -> Router {
    let state = AppState {
        store,
        settings: Arc::new(settings),
    };
    pages::routes()
        .merge(session::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::check,
        ))
        .layer(DefaultBodyLimit::max(csrf::MAX_BODY_BYTES))
        .merge(assets::routes())
        .fallback(|| async { view::PageError::NotFound })
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// The dashboard alone at [`BASE`], with `/` sending people there (the server mounts
/// [`router`] beside `/v1` instead).
pub fn app(store: Arc<dyn Store>, settings: DashboardSettings) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to(BASE) }))
        .nest_service(BASE, router(store, settings))
}
