//! The MCP server of Outbound: the 42 tools of Kakiyo's MCP server and ours for the review
//! queue (drafts, a person's message), for AI assistants, over
//! stateless streamable HTTP at `/mcp` ([`http`]) and over stdio ([`serve_stdio`]).
//!
//! Rule: MCP is a second door onto the same rules, never a second implementation of them.
//! Every tool is one request of the REST API, sent in-process through the very `/v1` router
//! HTTP clients reach ([`rest`]) with the caller's own key: the team, the plan checks, the
//! rate-limit bucket, validation, tenant scoping and error codes are the REST route's. The
//! catalogue ([`tools`]) only describes tools and maps their arguments onto routes. Beyond
//! Kakiyo: resources (a campaign's live figures, a conversation's transcript) and prompts that
//! compose the tools ("review today's replies", "plan a campaign").

mod args;
pub mod http;
mod prompts;
mod resources;
pub mod rest;
mod server;
pub mod tools;

pub use http::AllowedHosts;
pub use rest::RestDoor;
pub use server::{OutboundMcp, SERVER_NAME};

use rmcp::ServiceExt;

/// Serves MCP on stdin and stdout until the client closes them, every call authenticated
/// with `key`. Logs must go to stderr: stdout carries the protocol.
pub async fn serve_stdio(door: RestDoor, key: &str) -> Result<(), std::io::Error> {
    let running = OutboundMcp::with_key(door, key)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}
