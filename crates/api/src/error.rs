//! The one error type of the API and its table of HTTP statuses and `error` codes.
//!
//! Every failure a client can see is a variant here; [`ApiError::status_and_code`] is the single
//! table that maps it to the wire. Bodies are `{"error": code, "message": text}` plus the extra
//! keys Kakiyo documents (`details`, `currentStatus`, `retryAfter`, `resetTime`). Internal errors
//! are logged with the request id and never leak their cause.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use outbound_core::agent::AgentStatus;
use outbound_core::review::DraftStatus;
use outbound_core::validation::FieldError;
use outbound_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("Invalid LinkedIn URL format")]
    InvalidUrl,
    #[error("This action is not allowed while the agent is {0}")]
    InvalidStatus(AgentStatus),
    #[error("The agent has active alerts; resolve them before resuming")]
    AgentHasAlerts,
    #[error("Missing API key. Send it as 'Authorization: Bearer <key>'")]
    MissingApiKey,
    #[error("Malformed API key. Expected 'Authorization: Bearer <40-character key>'")]
    InvalidApiKeyFormat,
    #[error("Invalid API key")]
    InvalidApiKey,
    #[error("Your team's subscription is inactive")]
    SubscriptionInactive,
    #[error("Forbidden - limit reached: your plan allows at most {limit} {what}")]
    PlanLimitReached { what: &'static str, limit: u32 },
    #[error("This DNC entry belongs to another team")]
    UnauthorizedDnc,
    #[error("Invalid event: {event}")]
    InvalidEvent {
        event: String,
        valid: Vec<&'static str>,
    },
    #[error("{0}")]
    NotFound(&'static str),
    #[error("DNC entry not found")]
    DncNotFound,
    #[error("No route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("Method {0} is not allowed on this route")]
    MethodNotAllowed(String),
    #[error("URL already on DNC list")]
    DncEntryExists,
    #[error("The request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("Too many requests. Please try again later.")]
    RateLimited {
        retry_after_secs: u64,
        reset_time_ms: Option<i64>,
    },
    #[error("Cannot delete active campaign. Please pause the campaign first.")]
    CampaignActive,
    #[error("An import is running for this campaign; try again when it has finished")]
    CampaignBusy,
    #[error("Cannot delete prospect with active conversation. Please pause first.")]
    ProspectActive,
    #[error("Too many prospects: at most {0} per request")]
    TooManyProspects(usize),
    #[error("{0}")]
    CampaignMismatch(String),
    #[error("Agency Plan Required: workspaces are available on the agency plan only")]
    AgencyPlanRequired,
    #[error("{0} is already a member of this workspace")]
    AlreadyMember(String),
    #[error("Minimum 2 campaigns required for Round Robin distribution")]
    InvalidCampaigns,
    #[error("{0}")]
    Forbidden(String),
    #[error("Campaign {0} not found")]
    CampaignNotFound(String),
    #[error("The campaign's agent is not set up: give it its LinkedIn credentials first")]
    CampaignMissingAgent,
    #[error("{0}")]
    CampaignNotReady(&'static str),
    #[error("This Sales Navigator search is already saved for the campaign")]
    SalesNavigatorSourceExists,
    #[error(
        "The team already has {0} active Sales Navigator imports; try again when one has finished"
    )]
    SalesNavigatorTeamLimit(i64),
    #[error("This draft is {} and can no longer be approved or rejected", .0.as_str())]
    DraftNotPending(DraftStatus),
    #[error("The prospect is on the Do-Not-Contact list")]
    ProspectOnDnc,
    #[error("The webhook secret is missing or wrong")]
    InvalidWebhookSecret,
    #[error("The database is not reachable")]
    NotReady,
    /// The database could not serve the request (unreachable, busy): nothing was written.
    #[error("The service is briefly unavailable; nothing was changed. Try again shortly.")]
    ServiceUnavailable,
    #[error("An internal error occurred")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The table: HTTP status and `error` code of every variant.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use ApiError as E;
        match self {
            E::Validation(_) => (StatusCode::BAD_REQUEST, "validation_error"),
            E::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            E::InvalidUrl => (StatusCode::BAD_REQUEST, "invalid_url"),
            E::InvalidStatus(_) => (StatusCode::BAD_REQUEST, "invalid_status"),
            E::InvalidEvent { .. } => (StatusCode::BAD_REQUEST, "invalid_event"),
            E::AgentHasAlerts => (StatusCode::BAD_REQUEST, "agent_has_alerts"),
            E::MissingApiKey => (StatusCode::UNAUTHORIZED, "missing_api_key"),
            E::InvalidApiKeyFormat => (StatusCode::UNAUTHORIZED, "invalid_api_key_format"),
            E::InvalidApiKey => (StatusCode::UNAUTHORIZED, "invalid_api_key"),
            E::SubscriptionInactive => (StatusCode::FORBIDDEN, "subscription_inactive"),
            E::PlanLimitReached { .. } => (StatusCode::FORBIDDEN, "plan_limit_reached"),
            E::UnauthorizedDnc => (StatusCode::FORBIDDEN, "unauthorized_dnc"),
            E::NotFound(_) | E::RouteNotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            E::DncNotFound => (StatusCode::NOT_FOUND, "dnc_not_found"),
            E::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            E::DncEntryExists => (StatusCode::CONFLICT, "dnc_entry_exists"),
            E::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            E::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded"),
            E::CampaignActive => (StatusCode::CONFLICT, "campaign_active"),
            E::CampaignBusy => (StatusCode::CONFLICT, "campaign_busy"),
            E::ProspectActive => (StatusCode::CONFLICT, "prospect_active"),
            E::TooManyProspects(_) => (StatusCode::BAD_REQUEST, "too_many_prospects"),
            E::CampaignMismatch(_) => (StatusCode::BAD_REQUEST, "campaign_mismatch"),
            E::AgencyPlanRequired => (StatusCode::FORBIDDEN, "agency_plan_required"),
            E::AlreadyMember(_) => (StatusCode::CONFLICT, "already_member"),
            E::InvalidCampaigns => (StatusCode::BAD_REQUEST, "invalid_campaigns"),
            E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            E::CampaignNotFound(_) => (StatusCode::NOT_FOUND, "campaign_not_found"),
            E::CampaignMissingAgent => (StatusCode::BAD_REQUEST, "campaign_missing_agent"),
            E::CampaignNotReady(_) => (StatusCode::BAD_REQUEST, "campaign_not_ready"),
            E::SalesNavigatorSourceExists => {
                (StatusCode::CONFLICT, "sales_navigator_source_exists")
            }
            E::SalesNavigatorTeamLimit(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "sales_navigator_team_limit")
            }
            E::InvalidWebhookSecret => (StatusCode::UNAUTHORIZED, "invalid_webhook_secret"),
            E::DraftNotPending(_) => (StatusCode::CONFLICT, "draft_not_pending"),
            E::ProspectOnDnc => (StatusCode::CONFLICT, "prospect_on_dnc"),
            E::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            E::ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            E::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    /// One validation problem.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

/// The error body, as documented (OAS `Error`, plus the documented extra keys).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `validation_error`.
    pub error: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// Per-field problems of a validation error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
    /// The agent's status, on `invalid_status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<AgentStatus>,
    /// Seconds to wait, on `rate_limit_exceeded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// When the limit resets (Unix epoch milliseconds), on DNC rate limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_time: Option<i64>,
    /// The accepted event names, on `invalid_event`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_events: Option<Vec<&'static str>>,
    /// The id of the request, on `internal_error`, to quote when reporting it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut body = ErrorBody {
            error: code,
            message: self.to_string(),
            details: None,
            current_status: None,
            retry_after: None,
            reset_time: None,
            valid_events: None,
            request_id: None,
        };
        match self {
            ApiError::Validation(details) => body.details = Some(details),
            ApiError::InvalidStatus(current) => body.current_status = Some(current),
            ApiError::InvalidEvent { valid, .. } => body.valid_events = Some(valid),
            ApiError::RateLimited {
                retry_after_secs,
                reset_time_ms,
            } => {
                body.retry_after = Some(retry_after_secs);
                body.reset_time = reset_time_ms;
            }
            ApiError::Internal(cause) => {
                let id = request_id::current();
                tracing::error!(request_id = %id, %cause, "internal error");
                body.request_id = Some(id);
            }
            ApiError::ServiceUnavailable => {
                body.retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
                return (
                    status,
                    [(
                        header::RETRY_AFTER,
                        UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                    )],
                    axum::Json(body),
                )
                    .into_response();
            }
            _ => {}
        }
        (status, axum::Json(body)).into_response()
    }
}

