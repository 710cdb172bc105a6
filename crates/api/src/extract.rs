//! Extractors that turn every malformed input into our error shape.
//!
//! - [`ApiJson`] reads the body whatever its `Content-Type` (real clients omit it), treats an
//!   empty body as `{}`, and names the offending field of a malformed, mistyped or missing value.
//! - [`ApiQuery`] does the same for query strings.
//! - [`Tenant`] is the authenticated team, put in place by the auth middleware.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use outbound_core::plan::Plan;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body deserialised into `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |limit| limit.0);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(limit)
                } else {
                    ApiError::InvalidRequest("The request body could not be read".to_owned())
                }
            })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| deserialize_error(&error.path().to_string(), &error.inner().to_string()))?;
        deserializer
            .end()
            .map_err(|error| ApiError::field("body", strip_position(&error.to_string())))?;
        Ok(ApiJson(value))
    }
}

/// The body size limit in force, so that a 413 can say it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A query string deserialised into `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| deserialize_error(&error.path().to_string(), &error.inner().to_string()))
    }
}

/// A validation error naming the field of a serde failure.
fn deserialize_error(path: &str, message: &str) -> ApiError {
    let message = strip_position(message);
    let field = if path.is_empty() || path == "." {
        quoted_name(&message).unwrap_or_else(|| "body".to_owned())
    } else if message.starts_with("missing field") || message.starts_with("unknown field") {
        quoted_name(&message).map_or_else(|| path.to_owned(), |name| format!("{path}.{name}"))
    } else {
        path.to_owned()
    };
    ApiError::field(&field, message)
}

/// `x` in "missing field `x`" / "unknown field `x`, expected ...".
fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

/// serde_json's messages end with " at line L column C"; clients need not see it.
fn strip_position(message: &str) -> String {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
        .to_owned()
}

/// The team a request acts for.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub team_id: String,
    pub plan: Plan,
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Tenant>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("route without authentication".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::Validation(details) => details[0].field.clone(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn names_fields_of_serde_errors() {
        assert_eq!(field_of(deserialize_error(".", "missing field `name` at line 1 column 2")), "name");
        assert_eq!(field_of(deserialize_error("limits", "missing field `messagesMax`")), "limits.messagesMax");
        assert_eq!(
            field_of(deserialize_error("workingHours.start", "invalid type: integer `5`, expected a string")),
            "workingHours.start"
        );
        assert_eq!(field_of(deserialize_error(".", "unknown field `content`, expected one of `context`")), "content");
        assert_eq!(field_of(deserialize_error(".", "expected value at line 1 column 1")), "body");
    }
}
