//! `POST /integrations/unipile/webhook`: Unipile tells us that a prospect wrote, that an
//! invitation was accepted, or that an account lost its LinkedIn session.
//!
//! Rules:
//! - the route exists only when `unipile_webhook_secret` is configured (404 otherwise), and a
//!   call is trusted only with that secret in `X-Outbound-Webhook-Secret` (401
//!   `invalid_webhook_secret`), compared in constant time; it takes no API key;
//! - a new message or relation names the person by profile URL and/or LinkedIn member id; it
//!   only wakes the conversation's check
//!   ([`outbound_store::ingress`]): the engine then reads LinkedIn through the connector and
//!   records what it finds, exactly once, as it does on its periodic checks — which keep running
//!   as the reconciliation of any webhook lost on the way;
//! - an account whose session ended (`CREDENTIALS`) puts its agents in `auth_needed` with a
//!   `session_expired` alert, as the engine does when LinkedIn refuses a call;
//! - an event we cannot match (another provider, an unknown account or person) is acknowledged
//!   with 200, so Unipile does not retry it; an unreadable body is 400.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use outbound_core::agent::{AgentEvent, Alert};
use outbound_core::time::Millis;
use outbound_linkedin::unipile::webhook::{
    ProfileRef, SECRET_HEADER, WebhookEvent, WebhookKind, parse_webhook, verify_secret,
};
use outbound_store::StoreError;
use outbound_store::agents::AgentChange;
use outbound_store::ingress::{AccountAgent, PersonRef};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};

const NOT_ENABLED: &str = "Unipile webhooks are not enabled on this server";

/// What the webhook did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressReceipt {
    /// Always `true`: the event was read.
    received: bool,
    /// `woken` (conversations will be checked now), `agent_needs_auth`, or `ignored`.
    action: &'static str,
    /// Conversations whose check was made due now.
    conversations: u64,
}

impl IngressReceipt {
    fn ignored() -> Self {
        Self {
            received: true,
            action: "ignored",
            conversations: 0,
        }
    }
}

#[utoipa::path(
    post,
    path = "/integrations/unipile/webhook",
    tag = "Integrations",
    security(()),
    request_body(content = Object, description = "A Unipile webhook body: `message_received`, `new_relation` or `AccountStatus`"),
    params(("X-Outbound-Webhook-Secret" = String, Header, description = "The secret configured as `unipile_webhook_secret`")),
    responses(
        (status = 200, description = "The event was read (and acted on when it matched an agent)", body = IngressReceipt),
        (status = 400, description = "The body is not a Unipile webhook", body = ErrorBody),
        (status = 401, description = "Missing or wrong secret", body = ErrorBody),
        (status = 404, description = "Unipile webhooks are not enabled on this server", body = ErrorBody),
    )
)]
pub async fn unipile_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<IngressReceipt>> {
    let Some(expected) = state.unipile_webhook_secret.as_deref() else {
        return Err(ApiError::NotFound(NOT_ENABLED));
    };
    let provided = headers
        .get(SECRET_HEADER)
        .and_then(|value| value.to_str().ok());
    if !verify_secret(provided, expected) {
        return Err(ApiError::InvalidWebhookSecret);
    }
    let now = (state.now)();
    let event = parse_webhook(&body, now)
        .map_err(|error| ApiError::InvalidRequest(format!("Invalid Unipile webhook: {error}")))?;
    let Some(WebhookEvent { account_id, kind }) = event else {
        return Ok(Json(IngressReceipt::ignored()));
    };
    let agents = state.store.agents_of_account(&account_id).await?;
    if agents.is_empty() {
        tracing::info!(%account_id, "Unipile webhook for an account no agent uses");
        return Ok(Json(IngressReceipt::ignored()));
    }
    let receipt = match kind {
        WebhookKind::NewMessage { from, .. } => wake(&state, &agents, &from, now).await?,
        WebhookKind::NewRelation { profile, .. } => wake(&state, &agents, &profile, now).await?,
        WebhookKind::AccountStatus {
            needs_auth: true, ..
        } => session_ended(&state, &agents).await?,
        WebhookKind::AccountStatus { status, .. } => {
            tracing::info!(%account_id, %status, "Unipile account status");
            IngressReceipt::ignored()
        }
    };
    Ok(Json(receipt))
}

/// Wakes the checks of the conversations of `agents` with the person `who`.
async fn wake(
    state: &AppState,
    agents: &[AccountAgent],
    who: &ProfileRef,
    now: Millis,
) -> ApiResult<IngressReceipt> {
    let person = PersonRef {
        url: who.profile_url.as_deref(),
        provider_id: who.provider_id.as_deref(),
    };
    let mut conversations = 0;
    for agent in agents {
        conversations += state.store.wake_checks(agent, person, now).await?;
    }
    Ok(IngressReceipt {
        received: true,
        action: if conversations == 0 {
            "ignored"
        } else {
            "woken"
        },
        conversations,
    })
}

/// Puts `agents` in `auth_needed` with a `session_expired` alert (those whose status allows it).
async fn session_ended(state: &AppState, agents: &[AccountAgent]) -> ApiResult<IngressReceipt> {
    for agent in agents {
        let change = AgentChange::RaiseAlert(Alert::session_expired());
        let outcome = state
            .store
            .transition_agent(
                &agent.team_id,
                &agent.agent_id,
                AgentEvent::LoginNeedsAction,
                change,
            )
            .await;
        match outcome {
            Ok(_) | Err(StoreError::InvalidStatus(_) | StoreError::NotFound) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(IngressReceipt {
        received: true,
        action: "agent_needs_auth",
        conversations: 0,
    })
}
