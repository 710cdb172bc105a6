//! Persistence for Outbound: the [`Store`] trait in domain terms, implemented once for SQLite and
//! once for PostgreSQL.
//!
//! Rules of this crate:
//! - every method that reads or writes a tenant's data takes the team id first, and every query
//!   filters on it, so no caller can reach another team's rows;
//! - every write is one transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the team row is
//!   locked when a quota is checked), so a refused request writes nothing;
//! - each resource module holds its trait, its row types and its SQL, and implements the trait
//!   for both backends from one body (`impl_*_store!` macros), with backend differences in
//!   [`sqlite`] and [`postgres`].

mod access;
pub mod activity;
pub mod agents;
pub mod analytics;
pub mod campaigns;
pub mod chats;
pub mod dnc;
pub mod drafts;
pub mod engine;
mod error;
pub mod imports;
pub mod inbox;
pub mod ingress;
pub mod postgres;
pub mod products;
pub mod prompts;
pub mod sales_navigator;
pub mod search;
pub mod sessions;
pub mod sqlite;
pub mod teams;
pub mod webhooks;
pub mod workspaces;

use std::sync::Arc;

pub use error::{StoreError, StoreResult};

/// Everything the API and the engine need from a database.
#[async_trait::async_trait]
pub trait Store:
    teams::TeamStore
    + products::ProductStore
    + prompts::PromptStore
    + agents::AgentStore
    + dnc::DncStore
    + webhooks::WebhookStore
    + campaigns::CampaignStore
    + imports::ImportStore
    + chats::ChatStore
    + inbox::InboxStore
    + sessions::SessionStore
    + analytics::AnalyticsStore
    + activity::ActivityStore
    + search::SearchStore
    + workspaces::WorkspaceStore
    + engine::EngineStore
    + drafts::DraftStore
    + sales_navigator::SalesNavigatorStore
    + ingress::IngressStore
    + Send
    + Sync
{
    /// Applies the pending migrations of this backend.
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// How many of this build's migrations the database has not applied (0: current).
    async fn pending_migrations(&self) -> StoreResult<usize>;
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}

/// The sqlx database type behind a backend, for code shared by both implementations.
pub(crate) trait Backend {
    type Db: sqlx::Database;
}

impl Backend for sqlite::SqliteStore {
    type Db = sqlx::Sqlite;
}

impl Backend for postgres::PgStore {
    type Db = sqlx::Postgres;
}

/// How many of `migrator`'s migrations are not among the `applied` versions.
fn pending_of(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> usize {
    migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .filter(|m| !applied.contains(&m.version))
        .count()
}

/// The versions recorded as applied; none when the database was never migrated.
const APPLIED_MIGRATIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";

/// Opens the database named by `url`: `postgres://` or `postgresql://` selects PostgreSQL,
/// anything else SQLite (created if missing).
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if is_postgres_url(url) {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
