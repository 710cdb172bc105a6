//! `POST /mcp`: the MCP server over stateless streamable HTTP.
//!
//! Rule: no session — every POST is served on its own, so any number of server processes can
//! answer the same client; `GET` and `DELETE` answer 405. The answer is one JSON-RPC message,
//! as `application/json` or as a one-event `text/event-stream`, whichever the client's `Accept`
//! names first. The `Host` check against DNS rebinding admits loopback names and the
//! configured hosts ([`AllowedHosts`]). Authentication happens before this service, in the
//! API's key check, so a bad key never reaches MCP.

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::response::IntoResponse;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;
use tower::ServiceExt;

use crate::rest::RestDoor;
use crate::server::OutboundMcp;

/// Which `Host` headers `/mcp` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// Loopback names and these hosts (a host without a port matches any port).
    These(Vec<String>),
    /// Any host: for a server behind a proxy that checks hosts itself.
    Any,
}

/// The hosts always allowed: this machine's own names.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The service to mount at `/mcp`, calling the REST API through `door`.
pub fn service(door: RestDoor, hosts: &AllowedHosts) -> Router {
    let json = streamable(door.clone(), hosts, true);
    let sse = streamable(door, hosts, false);
    Router::new().fallback(move |request: Request| {
        let chosen = if prefers_event_stream(&request) {
            sse.clone()
        } else {
            json.clone()
        };
        async move {
            match chosen.oneshot(request).await {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        }
    })
}

/// A stateless streamable-HTTP service answering in JSON or in SSE.
fn streamable(
    door: RestDoor,
    hosts: &AllowedHosts,
    json_response: bool,
) -> StreamableHttpService<OutboundMcp, NeverSessionManager> {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(json_response)
        .with_sse_keep_alive(None);
    config = match hosts {
        AllowedHosts::Any => config.disable_allowed_hosts(),
        AllowedHosts::These(extra) => config.with_allowed_hosts(
            LOOPBACK_HOSTS
                .iter()
                .map(|host| (*host).to_owned())
                .chain(extra.iter().cloned()),
        ),
    };
    let server = OutboundMcp::over_http(door);
    StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

/// Whether the client's `Accept` names `text/event-stream` before `application/json`.
fn prefers_event_stream(request: &Request) -> bool {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let position = |media: &str| accept.find(media).unwrap_or(usize::MAX);
    position("text/event-stream") < position("application/json")
}
