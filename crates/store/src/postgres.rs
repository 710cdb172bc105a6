//! The PostgreSQL backend, for several Outbound processes sharing one database.
//!
//! Transactions run at READ COMMITTED; a quota check locks the team's row first so that two
//! concurrent creates cannot both pass it.

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};
use std::time::Duration;

use crate::{Store, StoreResult};

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 16;
/// How long to wait for a free connection (or to open one): short enough that a request
/// answers within 5 s, with a 503 the client retries, while the server is away.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// The engine claims tasks by marking them `running` under `FOR UPDATE SKIP LOCKED`, so
    /// that several workers share the queue (see `engine`'s module doc).
    pub(crate) const CLAIM_ROWS: bool = false;

    /// The engine reads its agents and conversations as plain rows (see `sqlite`).
    pub(crate) const JSON_ROWS: bool = false;

    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Where the outreach engine reads: the pool.
    pub(crate) fn engine_pool(&self) -> &PgPool {
        &self.pool
    }

    /// An idle connection if there is one now, for writes that may be skipped rather than
    /// waited for (recording a key's or a session's last use).
    pub(crate) fn try_writer(&self) -> Option<sqlx::pool::PoolConnection<Postgres>> {
        self.pool.try_acquire()
    }

    /// Locks the team's row until the transaction ends.
    pub(crate) async fn lock_team(
        tx: &mut Transaction<'static, Postgres>,
        team: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT id FROM teams WHERE id = $1 FOR UPDATE")
            .bind(team)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Serialises first-start bootstraps of several processes.
    pub(crate) async fn lock_bootstrap(
        tx: &mut Transaction<'static, Postgres>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("LOCK TABLE teams IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres")
            .run(&self.pool)
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
            &sqlx::migrate!("migrations/postgres"),
            &applied,
        ))
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
