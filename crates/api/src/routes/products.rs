//! `GET` and `POST /v1/products`. Creation is counted against the plan's product quota.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use outbound_core::plan::Quota;
use outbound_core::product::validate_new_product;
use outbound_core::time::iso8601;
use outbound_store::products::Product;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Tenant};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    id: String,
    name: String,
    description: String,
    created_at: String,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        ProductView {
            id: p.id,
            name: p.name,
            description: p.description,
            created_at: iso8601(p.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProductRequest {
    /// 3 to 200 characters.
    name: String,
    /// 10 to 20000 characters: features, audience, value, objections, pricing guidance.
    description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateProductResponse {
    id: String,
    message: &'static str,
}

/// List the team's products, newest first.
#[utoipa::path(
    get,
    path = "/v1/products",
    tag = "Products",
    responses(
        (status = 200, description = "Products", body = Vec<ProductView>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_products(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<Vec<ProductView>>> {
    let products = state.store.list_products(&tenant.team_id).await?;
    Ok(Json(products.into_iter().map(ProductView::from).collect()))
}

/// Create a product.
#[utoipa::path(
    post,
    path = "/v1/products",
    tag = "Products",
    request_body = CreateProductRequest,
    responses(
        (status = 201, description = "Created", body = CreateProductResponse),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Plan limit reached", body = ErrorBody),
    )
)]
pub async fn create_product(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CreateProductRequest>,
) -> ApiResult<(StatusCode, Json<CreateProductResponse>)> {
    validate_new_product(&body.name, &body.description).map_err(ApiError::Validation)?;
    let product = state
        .store
        .create_product(
            &tenant.team_id,
            body.name.trim(),
            body.description.trim(),
            tenant.plan.quota(Quota::Products),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateProductResponse {
            id: product.id,
            message: "Product created successfully",
        }),
    ))
}
