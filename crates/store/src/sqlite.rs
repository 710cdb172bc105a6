//! The SQLite backend: one file, WAL mode, a busy timeout, and `BEGIN IMMEDIATE` for every
//! write transaction so that writers queue instead of failing on lock upgrades.
//!
//! Rules:
//! - every write, one statement or many ([`SqliteStore::begin_write`]), runs on ONE writer
//!   connection, so writers of this process queue on it instead of on SQLite's lock, and its
//!   page cache stays valid (SQLite empties a connection's cache whenever another connection of
//!   the file committed since its last transaction); the outreach engine also reads there
//!   ([`SqliteStore::engine_pool`]), since it reads what it has just written;
//! - reads of the API run in parallel on the other connections (WAL);
//! - durability is SQLite's `synchronous = NORMAL` in WAL mode for every caller; the pragmas
//!   below only size caches (`cache_size`, in-memory temporary tables) and checkpoint less
//!   often (`wal_autocheckpoint`); they never trade durability for speed. No memory map: it
//!   made no measurable difference and its touched pages count in the RSS (a 30-day
//!   simulation peaked at 1.3 GB with a 256 MiB map).

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

use crate::{Store, StoreResult};

/// How long a connection waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a writer waits for the writer connection (another process may hold SQLite's lock
/// meanwhile: the busy timeout applies on top).
const WRITER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Reading connections in the pool (readers run in parallel under WAL).
const MAX_CONNECTIONS: u32 = 8;
/// Page cache of the writer connection, in KiB (SQLite's negative `cache_size`): 32 MiB, it
/// holds what the engine writes and reads back.
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// Page cache of each reading connection, in KiB: 8 MiB.
const READER_CACHE_KIB: i64 = 8 * 1024;
/// WAL pages after which a commit copies the WAL back into the database file (SQLite's
/// default is 1,000 pages, 4 MiB): a page rewritten by many transactions is copied (and
/// synced) once per checkpoint, so fewer checkpoints write less. The WAL file grows to about
/// this size (64 MiB) before it is reused.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// A store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// The one connection that writes (and where the engine reads).
    writer: SqlitePool,
}

impl SqliteStore {
    /// The engine claims a batch of tasks with one `task_claims` row instead of rewriting each
    /// task `running` (see `engine`'s module doc): one writer needs no row locks, and each
    /// task row is written once per run instead of twice.
    pub(crate) const CLAIM_ROWS: bool = true;

    /// The engine reads its agents and conversations as ONE row holding a JSON array
    /// (`json_group_array`): every row `sqlx-sqlite` returns is a hop between its worker
    /// thread and the caller, and these queries return tens of wide rows per batch.
    pub(crate) const JSON_ROWS: bool = true;

    /// Opens (creating if missing) the database at `url` (`sqlite://path` or a plain path).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITER_ACQUIRE_TIMEOUT)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}")),
            )
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options.pragma("cache_size", format!("-{READER_CACHE_KIB}")))
            .await?;
        Ok(Self { pool, writer })
    }

    /// A write transaction that holds the database write lock from its first statement.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Where the outreach engine reads: the writer connection, whose cache holds what the
    /// engine wrote last.
    pub(crate) fn engine_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The writer connection if it is free now, for writes that may be skipped rather than
    /// waited for (recording a key's or a session's last use).
    pub(crate) fn try_writer(&self) -> Option<sqlx::pool::PoolConnection<Sqlite>> {
        self.writer.try_acquire()
    }

    /// Serialises quota checks of one team. SQLite's write lock already does.
    pub(crate) async fn lock_team(
        _tx: &mut Transaction<'static, Sqlite>,
        _team: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Serialises first-start bootstraps. SQLite's write lock already does.
    pub(crate) async fn lock_bootstrap(
        _tx: &mut Transaction<'static, Sqlite>,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn pending_migrations(&self) -> StoreResult<usize> {
        let applied: Vec<i64> = sqlx::query_scalar(crate::APPLIED_MIGRATIONS)
            .fetch_all(&self.pool)
            .await?;
        Ok(crate::pending_of(
            &sqlx::migrate!("migrations/sqlite"),
            &applied,
        ))
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// Writes a consistent copy of the SQLite database at `url` to the new file `target`:
/// `VACUUM INTO`, one read transaction (under WAL, writers go on meanwhile), compacted.
pub async fn backup_into(url: &str, target: &std::path::Path) -> StoreResult<()> {
    use sqlx::Connection;
    let options = SqliteConnectOptions::from_str(url)?;
    let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(target.display().to_string())
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}

/// SQLite's `PRAGMA integrity_check` of the file at `path`, opened read-only: `ok`, or the
/// first problem found.
pub async fn integrity_of(path: &std::path::Path) -> StoreResult<String> {
    use sqlx::Connection;
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await?;
    connection.close().await?;
    Ok(verdict)
}