/// Seconds a client is told to wait (`Retry-After`) when the database cannot serve.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(%error, "database unavailable: 503");
            return ApiError::ServiceUnavailable;
        }
        match error {
            StoreError::NotFound => ApiError::NotFound("Not found"),
            StoreError::QuotaReached { what, limit } => ApiError::PlanLimitReached { what, limit },
            StoreError::AlreadyExists => ApiError::InvalidRequest("Already exists".to_owned()),
            StoreError::InvalidStatus(current) => ApiError::InvalidStatus(current),
            StoreError::AgentHasAlerts => ApiError::AgentHasAlerts,
            StoreError::Invalid(details) => ApiError::Validation(details),
            StoreError::CampaignActive => ApiError::CampaignActive,
            StoreError::CampaignBusy => ApiError::CampaignBusy,
            StoreError::ProspectActive => ApiError::ProspectActive,
            StoreError::MissingReference(message) => ApiError::NotFound(message),
            StoreError::DraftNotPending(status) => ApiError::DraftNotPending(status),
            StoreError::ProspectOnDnc => ApiError::ProspectOnDnc,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Names the missing resource in a store's `NotFound`.
pub trait NotFoundAs<T> {
    fn or_not_found(self, message: &'static str) -> ApiResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, message: &'static str) -> ApiResult<T> {
        self.map_err(|error| match error {
            StoreError::NotFound => ApiError::NotFound(message),
            other => other.into(),
        })
    }
}
