//! Webhooks: the team's endpoints with their health (successes, failures, last of each), a form
//! to add one (name, URL, secret, the events it subscribes to), and per webhook its settings
//! (re-enable a disabled one), its delivery log with the replay of a failed delivery, and a test
//! event sent to every webhook subscribed to it.
//!
//! Rule: the checks are `outbound_core::webhooks`' (those of `POST`/`PUT /v1/webhooks`), the
//! secret is sealed with the server's master key and never shown again, and every change is
//! the store call of the `/v1` twin (`create_webhook`, `update_webhook`, `delete_webhook`,
//! `queue_test_deliveries`, `retry_delivery`); the dispatcher delivers and signs as for `/v1`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::events::{EventType, WILDCARD, test_data};
use outbound_core::time::{Millis, iso8601, now_millis};
use outbound_core::validation::{FieldError, Problems};
use outbound_core::webhooks::{SECRET_LEN, check_events, check_name, check_url};
use outbound_store::webhooks::{Delivery, FAILED, NewWebhook, Webhook, WebhookPatch};
use serde::Deserialize;
use std::collections::HashMap;

use super::{PAGE_ROWS, done, form_status};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, ago, render_status, url_escape};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/test", post(send_test))
        .route("/webhooks/{id}", get(detail).post(update))
        .route("/webhooks/{id}/delete", post(remove))
        .route("/webhooks/{id}/deliveries/{delivery}/retry", post(retry))
}

/// An event a webhook may subscribe to, as a checkbox.
struct EventBox {
    value: &'static str,
    label: &'static str,
    checked: bool,
    opt_in: bool,
}

/// The subscription's checkboxes, `chosen` checked.
fn event_boxes(chosen: &[String]) -> Vec<EventBox> {
    std::iter::once(EventBox {
        value: WILDCARD,
        label: "Every Kakiyo event",
        checked: chosen.iter().any(|e| e == WILDCARD),
        opt_in: false,
    })
    .chain(EventType::ALL.into_iter().map(|event| EventBox {
        value: event.as_str(),
        label: event.display_name(),
        checked: chosen.iter().any(|e| e == event.as_str()),
        opt_in: event.is_opt_in(),
    }))
    .collect()
}

struct WebhookRow {
    id: String,
    name: String,
    url: String,
    events: String,
    active: bool,
    successes: i64,
    failures: i64,
    last_success: String,
    last_failure: String,
}

fn row(webhook: Webhook, now: Millis) -> WebhookRow {
    let when = |at: Option<Millis>| at.map_or_else(|| "never".to_owned(), |at| ago(at, now));
    WebhookRow {
        last_success: when(webhook.last_success),
        last_failure: when(webhook.last_failure),
        events: webhook.events.join(", "),
        id: webhook.id,
        name: webhook.name,
        url: webhook.url,
        active: webhook.active,
        successes: webhook.success_count,
        failures: webhook.failure_count,
    }
}

/// The create and edit form, as filled in.
#[derive(Debug, Default, Clone)]
struct WebhookForm {
    name: String,
    url: String,
    secret: String,
    events: Vec<String>,
    active: bool,
}

impl WebhookForm {
    fn posted(fields: &[(String, String)]) -> WebhookForm {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        WebhookForm {
            name: field("name"),
            url: field("url"),
            secret: field("secret"),
            events: fields
                .iter()
                .filter(|(n, _)| n == "events")
                .map(|(_, v)| v.clone())
                .collect(),
            active: fields.iter().any(|(n, _)| n == "active"),
        }
    }

