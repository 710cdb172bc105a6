//! `outbound keys`: create, list and revoke a team's API keys.
//!
//! Rule: a key is shown once, when it is created, and stored only as its SHA-256; each command
//! prints only its value on stdout and runs the migrations first; an unknown team or key is an
//! error with a non-zero exit code.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::time::iso8601;
use outbound_store::{Store, StoreError};

use super::{checked_name, connect_migrated, field, print_lines};
use crate::config::Config;

/// The name of a key created without `--name`.
const DEFAULT_KEY_NAME: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key for a team and print it
    ///
    /// Prints only the new 40-character key on stdout. It is shown this once: only its hash is
    /// stored. Clients send it as `Authorization: Bearer <key>`.
    Create {
        /// The id of the team the key authenticates
        #[arg(long, value_name = "ID")]
        team: String,
        /// A label to tell keys apart
        #[arg(long, default_value = DEFAULT_KEY_NAME)]
        name: String,
    },
    /// List a team's API keys, one per line
    ///
    /// Prints one line per key on stdout: `id<TAB>name<TAB>created<TAB>active|revoked`, with
    /// the creation time in ISO-8601 UTC, oldest first. Keys themselves are never shown again.
    List {
        /// The id of the team
        #[arg(long, value_name = "ID")]
        team: String,
    },
    /// Revoke an API key and print its id
    ///
    /// The key stops authenticating on the next request. Revoking a revoked key is harmless.
    /// Prints the key id on stdout; fails when no key has that id.
    Revoke {
        /// The id of the key, as shown by `outbound keys list`
        #[arg(long, value_name = "ID")]
        key_id: String,
    },
}

pub async fn run(config: &Config, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Create { team, name } => {
            let name = checked_name("key", &name)?;
            let store = connect_migrated(config).await?;
            let key = generate_api_key();
            let info = store
                .create_api_key(&team, &name, &hash_api_key(&key))
                .await
                .map_err(|e| not_found(e, &team))?;
            eprintln!(
                "Created API key {} (`{}`) for team {}. It is shown only once: keep it safe.",
                info.id, info.name, info.team_id
            );
            print_lines([key])
        }
        KeysCommand::List { team } => {
            let store = connect_migrated(config).await?;
            ensure_team(store.as_ref(), &team).await?;
            let keys = store.list_api_keys(&team).await?;
            if keys.is_empty() {
                eprintln!("Team {team} has no API keys.");
            }
            print_lines(keys.iter().map(|key| {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                format!(
                    "{}\t{}\t{}\t{state}",
                    key.id,
                    field(&key.name),
                    iso8601(key.created_at)
                )
            }))
        }
        KeysCommand::Revoke { key_id } => {
            let store = connect_migrated(config).await?;
            let info = store.revoke_api_key(&key_id).await.map_err(|e| match e {
                StoreError::NotFound => anyhow!("no API key with id `{key_id}`"),
                other => other.into(),
            })?;
            eprintln!(
                "Revoked API key {} (`{}`) of team {}.",
                info.id, info.name, info.team_id
            );
            print_lines([info.id])
        }
    }
}

async fn ensure_team(store: &dyn Store, team: &str) -> Result<()> {
    store
        .get_team(team)
        .await
        .map(drop)
        .map_err(|e| not_found(e, team))
}

fn not_found(error: StoreError, team: &str) -> anyhow::Error {
    match error {
        StoreError::NotFound => anyhow!("no team with id `{team}`"),
        other => other.into(),
    }
}
