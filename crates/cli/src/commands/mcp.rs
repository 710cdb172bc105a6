//! `outbound mcp`: the MCP server on stdin and stdout, for an assistant that starts it as a
//! local process (Claude Desktop, Claude Code, Cursor).
//!
//! Rule: stdio has no headers, so every tool call is authenticated with the key in
//! `OUTBOUND_API_KEY`, checked once at start; stdout carries only the protocol (logs and notes
//! go to stderr). The tools call the same in-process `/v1` door as `POST /mcp` does. The
//! outreach itself runs where `outbound serve` or `outbound worker` runs on the same database.

use anyhow::{Context, Result, bail};
use outbound_mcp::RestDoor;
use outbound_mcp::rest::RestRequest;

use crate::config::Config;

/// The variable holding the key every tool call uses.
pub const API_KEY_ENV: &str = "OUTBOUND_API_KEY";

pub async fn run(config: &Config) -> Result<()> {
    let key = std::env::var(API_KEY_ENV)
        .ok()
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty())
        .with_context(|| {
            format!(
                "{API_KEY_ENV} must hold the API key the assistant acts with (`outbound keys create --team <team>` makes one)"
            )
        })?;
    let secrets = config.secret_box()?;
    let store = super::connect_migrated(config).await?;
    let settings = config.api_settings(outbound_api::system_now());
    let door = RestDoor::new(outbound_api::rest_door(store, secrets, settings));
    let verified = door
        .send(
            &RestRequest::get("/v1/verify".to_owned()),
            &format!("Bearer {key}"),
        )
        .await;
    if !verified.status.is_success() {
        bail!(
            "{API_KEY_ENV} was refused: {}",
            verified.body["message"]
                .as_str()
                .unwrap_or("invalid API key")
        );
    }
    tracing::info!(
        database = %config.redacted_database_url(),
        "MCP server on stdio"
    );
    outbound_mcp::serve_stdio(door, &key)
        .await
        .context("the MCP session over stdio failed")
}