    /// The problems of the form, by the rules of `/v1`. A blank secret is none for a new
    /// webhook (its deliveries are unsigned) and keeps the stored one for an edit.
    fn problems(&self) -> Result<(), Vec<FieldError>> {
        let mut problems = Problems::new();
        check_name(&mut problems, &self.name);
        check_url(&mut problems, &self.url);
        if !self.secret.is_empty() {
            problems.check_len("secret", &self.secret, SECRET_LEN.0, SECRET_LEN.1);
        }
        check_events(&mut problems, &self.events);
        problems.into_result()
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    chrome: Chrome,
    webhooks: Vec<WebhookRow>,
    form: WebhookForm,
    boxes: Vec<EventBox>,
    tests: Vec<(&'static str, &'static str)>,
    problems: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
    page: Option<i64>,
}

fn test_choices() -> Vec<(&'static str, &'static str)> {
    EventType::ALL
        .into_iter()
        .map(|e| (e.as_str(), e.display_name()))
        .collect()
}

async fn list_page(
    state: &AppState,
    signed: &Signed,
    notice: Option<&str>,
    form: WebhookForm,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let now = state.engine_now();
    let webhooks = state
        .store
        .list_webhooks(signed.team())
        .await?
        .into_iter()
        .map(|w| row(w, now))
        .collect();
    let status = form_status(!problems.is_empty());
    let page = ListPage {
        chrome: Chrome::new(signed, Section::Webhooks, "Webhooks").with_notice(notice),
        webhooks,
        boxes: event_boxes(&form.events),
        form,
        tests: test_choices(),
        problems,
    };
    Ok(render_status(status, &page))
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    list_page(
        &state,
        &signed,
        query.done.as_deref(),
        WebhookForm::default(),
        Vec::new(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = WebhookForm::posted(&fields);
    if let Err(problems) = form.problems() {
        return list_page(&state, &signed, None, form, problems).await;
    }
    let new = NewWebhook {
        name: form.name.trim().to_owned(),
        url: form.url.trim().to_owned(),
        secret_sealed: (!form.secret.is_empty()).then(|| state.settings.secrets.seal(&form.secret)),
        events: form.events.clone(),
    };
    let webhook = state.store.create_webhook(signed.team(), new).await?;
    Ok(done(
        &format!("/app/webhooks/{}", url_escape(&webhook.id)),
        "webhook-saved",
    )
    .into_response())
}

struct DeliveryRow {
    id: String,
    event: String,
    status: String,
    attempts: i64,
    code: String,
    error: String,
    when: String,
    can_retry: bool,
}

fn delivery_row(d: Delivery, now: Millis) -> DeliveryRow {
    DeliveryRow {
        can_retry: d.status == FAILED,
        when: ago(d.last_attempt_at.unwrap_or(d.created_at), now),
        code: d.response_code.map(|c| c.to_string()).unwrap_or_default(),
        error: d.last_error.unwrap_or_default(),
        id: d.id,
        event: d.event_type,
        status: d.status,
        attempts: d.attempts,
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct DetailPage {
    chrome: Chrome,
    id: String,
    health: WebhookRow,
    form: WebhookForm,
    boxes: Vec<EventBox>,
    deliveries: Vec<DeliveryRow>,
    page: i64,
    has_next: bool,
    problems: Vec<FieldError>,
}

async fn detail_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    query: NoticeQuery,
    form: Option<WebhookForm>,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let now = state.engine_now();
    let webhook = state.store.get_webhook(team, id).await?;
    let page = query.page.unwrap_or(0).max(0);
    let mut deliveries = state
        .store
        .list_deliveries(team, id, PAGE_ROWS + 1, page * PAGE_ROWS)
        .await?;
    let has_next = deliveries.len() > usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX);
    deliveries.truncate(usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX));
    let form = form.unwrap_or_else(|| WebhookForm {
        name: webhook.name.clone(),
        url: webhook.url.clone(),
        secret: String::new(),
        events: webhook.events.clone(),
        active: webhook.active,
    });
    let status = form_status(!problems.is_empty());
    let page = DetailPage {
        chrome: Chrome::new(signed, Section::Webhooks, webhook.name.clone())
            .with_notice(query.done.as_deref()),
        id: webhook.id.clone(),
        health: row(webhook, now),
        boxes: event_boxes(&form.events),
        form,
        deliveries: deliveries
            .into_iter()
            .map(|d| delivery_row(d, now))
            .collect(),
        page,
        has_next,
        problems,
    };
    Ok(render_status(status, &page))
}

async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    detail_page(&state, &signed, &id, query, None, Vec::new()).await
}

async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = WebhookForm::posted(&fields);
    if let Err(problems) = form.problems() {
        return detail_page(
            &state,
            &signed,
            &id,
            NoticeQuery::default(),
            Some(form),
            problems,
        )
        .await;
    }
    let patch = WebhookPatch {
        name: Some(form.name.trim().to_owned()),
        url: Some(form.url.trim().to_owned()),
        // A blank secret keeps the stored one.
        secret_sealed: (!form.secret.is_empty())
            .then(|| Some(state.settings.secrets.seal(&form.secret))),
        events: Some(form.events.clone()),
        active: Some(form.active),
    };
    state
        .store
        .update_webhook(signed.team(), &id, patch)
        .await?;
    Ok(done(
        &format!("/app/webhooks/{}", url_escape(&id)),
        "webhook-saved",
    )
    .into_response())
}

async fn remove(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state.store.delete_webhook(signed.team(), &id).await?;
    Ok(done("/app/webhooks", "webhook-deleted").into_response())
}

async fn send_test(
    State(state): State<AppState>,
    signed: Signed,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let event = fields
        .get("event")
        .and_then(|e| EventType::parse(e))
        .ok_or_else(|| {
            PageError::Refused(StatusCode::BAD_REQUEST, "Choose an event.".to_owned())
        })?;
    let data = test_data(event, &iso8601(now_millis()), None);
    let targets = state
        .store
        .queue_test_deliveries(signed.team(), event.as_str(), &data)
        .await?;
    if targets.is_empty() {
        return Err(PageError::Refused(
            StatusCode::NOT_FOUND,
            "No active webhook subscribes to this event.".to_owned(),
        ));
    }
    Ok(done("/app/webhooks", "webhook-tested").into_response())
}

async fn retry(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Response, PageError> {
    state
        .store
        .retry_delivery(signed.team(), &id, &delivery)
        .await?;
    Ok(done(
        &format!("/app/webhooks/{}", url_escape(&id)),
        "delivery-retried",
    )
    .into_response())
}
