//! The route table: every `/v1` route with its OpenAPI description, the unauthenticated
//! health, document and reference routes, and the layers around them.

mod agents;
mod analytics;
mod campaigns;
mod dnc;
mod drafts;
mod health;
mod imports;
mod integrations;
mod models;
mod products;
mod prompts;
mod prospects;
mod sales_navigator;
mod search;
mod verify;
mod webhooks;
mod workspaces;

use axum::Extension;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::extract::BodyLimit;
use crate::{AppState, McpMount, auth, docs, request_id};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Outbound API",
        description = "A self-hostable AI SDR server, wire-compatible with the Kakiyo public REST \
                       API v1. Authenticate with `Authorization: Bearer <40-character API key>`. \
                       Errors are `{\"error\": code, \"message\": text}`."
    ),
    modifiers(&BearerAuth),
    security(("bearerAuth" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "Auth", description = "Check an API key"),
        (name = "Models", description = "Language models an agent can write with"),
        (name = "Products", description = "What campaigns sell (\"offerings\")"),
        (name = "Prompts", description = "How the AI writes: context, first message, follow-ups"),
        (name = "Agents", description = "LinkedIn accounts that run campaigns"),
        (name = "Do-Not-Contact", description = "People who must never be contacted"),
        (name = "Webhooks", description = "Signed event notifications to your endpoints"),
        (name = "Analytics", description = "Team and campaign figures, rates and daily activity"),
        (name = "Campaigns", description = "Outreach campaigns: one agent, one product, one prompt"),
        (name = "Workspaces", description = "Agency client workspaces, their clients and agents"),
        (name = "Prospects", description = "People in campaigns: imports, conversations, search"),
        (name = "Integrations", description = "Events from LinkedIn providers (Unipile webhooks)"),
        (name = "Review", description = "Our extension: AI drafts waiting for a person's approval"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every `/v1` route, each registered together with its documentation.
fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(verify::verify))
        .routes(routes!(models::list_models))
        .routes(routes!(models::get_model))
        .routes(routes!(products::list_products, products::create_product))
        .routes(routes!(prompts::list_prompts, prompts::create_prompt))
        .routes(routes!(prompts::get_prompt, prompts::update_prompt))
        .routes(routes!(agents::list_agents, agents::create_agent))
        .routes(routes!(
            agents::get_agent,
            agents::update_agent,
            agents::delete_agent
        ))
        .routes(routes!(agents::setup_agent))
        .routes(routes!(agents::pause_agent))
        .routes(routes!(agents::resume_agent))
        .routes(routes!(agents::relaunch_agent))
        .routes(routes!(agents::submit_verification_code))
        .routes(routes!(dnc::list_dnc, dnc::add_dnc))
        .routes(routes!(dnc::check_dnc))
        .routes(routes!(dnc::add_dnc_batch))
        .routes(routes!(dnc::delete_dnc))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(webhooks::update_webhook, webhooks::delete_webhook))
        .routes(routes!(webhooks::list_events))
        .routes(routes!(webhooks::send_test))
        .routes(routes!(webhooks::list_test_events))
        .routes(routes!(webhooks::test_example))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::retry_delivery))
        .routes(routes!(sales_navigator::import_sales_navigator))
        .routes(routes!(sales_navigator::get_sales_navigator))
        .routes(routes!(search::search_prospects))
        .routes(routes!(analytics::overview))
        .routes(routes!(analytics::campaign_analytics))
        .routes(routes!(prospects::list_campaign_prospects))
        .routes(routes!(prospects::get_prospect, prospects::delete_prospect))
        .routes(routes!(prospects::update_custom_data))
        .routes(routes!(prospects::pause_prospect))
        .routes(routes!(prospects::send_person_message))
        .routes(routes!(prospects::resume_prospect))
        .routes(routes!(prospects::qualify_prospect))
        .routes(routes!(prospects::disqualify_prospect))
        .routes(routes!(prospects::delete_prospects))
        .routes(routes!(drafts::list_drafts))
        .routes(routes!(drafts::get_draft))
        .routes(routes!(drafts::approve_draft))
        .routes(routes!(drafts::reject_draft))
        .routes(routes!(
            campaigns::list_campaigns,
            campaigns::create_campaign
        ))
        .routes(routes!(
            campaigns::update_campaign,
            campaigns::delete_campaign
        ))
        .routes(routes!(campaigns::pause_campaign))
        .routes(routes!(campaigns::resume_campaign))
        .routes(routes!(campaigns::campaign_stats))
        .routes(routes!(
            workspaces::list_workspaces,
            workspaces::create_workspace
        ))
        .routes(routes!(workspaces::delete_workspace))
        .routes(routes!(workspaces::invite_client))
        .routes(routes!(workspaces::remove_client))
        .routes(routes!(
            workspaces::assign_agent,
            workspaces::unassign_agent
        ))
        .routes(routes!(imports::add_prospect))
        .routes(routes!(imports::add_prospects_batch))
        .routes(routes!(imports::add_prospects_round_robin))
        .routes(routes!(imports::get_import))
}

