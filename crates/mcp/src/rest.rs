//! The REST door, called in-process: a tool's request goes through the very `/v1` router that
//! serves HTTP clients, with the caller's own key.
//!
//! Rule: nothing here decides anything about the request. Authentication, the subscription
//! and plan checks, the rate-limit bucket of the route, validation, tenant scoping and the
//! error table all happen behind the router, exactly as for a REST client; this module only
//! builds the request and reads the answer.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

/// Largest REST answer a tool reads whole (the biggest lists are bounded far below it).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// One request of the REST API.
#[derive(Debug, Clone, PartialEq)]
pub struct RestRequest {
    pub method: Method,
    /// The path under the server, starting with `/v1/`, its segments already encoded.
    pub path: String,
    /// Query parameters, encoded when the request is built.
    pub query: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

impl RestRequest {
    pub fn new(method: Method, path: String) -> RestRequest {
        RestRequest {
            method,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: String) -> RestRequest {
        RestRequest::new(Method::GET, path)
    }

    pub fn with_body(mut self, body: Value) -> RestRequest {
        self.body = Some(body);
        self
    }

    pub fn with_query(mut self, query: Vec<(String, String)>) -> RestRequest {
        self.query = query;
        self
    }

    /// The path and query as one URI.
    fn uri(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query: String = url_encoded(&self.query);
        format!("{}?{query}", self.path)
    }
}

/// `key=value&…`, each side percent-encoded.
fn url_encoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What the REST API answered.
#[derive(Debug, Clone)]
pub struct RestAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The JSON body; `Value::Null` for an empty one.
    pub body: Value,
}

/// The `/v1` router, reached in-process.
#[derive(Clone)]
pub struct RestDoor {
    router: Router,
}

impl RestDoor {
    pub fn new(router: Router) -> RestDoor {
        RestDoor { router }
    }

    /// Sends `request` with `authorization` (the caller's `Authorization` header value).
    pub async fn send(&self, request: &RestRequest, authorization: &str) -> RestAnswer {
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(request.uri())
            .header(header::AUTHORIZATION, authorization);
        let body = match &request.body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let built = match builder.body(body) {
            Ok(built) => built,
            Err(error) => return internal(&format!("cannot build the request: {error}")),
        };
        let response = match self.router.clone().oneshot(built).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_ANSWER_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) => return internal(&format!("cannot read the answer: {error}")),
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        RestAnswer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// An answer for a failure on our side of the door, in the API's error shape.
fn internal(message: &str) -> RestAnswer {
    tracing::error!(message, "an MCP tool could not reach the REST API");
    RestAnswer {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        headers: HeaderMap::new(),
        body: serde_json::json!({ "error": "internal_error", "message": "Internal server error" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded() {
        let request = RestRequest::get("/v1/dnc/check".to_owned()).with_query(vec![(
            "url".to_owned(),
            "linkedin.com/in/jane doe&x=1".to_owned(),
        )]);
        assert_eq!(
            request.uri(),
            "/v1/dnc/check?url=linkedin.com%2Fin%2Fjane%20doe%26x%3D1"
        );
        assert_eq!(
            RestRequest::get("/v1/agents".to_owned()).uri(),
            "/v1/agents"
        );
    }
}
