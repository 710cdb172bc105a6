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

/// `GET /readyz`: the database answers.
pub async fn ready(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(%error, "readiness check failed");
        ApiError::NotReady
    })?;
    Ok(Json(
        json!({ "status": "ready", "database": state.store.backend() }),
    ))
}