/// The routes LinkedIn providers call: no API key (each checks its own shared secret).
fn integration_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(integrations::unipile_webhook))
}

/// The OpenAPI document of every `/v1` route and of the integration routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    v1_routes().merge(integration_routes()).split_for_parts().1
}

/// The authenticated `/v1` routes and their document.
fn authenticated_v1(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    v1_routes()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .split_for_parts()
}

/// The `/v1` routes alone, with the layers every request passes: what another door calls
/// in-process.
pub fn rest_door(state: AppState, max_body_bytes: usize) -> Router {
    let (api, _) = authenticated_v1(&state);
    with_common_layers(
        api.fallback(route_not_found)
            .method_not_allowed_fallback(method_not_allowed),
        max_body_bytes,
    )
    .with_state(state)
}

/// The whole application with its layers; `mcp` builds the service at `/mcp` from the
/// in-process `/v1` door.
pub fn router(
    state: AppState,
    max_body_bytes: usize,
    mcp: Option<&McpMount>,
    dashboard: Option<Router>,
) -> Router {
    let (api, document) = authenticated_v1(&state);
    let (integrations, integrations_document) = integration_routes().split_for_parts();
    let mut document = document;
    document.merge(integrations_document);
    let api = api.merge(integrations);
    let document_json = Arc::new(document.to_pretty_json().unwrap_or_default());
    let reference_page = Arc::new(docs::render(&document));
    let mut app = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route(
            "/v1/openapi.json",
            get(move || {
                let json = Arc::clone(&document_json);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.as_str().to_owned(),
                    )
                }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let page = Arc::clone(&reference_page);
                async move { Html(page.as_str().to_owned()) }
            }),
        )
        .merge(api)
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed);
    if let Some(mount) = mcp {
        let door = rest_door(state.clone(), max_body_bytes);
        let service = mount(door).layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ));
        app = app.nest_service("/mcp", service);
    }
    if let Some(dashboard) = dashboard {
        // The dashboard keeps its own body limit (CSV uploads) and answers its own 404s.
        app = app
            .route("/", get(|| async { axum::response::Redirect::to("/app") }))
            .nest_service("/app", dashboard);
    }
    with_common_layers(app, max_body_bytes).with_state(state)
}

/// Body limits, panics as 500s in our error shape, and request ids with the access log.
fn with_common_layers(router: Router<AppState>, max_body_bytes: usize) -> Router<AppState> {
    router
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(Extension(BodyLimit(max_body_bytes)))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                ApiError::Internal("a handler panicked".to_owned()).into_response()
            },
        ))
        .layer(middleware::from_fn(request_id::assign))
}

async fn route_not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

async fn method_not_allowed(method: Method) -> Response {
    ApiError::MethodNotAllowed(method.to_string()).into_response()
}
