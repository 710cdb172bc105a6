//! `outbound migrate`: applies the pending database migrations and reports on stderr.
//!
//! Rule: migrations are idempotent, so running this on an up-to-date database is harmless;
//! `serve`, `teams` and `keys` run them too, so this command is only needed to migrate ahead
//! of a deployment.

use anyhow::Result;

use crate::config::Config;

pub async fn run(config: &Config) -> Result<()> {
    let store = super::connect_migrated(config).await?;
    tracing::info!(
        backend = store.backend(),
        database = %config.redacted_database_url(),
        "database migrated"
    );
    eprintln!(
        "Database {} ({}) is up to date.",
        config.redacted_database_url(),
        store.backend()
    );
    Ok(())
}
