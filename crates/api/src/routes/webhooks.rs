//! Webhooks: management, the event catalogues, test sends, and (our extension) the delivery
//! log with manual retry. Secrets are sealed at rest and never returned. Deliveries themselves
//! are made by the dispatcher (`outbound-engine`), never inside a request.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::events::{EventType, TEST_EVENTS, TestEvent, example_payload, test_data};
use outbound_core::time::{iso8601, now_millis};
use outbound_core::validation::Problems;
use outbound_core::webhooks::{SECRET_LEN, check_events, check_name, check_url};
use outbound_store::webhooks::{Delivery, NewWebhook, Webhook, WebhookPatch};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, ApiQuery, Tenant};

const WEBHOOK_NOT_FOUND: &str = "Webhook not found";
/// Page size bounds and default of the delivery log.
const DELIVERY_PAGE: (i64, i64) = (1, 100);
const DEFAULT_DELIVERY_PAGE: i64 = 25;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    id: String,
    name: String,
    url: String,
    events: Vec<String>,
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_success: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_failure: Option<String>,
    success_count: i64,
    failure_count: i64,
    created_at: String,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        WebhookView {
            id: w.id,
            name: w.name,
            url: w.url,
            events: w.events,
            active: w.active,
            last_success: w.last_success.map(iso8601),
            last_failure: w.last_failure.map(iso8601),
            success_count: w.success_count,
            failure_count: w.failure_count,
            created_at: iso8601(w.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    name: String,
    /// http(s) URL; HTTPS recommended.
    url: String,
    /// Signs deliveries (`X-Kakiyo-Signature`, `webhook-signature`); never returned.
    secret: Option<String>,
    /// Event names, or `*` for all.
    events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateWebhookResponse {
    id: String,
    name: String,
    url: String,
    events: Vec<String>,
    active: bool,
    message: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateWebhookRequest {
    name: Option<String>,
    url: Option<String>,
    /// A new secret; an empty string removes it.
    secret: Option<String>,
    events: Option<Vec<String>>,
    /// `true` re-enables a disabled webhook and resets its failure tracking.
    active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdMessage {
    id: String,
    message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    id: &'static str,
    name: &'static str,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestRequest {
    /// A concrete event name (not `*`).
    event: String,
    /// Merged into the test payload's `data`.
    data: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    id: String,
    name: String,
    url: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestResponse {
    message: &'static str,
    event: String,
    webhooks_count: usize,
    webhooks: Vec<TargetView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    id: String,
    event: String,
    /// `pending`, `succeeded` or `failed`.
    status: String,
    attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    response_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_attempt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_attempt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    last_error: Option<String>,
    created_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        let pending = d.status == outbound_store::webhooks::PENDING;
        DeliveryView {
            id: d.id,
            event: d.event_type,
            status: d.status,
            attempts: d.attempts,
            response_code: d.response_code,
            next_attempt: d.next_attempt_at.filter(|_| pending).map(iso8601),
            last_attempt: d.last_attempt_at.map(iso8601),
            last_error: d.last_error,
            created_at: iso8601(d.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    deliveries: Vec<DeliveryView>,
    limit: i64,
    offset: i64,
    has_more: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PageQuery {
    /// 1–100, default 25.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResponse {
    message: &'static str,
    delivery: DeliveryView,
}

/// List the team's webhooks, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "Webhooks",
    responses(
        (status = 200, description = "Webhooks", body = Vec<WebhookView>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<Vec<WebhookView>>> {
    let webhooks = state.store.list_webhooks(&tenant.team_id).await?;
    Ok(Json(webhooks.into_iter().map(WebhookView::from).collect()))
}

/// Create a webhook.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    tag = "Webhooks",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Created", body = CreateWebhookResponse),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<CreateWebhookResponse>)> {
    let mut problems = Problems::new();
    let name = body.name.trim();
    check_name(&mut problems, name);
    check_url(&mut problems, &body.url);
    if let Some(secret) = &body.secret {
        problems.check_len("secret", secret, SECRET_LEN.0, SECRET_LEN.1);
    }
    check_events(&mut problems, &body.events);
    problems.into_result().map_err(ApiError::Validation)?;
    let new = NewWebhook {
        name: name.to_owned(),
        url: body.url.trim().to_owned(),
        secret_sealed: body.secret.as_deref().map(|s| state.secrets.seal(s)),
        events: body.events,
    };
    let webhook = state.store.create_webhook(&tenant.team_id, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateWebhookResponse {
            id: webhook.id,
            name: webhook.name,
            url: webhook.url,
            events: webhook.events,
            active: webhook.active,
            message: "Webhook created successfully",
        }),
    ))
}

/// Update a webhook; `active: true` re-enables it and resets its failure tracking.
#[utoipa::path(
    put,
    path = "/v1/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("webhookId" = String, Path, description = "Webhook id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "Updated", body = IdMessage),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Webhook not found", body = ErrorBody),
    )
)]
pub async fn update_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(webhook_id): Path<String>,
    ApiJson(body): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<Json<IdMessage>> {
    let mut problems = Problems::new();
    if let Some(name) = &body.name {
        check_name(&mut problems, name);
    }
    if let Some(url) = &body.url {
        check_url(&mut problems, url);
    }
    if let Some(secret) = &body.secret {
        problems.check_len("secret", secret, 0, SECRET_LEN.1);
    }
    if let Some(events) = &body.events {
        check_events(&mut problems, events);
    }
    let empty = body.name.is_none()
        && body.url.is_none()
        && body.secret.is_none()
        && body.events.is_none()
        && body.active.is_none();
    if empty {
        problems.add(
            "body",
            "At least one of name, url, secret, events, active is required",
        );
    }
    problems.into_result().map_err(ApiError::Validation)?;
    let patch = WebhookPatch {
        name: body.name.map(|n| n.trim().to_owned()),
        url: body.url.map(|u| u.trim().to_owned()),
        secret_sealed: body
            .secret
            .map(|s| (!s.is_empty()).then(|| state.secrets.seal(&s))),
        events: body.events,
        active: body.active,
    };
    let webhook = state
        .store
        .update_webhook(&tenant.team_id, &webhook_id, patch)
        .await
        .or_not_found(WEBHOOK_NOT_FOUND)?;
    Ok(Json(IdMessage {
        id: webhook.id,
        message: "Webhook updated successfully",
    }))
}

/// Delete a webhook and its delivery log.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("webhookId" = String, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Deleted", body = IdMessage),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Webhook not found", body = ErrorBody),
    )
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<IdMessage>> {
    let webhook = state
        .store
        .delete_webhook(&tenant.team_id, &webhook_id)
        .await
        .or_not_found(WEBHOOK_NOT_FOUND)?;
    Ok(Json(IdMessage {
        id: webhook.id,
        message: "Webhook deleted successfully",
    }))
}

/// The events a webhook can subscribe to (and `*` for all).
#[utoipa::path(
    get,
    path = "/v1/webhooks/events",
    tag = "Webhooks",
    responses(
        (status = 200, description = "Subscribable events", body = Vec<EventView>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_events(_tenant: Tenant) -> Json<Vec<EventView>> {
    Json(
        EventType::ALL
            .into_iter()
            .map(|e| EventView {
                id: e.as_str(),
                name: e.display_name(),
            })
            .collect(),
    )
}

/// Send a test event to every active webhook subscribed to it.
#[utoipa::path(
    post,
    path = "/v1/webhooks/test",
    tag = "Webhooks",
    request_body = TestRequest,
    responses(
        (status = 200, description = "Test deliveries queued", body = TestResponse),
        (status = 400, description = "Invalid event", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "No webhooks found for this event", body = ErrorBody),
    )
)]
pub async fn send_test(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<TestRequest>,
) -> ApiResult<Json<TestResponse>> {
    let event = EventType::parse(&body.event).ok_or_else(|| {
        ApiError::field(
            "event",
            "The event must be one of the events of GET /v1/webhooks/events",
        )
    })?;
    if body.data.as_ref().is_some_and(|d| !d.is_object()) {
        return Err(ApiError::field("data", "data must be a JSON object"));
    }
    let data = test_data(event, &iso8601(now_millis()), body.data.as_ref());
    let targets = state
        .store
        .queue_test_deliveries(&tenant.team_id, event.as_str(), &data)
        .await?;
    if targets.is_empty() {
        return Err(ApiError::NotFound("No webhooks found for this event"));
    }
    Ok(Json(TestResponse {
        message: "Test webhook sent successfully",
        event: event.as_str().to_owned(),
        webhooks_count: targets.len(),
        webhooks: targets
            .into_iter()
            .map(|w| TargetView {
                id: w.id,
                name: w.name,
                url: w.url,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestEventView {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    category: &'static str,
}

impl From<TestEvent> for TestEventView {
    fn from(e: TestEvent) -> Self {
        TestEventView {
            id: e.id,
            name: e.name,
            description: e.description,
            category: e.category,
        }
    }
}

/// The catalogue of test events (Kakiyo's legacy vocabulary).
#[utoipa::path(
    get,
    path = "/v1/webhooks/test/events",
    tag = "Webhooks",
    responses(
        (status = 200, description = "Test events", body = Vec<TestEventView>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_test_events(_tenant: Tenant) -> Json<Vec<TestEventView>> {
    Json(TEST_EVENTS.into_iter().map(TestEventView::from).collect())
}

/// An example payload of a test event.
#[utoipa::path(
    get,
    path = "/v1/webhooks/test/example/{event}",
    tag = "Webhooks",
    params(("event" = String, Path, description = "A test event id")),
    responses(
        (status = 200, description = "Example payload", body = Object),
        (status = 400, description = "invalid_event, with validEvents", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn test_example(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(event): Path<String>,
) -> ApiResult<Json<Value>> {
    let team = state.store.get_team(&tenant.team_id).await?;
    example_payload(&event, &team.id, &team.name, &iso8601(now_millis()))
        .map(Json)
        .ok_or_else(|| ApiError::InvalidEvent {
            event,
            valid: TEST_EVENTS.iter().map(|e| e.id).collect(),
        })
}

/// A webhook's deliveries, newest first (our extension).
#[utoipa::path(
    get,
    path = "/v1/webhooks/{webhookId}/deliveries",
    tag = "Webhooks",
    params(
        ("webhookId" = String, Path, description = "Webhook id"),
        ("limit" = Option<i64>, Query, description = "1–100, default 25"),
        ("offset" = Option<i64>, Query, description = "Default 0"),
    ),
    responses(
        (status = 200, description = "Deliveries", body = DeliveryPage),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Webhook not found", body = ErrorBody),
    )
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(webhook_id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    let limit = query.limit.unwrap_or(DEFAULT_DELIVERY_PAGE);
    let offset = query.offset.unwrap_or(0);
    let mut problems = Problems::new();
    problems.check_range("limit", limit, DELIVERY_PAGE.0, DELIVERY_PAGE.1);
    problems.check_range("offset", offset, 0, i64::MAX);
    problems.into_result().map_err(ApiError::Validation)?;
    state
        .store
        .get_webhook(&tenant.team_id, &webhook_id)
        .await
        .or_not_found(WEBHOOK_NOT_FOUND)?;
    let mut deliveries = state
        .store
        .list_deliveries(&tenant.team_id, &webhook_id, limit + 1, offset)
        .await?;
    let has_more = deliveries.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    deliveries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Json(DeliveryPage {
        deliveries: deliveries.into_iter().map(DeliveryView::from).collect(),
        limit,
        offset,
        has_more,
    }))
}

/// Queue a delivery for another attempt now (our extension).
#[utoipa::path(
    post,
    path = "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry",
    tag = "Webhooks",
    params(
        ("webhookId" = String, Path, description = "Webhook id"),
        ("deliveryId" = String, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "Queued", body = RetryResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Webhook or delivery not found", body = ErrorBody),
    )
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((webhook_id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Json<RetryResponse>> {
    let delivery = state
        .store
        .retry_delivery(&tenant.team_id, &webhook_id, &delivery_id)
        .await
        .or_not_found("Delivery not found")?;
    Ok(Json(RetryResponse {
        message: "Delivery queued for retry",
        delivery: delivery.into(),
    }))
}
