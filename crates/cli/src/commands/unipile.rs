//! `outbound unipile register-webhooks`: tells Unipile to call this server when a prospect
//! writes, accepts an invitation, or an account loses its session.
//!
//! Rule: one webhook per source (`messaging`, `users`, `account_status`), all pointing at
//! `<public URL>/integrations/unipile/webhook` and carrying `unipile_webhook_secret` in the
//! header the route checks; the command registers, it does not look for earlier
//! registrations, so run it once per deployment (Unipile's dashboard lists and deletes them).
//! Each registered webhook prints `<source>\t<webhook id>` on stdout.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use outbound_linkedin::unipile::WebhookSource;
use std::io::Write;

use crate::config::Config;

/// The path of the ingress route, after the public base URL.
const INGRESS_PATH: &str = "/integrations/unipile/webhook";

#[derive(Debug, Subcommand)]
pub enum UnipileCommand {
    /// Register this server's webhook with Unipile for messages, new relations and account
    /// status
    ///
    /// Needs unipile_dsn, unipile_api_key and unipile_webhook_secret, and the public base URL
    /// Unipile can reach (`--url`, else public_url). Prints `<source>\t<webhook id>` per line.
    RegisterWebhooks(RegisterArgs),
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The public base URL of this server, e.g. https://outbound.example.com [default:
    /// public_url]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

pub async fn run(config: &Config, command: UnipileCommand) -> Result<()> {
    match command {
        UnipileCommand::RegisterWebhooks(args) => register_webhooks(config, args).await,
    }
}

async fn register_webhooks(config: &Config, args: RegisterArgs) -> Result<()> {
    let Some(secret) = &config.unipile_webhook_secret else {
        bail!("set unipile_webhook_secret first: the route refuses calls without it");
    };
    let Some(base) = args.url.as_deref().or(config.public_url.as_deref()) else {
        bail!("give the public URL Unipile can reach: --url, or public_url in the configuration");
    };
    let request_url = ingress_url(base)?;
    let unipile = config.unipile()?;
    let mut stdout = std::io::stdout().lock();
    for source in WebhookSource::ALL {
        let id = unipile
            .register_webhook(&request_url, source, secret.expose())
            .await
            .with_context(|| format!("Unipile refused the {} webhook", source.source()))?;
        tracing::info!(source = source.source(), %id, %request_url, "Unipile webhook registered");
        writeln!(stdout, "{}\t{id}", source.source())?;
    }
    Ok(())
}

/// `<base>/integrations/unipile/webhook`, for an http(s) base URL.
fn ingress_url(base: &str) -> Result<String> {
    let base = base.trim().trim_end_matches('/');
    let parsed = url::Url::parse(base).with_context(|| format!("not a URL: {base}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("the public URL must be http(s)://host[:port][/prefix], got {base}");
    }
    Ok(format!("{base}{INGRESS_PATH}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ingress_url_follows_the_public_url() {
        assert_eq!(
            ingress_url("https://outbound.example.com/").expect("url"),
            "https://outbound.example.com/integrations/unipile/webhook"
        );
        assert_eq!(
            ingress_url("http://10.0.0.5:8080/sdr").expect("url"),
            "http://10.0.0.5:8080/sdr/integrations/unipile/webhook"
        );
        assert!(ingress_url("outbound.example.com").is_err());
        assert!(ingress_url("ftp://outbound.example.com").is_err());
    }
}
