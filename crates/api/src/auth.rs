//! Authentication and rate limiting of every `/v1` route.
//!
//! Order of checks: a key is present (401 `missing_api_key`), it is a Bearer key of the right
//! shape (401 `invalid_api_key_format`), it belongs to a live key (401 `invalid_api_key`), the
//! team's subscription is active (403 `subscription_inactive`), then the team's bucket for the
//! route has room (429 `rate_limit_exceeded`). The key is never logged.
//!
//! `/mcp` passes the same key checks ([`require_key`]) but no rate limit of its own: each tool
//! call is a `/v1` request, charged to that route's bucket. Its 401 also carries
//! `WWW-Authenticate`, which MCP clients read to know they must authenticate.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use outbound_core::keys::{hash_api_key, is_well_formed_api_key};
use outbound_core::time::now_millis;
use outbound_store::teams::KeyOwner;
use std::time::Duration;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Tenant;
use crate::rate_limit::{Verdict, bucket_for};

/// The key of an `Authorization: Bearer <key>` header.
fn bearer_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::MissingApiKey)?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidApiKeyFormat)?
        .trim();
    if value.is_empty() {
        return Err(ApiError::MissingApiKey);
    }
    let (scheme, key) = value.split_once(' ').ok_or(ApiError::InvalidApiKeyFormat)?;
    let key = key.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !is_well_formed_api_key(key) {
        return Err(ApiError::InvalidApiKeyFormat);
    }
    Ok(key)
}

/// Whole seconds, rounded up, for `Retry-After`.
fn ceil_secs(duration: Duration) -> u64 {
    let secs = duration.as_secs();
    if duration.subsec_nanos() > 0 {
        secs + 1
    } else {
        secs
    }
}

fn rate_limit_headers(verdict: &Verdict) -> [(&'static str, HeaderValue); 3] {
    [
        ("x-ratelimit-limit", HeaderValue::from(verdict.limit)),
        (
            "x-ratelimit-remaining",
            HeaderValue::from(verdict.remaining),
        ),
        (
            "x-ratelimit-reset",
            HeaderValue::from(ceil_secs(verdict.reset_after)),
        ),
    ]
}

/// The team of the request's key, once the key is live and the subscription active.
async fn owner_of(state: &AppState, headers: &HeaderMap) -> Result<KeyOwner, ApiError> {
    let key = bearer_key(headers)?;
    let owner = state
        .store
        .key_owner(&hash_api_key(key))
        .await?
        .ok_or(ApiError::InvalidApiKey)?;
    if !owner.subscription_active {
        return Err(ApiError::SubscriptionInactive);
    }
    Ok(owner)
}

/// The challenge of a 401 on `/mcp` (RFC 6750).
const MCP_CHALLENGE: &str = "Bearer realm=\"outbound\", error=\"invalid_token\"";

/// Middleware in front of `/mcp`: the key checks of `/v1`, without a rate limit.
pub async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match owner_of(&state, request.headers()).await {
        Ok(_) => next.run(request).await,
        Err(error) => {
            let mut response = error.into_response();
            if response.status() == axum::http::StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(MCP_CHALLENGE),
                );
            }
            response
        }
    }
}

/// Middleware on the `/v1` routes.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let owner = match owner_of(&state, request.headers()).await {
        Ok(owner) => owner,
        Err(error) => return error.into_response(),
    };
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |m| m.as_str().to_owned(),
    );
    let bucket = bucket_for(request.method(), &route);
    let verdict = state.limiter.check(&owner.team_id, bucket).await;
    if let Some(verdict) = verdict.filter(|v| !v.allowed) {
        let retry_after = ceil_secs(verdict.retry_after).max(1);
        let reset_time = bucket.reports_reset_time().then(|| {
            now_millis() + i64::try_from(verdict.retry_after.as_millis()).unwrap_or(i64::MAX)
        });
        let mut response = ApiError::RateLimited {
            retry_after_secs: retry_after,
            reset_time_ms: reset_time,
        }
        .into_response();
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        headers.extend(
            rate_limit_headers(&verdict).map(|(k, v)| (header::HeaderName::from_static(k), v)),
        );
        return response;
    }
    request.extensions_mut().insert(Tenant {
        team_id: owner.team_id,
        plan: owner.plan,
    });
    let mut response = next.run(request).await;
    if let Some(verdict) = verdict {
        response.headers_mut().extend(
            rate_limit_headers(&verdict).map(|(k, v)| (header::HeaderName::from_static(k), v)),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_forms() {
        let key = "a".repeat(40);
        assert_eq!(bearer_key(&headers(&format!("Bearer {key}"))).unwrap(), key);
        assert_eq!(bearer_key(&headers(&format!("bearer {key}"))).unwrap(), key);
        assert!(matches!(
            bearer_key(&HeaderMap::new()),
            Err(ApiError::MissingApiKey)
        ));
        assert!(matches!(
            bearer_key(&headers(&key)),
            Err(ApiError::InvalidApiKeyFormat)
        ));
        assert!(matches!(
            bearer_key(&headers(&format!("Basic {key}"))),
            Err(ApiError::InvalidApiKeyFormat)
        ));
        assert!(matches!(
            bearer_key(&headers("Bearer short")),
            Err(ApiError::InvalidApiKeyFormat)
        ));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(ceil_secs(Duration::from_millis(3001)), 4);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }
}
