//! Liveness and readiness, outside `/v1` and without authentication.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// `GET /healthz`: the process answers.
pub async fn alive() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and its schema is this build's (no migration
/// pending).
pub async fn ready(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let not_ready = |error: outbound_store::StoreError| {
        tracing::warn!(%error, "readiness check failed");
        ApiError::NotReady
    };
    state.store.ping().await.map_err(not_ready)?;
    let pending = state.store.pending_migrations().await.map_err(not_ready)?;
    if pending > 0 {
        tracing::warn!(pending, "readiness check failed: migrations pending");
        return Err(ApiError::NotReady);
    }
    Ok(Json(json!({
        "status": "ready",
        "database": state.store.backend(),
        "migrations": "current",
    })))
}
