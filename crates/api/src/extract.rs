//! Extractors that turn every malformed input into our error shape.
//!
//! - [`ApiJson`] reads the body whatever its `Content-Type` (real clients omit it), treats an
//!   empty body as `{}`, and names the offending field of a malformed, mistyped or missing value.
//! - [`ApiQuery`] does the same for query strings.
//! - [`Tenant`] is the authenticated team, put in place by the auth middleware.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use outbound_core::plan::Plan;
use serde::de::DeserializeOwned;
use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

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

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .map_or(crate::DEFAULT_MAX_BODY_BYTES, |limit| limit.0);
        let bytes = read_limited(request.into_body(), limit).await?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            deserialize_error(&error.path().to_string(), &error.inner().to_string())
        })?;
        deserializer
            .end()
            .map_err(|error| ApiError::field("body", strip_position(&error.to_string())))?;
        Ok(ApiJson(value))
    }
}

/// After a body over the limit, at most this much more of it is read and dropped, for at most
/// [`DRAIN_TIME`], so that the client finishes sending and reads our 413: closing a connection
/// with unread data resets it, and the client sees the reset instead of the answer.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The whole body, or 413 `payload_too_large` when it is longer than `limit`.
async fn read_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| {
            ApiError::InvalidRequest("The request body could not be read".to_owned())
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if bytes.len() + data.len() > limit {
            drain(body).await;
            return Err(ApiError::PayloadTooLarge(limit));
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// Reads and drops the rest of `body`, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(mut body: Body) {
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(frame)) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let len = frame.data_ref().map_or(0, Bytes::len);
            if len >= left {
                break;
            }
            left -= len;
        }
    })
    .await;
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
            .map_err(|error| {
                deserialize_error(&error.path().to_string(), &error.inner().to_string())
            })
    }
}

/// A validation error naming the field of a serde failure.
fn deserialize_error(path: &str, message: &str) -> ApiError {
    let message = strip_position(message);
    let field = if path.is_empty() || path == "." {
        quoted_name(&message).unwrap_or_else(|| "body".to_owned())
    } else if message.starts_with("missing field") || message.starts_with("unknown field") {
        // The path of a missing field ends at its parent; that of an unknown one at the field.
        quoted_name(&message).map_or_else(
            || path.to_owned(),
            |name| {
                let at_field = path == name || path.ends_with(&format!(".{name}"));
                if message.starts_with("unknown field") && at_field {
                    path.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            },
        )
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
        assert_eq!(
            field_of(deserialize_error(
                ".",
                "missing field `name` at line 1 column 2"
            )),
            "name"
        );
        assert_eq!(
            field_of(deserialize_error("limits", "missing field `messagesMax`")),
            "limits.messagesMax"
        );
        assert_eq!(
            field_of(deserialize_error(
                "workingHours.start",
                "invalid type: integer `5`, expected a string"
            )),
            "workingHours.start"
        );
        assert_eq!(
            field_of(deserialize_error(
                ".",
                "unknown field `content`, expected one of `context`"
            )),
            "content"
        );
        assert_eq!(
            field_of(deserialize_error(
                "content",
                "unknown field `content`, expected `context`"
            )),
            "content"
        );
        assert_eq!(
            field_of(deserialize_error(
                "followUps[0].extra",
                "unknown field `extra`, expected `prompt`"
            )),
            "followUps[0].extra"
        );
        assert_eq!(
            field_of(deserialize_error(".", "expected value at line 1 column 1")),
            "body"
        );
    }
}
