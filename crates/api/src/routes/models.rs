//! `GET /v1/models` and `GET /v1/models/{modelId}`: the configured catalogue. The list shows
//! active models only; a single model is found whatever its status.

use axum::Json;
use axum::extract::{Path, State};
use outbound_core::model::ModelSpec;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Tenant;

#[derive(Debug, Serialize, ToSchema)]
pub struct PricingView {
    /// Price of input tokens (per million tokens, USD).
    input: f64,
    /// Price of output tokens.
    output: f64,
    /// Price of cached input tokens, when the provider has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    cached: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    id: String,
    name: String,
    pricing: PricingView,
    /// `active` when its provider is configured.
    #[schema(example = "active")]
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    models: Vec<ModelView>,
    total: usize,
}

fn view(spec: &ModelSpec, active: bool) -> ModelView {
    ModelView {
        id: spec.id.clone(),
        name: spec.name.clone(),
        pricing: PricingView {
            input: spec.pricing.input,
            output: spec.pricing.output,
            cached: spec.pricing.cached,
        },
        status: if active { "active" } else { "inactive" },
    }
}

/// List the active models.
#[utoipa::path(
    get,
    path = "/v1/models",
    tag = "Models",
    responses(
        (status = 200, description = "Active models", body = ModelList),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_models(State(state): State<AppState>, _tenant: Tenant) -> Json<ModelList> {
    let models: Vec<ModelView> = state
        .models
        .all()
        .iter()
        .filter(|m| state.models.is_active(m))
        .map(|m| view(m, true))
        .collect();
    Json(ModelList {
        total: models.len(),
        models,
    })
}

/// Get one model by id.
#[utoipa::path(
    get,
    path = "/v1/models/{modelId}",
    tag = "Models",
    params(("modelId" = String, Path, description = "Model id")),
    responses(
        (status = 200, description = "The model", body = ModelView),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Model not found", body = ErrorBody),
    )
)]
pub async fn get_model(
    State(state): State<AppState>,
    _tenant: Tenant,
    Path(model_id): Path<String>,
) -> ApiResult<Json<ModelView>> {
    let spec = state
        .models
        .get(&model_id)
        .ok_or(ApiError::NotFound("Model not found"))?;
    Ok(Json(view(spec, state.models.is_active(spec))))
}
