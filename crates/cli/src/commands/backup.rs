//! `outbound backup FILE` and `outbound restore FILE`: a consistent copy of a live SQLite
//! database, and putting one back.
//!
//! Rules:
//! - a backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is the database as
//!   of one instant even while `serve` writes (writers are not blocked under WAL), compacted,
//!   written to a new file (an existing one is refused). The files that belong to the database
//!   go beside the copy under the same suffixes: the master key file (`FILE.key`, without
//!   which stored LinkedIn passwords cannot be decrypted) and the sandbox's send ledger
//!   (`FILE.sandbox`), when they exist;
//! - a restore checks the copy (`PRAGMA integrity_check`), refuses to replace an existing
//!   database unless `--force`, and puts the copy and its files in place by writing each to a
//!   temporary name and renaming it, so an interrupted restore leaves the old database whole.
//!   The server must be stopped while it runs; the next start migrates the copy if it is older;
//! - PostgreSQL is backed up with its own tools (`pg_dump`, see the README).

use anyhow::{Context, Result, bail, ensure};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::{Config, KEY_FILE_SUFFIX, SANDBOX_LEDGER_SUFFIX, beside, sqlite_file_path};

/// The database file of the configuration, or why there is none to copy.
fn database_file(config: &Config) -> Result<PathBuf> {
    if outbound_store::is_postgres_url(&config.database_url) {
        bail!(
            "backup and restore copy a SQLite database; back PostgreSQL up with pg_dump (README: Backups)"
        );
    }
    sqlite_file_path(&config.database_url).context("an in-memory database has nothing to back up")
}

/// The files that belong to a database beside it (key, sandbox ledger), by suffix.
const COMPANION_SUFFIXES: [&str; 2] = [KEY_FILE_SUFFIX, SANDBOX_LEDGER_SUFFIX];

pub async fn backup(config: &Config, target: &Path) -> Result<()> {
    let database = database_file(config)?;
    ensure!(database.exists(), "no database at {}", database.display());
    ensure!(
        !target.exists(),
        "{} exists: back up to a new file",
        target.display()
    );
    let started = Instant::now();
    outbound_store::sqlite::backup_into(&config.database_url, target)
        .await
        .with_context(|| {
            format!(
                "cannot back {} up to {}",
                database.display(),
                target.display()
            )
        })?;
    let mut copied = Vec::new();
    for suffix in COMPANION_SUFFIXES {
        let source = beside(&database, suffix);
        if source.exists() {
            let copy = beside(target, suffix);
            std::fs::copy(&source, &copy).with_context(|| {
                format!("cannot copy {} to {}", source.display(), copy.display())
            })?;
            copied.push(copy.display().to_string());
        }
    }
    let size = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "Backed up {} to {} ({:.1} MiB) in {:.1} s{}",
        database.display(),
        target.display(),
        size as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64(),
        if copied.is_empty() {
            String::new()
        } else {
            format!("; with {}", copied.join(", "))
        }
    );
    println!("{}", target.display());
    Ok(())
}

/// Copies `source` to `target` through a temporary file renamed into place.
fn put_in_place(source: &Path, target: &Path) -> Result<()> {
    let temporary = beside(target, ".restoring");
    std::fs::copy(source, &temporary).with_context(|| {
        format!(
            "cannot copy {} to {}",
            source.display(),
            temporary.display()
        )
    })?;
    std::fs::rename(&temporary, target)
        .with_context(|| format!("cannot move {} into place", temporary.display()))?;
    Ok(())
}

pub async fn restore(config: &Config, source: &Path, force: bool) -> Result<()> {
    let database = database_file(config)?;
    ensure!(source.is_file(), "no backup at {}", source.display());
    ensure!(
        force || !database.exists(),
        "{} exists: stop the server and add --force to replace it",
        database.display()
    );
    let verdict = outbound_store::sqlite::integrity_of(source)
        .await
        .with_context(|| format!("{} is not a SQLite database", source.display()))?;
    ensure!(
        verdict == "ok",
        "{} is damaged: {verdict}",
        source.display()
    );
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    put_in_place(source, &database)?;
    // The old database's write-ahead log would be replayed onto the copy.
    for suffix in ["-wal", "-shm"] {
        std::fs::remove_file(beside(&database, suffix)).ok();
    }
    for suffix in COMPANION_SUFFIXES {
        let companion = beside(source, suffix);
        if companion.exists() {
            put_in_place(&companion, &beside(&database, suffix))?;
        }
    }
    let store = super::connect_migrated(config).await?;
    let teams = store.list_teams().await?.len();
    eprintln!(
        "Restored {} from {} ({teams} teams); start the server again.",
        database.display(),
        source.display()
    );
    Ok(())
}
