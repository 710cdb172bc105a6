//! `GET /v1/verify`: is this key valid, and whose is it.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorBody;
use crate::extract::Tenant;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Always `success`.
    status: &'static str,
    message: &'static str,
    team_id: String,
}

/// Check the API key and return the team it belongs to.
#[utoipa::path(
    get,
    path = "/v1/verify",
    tag = "Auth",
    responses(
        (status = 200, description = "The key is valid", body = VerifyResponse),
        (status = 401, description = "Missing, malformed or unknown key", body = ErrorBody),
        (status = 403, description = "Subscription inactive", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn verify(tenant: Tenant) -> Json<VerifyResponse> {
    Json(VerifyResponse {
        status: "success",
        message: "API key is valid",
        team_id: tenant.team_id,
    })
}
