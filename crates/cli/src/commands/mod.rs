//! The subcommands of `outbound`.
//!
//! Rule: a command prints only its result on stdout — one value per line, tab-separated when a
//! line has several fields — so that scripts can capture it; everything meant for a person
//! (progress, hints, errors) goes to stderr.

pub mod backup;
pub mod demo;
pub mod keys;
pub mod mcp;
pub mod migrate;
pub mod serve;
pub mod simulate;
pub mod teams;
pub mod unipile;
pub mod welcome;
pub mod worker;

use anyhow::{Context, Result};
use outbound_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;

/// Connects to the configured database.
pub async fn connect(config: &Config) -> Result<Arc<dyn Store>> {
    outbound_store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config.redacted_database_url()
            )
        })
}

/// Connects to the configured database and applies pending migrations (idempotent), so that
/// a command works on a fresh database.
pub async fn connect_migrated(config: &Config) -> Result<Arc<dyn Store>> {
    let store = connect(config).await?;
    store
        .migrate()
        .await
        .context("cannot apply the database migrations")?;
    Ok(store)
}

/// Writes `lines` to stdout, one per line, and flushes.
pub fn print_lines<I, S>(lines: I) -> Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{}", line.as_ref()).context("cannot write to stdout")?;
    }
    out.flush().context("cannot write to stdout")
}

/// One field of a tab-separated line: tabs, newlines and other control characters become
/// spaces so that a name cannot break the line apart.
pub fn field(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A name given on the command line: trimmed, not empty, without control characters.
pub fn checked_name(what: &str, name: &str) -> Result<String> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "the {what} name must not be empty");
    anyhow::ensure!(
        !name.chars().any(char::is_control),
        "the {what} name must not contain control characters such as tabs or newlines"
    );
    Ok(name.to_owned())
}

/// A directory of its own under the system's temporary directory, removed with everything in
/// it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory named `<prefix>-<unique id>`.
    pub fn new(prefix: &str) -> Result<TempDir> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", outbound_core::ids::new_id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the directory {}", path.display()))?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
