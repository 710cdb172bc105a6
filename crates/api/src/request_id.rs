//! Request ids and the access log line (method, path, status, latency; never headers).
//!
//! Ids are taken from `X-Request-Id` when the client sends a sane one, else generated;
//! echoed on every response and available to the error type while the request runs.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use outbound_core::ids::new_id;
use std::time::Instant;
use tracing::Instrument;

/// The request id header.
pub const HEADER: &str = "x-request-id";
/// Longest client-supplied request id we keep.
const MAX_CLIENT_ID_LEN: usize = 128;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, or `unknown` outside one.
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn client_id(request: &Request) -> Option<String> {
    let value = request.headers().get(HEADER)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= MAX_CLIENT_ID_LEN
        && value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    sane.then(|| value.to_owned())
}

/// Middleware: assigns the id, runs the request inside its scope, and echoes it.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = client_id(&request).unwrap_or_else(new_id);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
