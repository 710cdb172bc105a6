//! Test support shared by the test suites of the workspace (a dev-dependency only).
//!
//! Rule: every test gets a database of its own — a SQLite file in a scratch directory, or a
//! PostgreSQL database created on the server named by [`POSTGRES_ENV`] — and nothing of it is
//! left when the test ends (the directory is removed, the database dropped with its
//! connections). Without [`POSTGRES_ENV`], the PostgreSQL half of a test is skipped with a note
//! (`.ci/run` always sets it and fails when the server is unreachable).

use sqlx::Connection;
use std::path::PathBuf;

/// The environment variable that names an admin URL of a PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "OUTBOUND_TEST_POSTGRES_URL";
/// The SQLite file's name inside the scratch directory.
const SQLITE_FILE: &str = "outbound.db";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database and a scratch directory, both removed when dropped.
pub struct TestDatabase {
    /// The database URL (`sqlite://…` or `postgres://…`).
    pub url: String,
    pub backend: Backend,
    /// A directory of the test's own (holds the SQLite file).
    pub dir: PathBuf,
    postgres: Option<PostgresDatabase>,
}

impl TestDatabase {
    /// A fresh database on `backend`, its names starting with `prefix`; `None` for PostgreSQL
    /// when [`POSTGRES_ENV`] is not set. Usable from sync and async tests alike.
    pub fn new(backend: Backend, prefix: &str) -> Option<TestDatabase> {
        let name = format!("{prefix}_{}", outbound_core::ids::new_id());
        let dir = std::env::temp_dir().join(&name);
        let (url, postgres) = match backend {
            Backend::Sqlite => {
                let file = dir.join(SQLITE_FILE);
                (format!("sqlite://{}", file.display()), None)
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
                    eprintln!("{POSTGRES_ENV} is not set: skipping the PostgreSQL run");
                    return None;
                };
                let database = PostgresDatabase::create(&admin_url, &name);
                (database.url.clone(), Some(database))
            }
        };
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Some(TestDatabase {
            url,
            backend,
            dir,
            postgres,
        })
    }

    /// The SQLite file, for a SQLite database.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self.dir.join(SQLITE_FILE))
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL database created for one test and dropped after it.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    fn create(admin_url: &str, name: &str) -> PostgresDatabase {
        admin_sql(admin_url, format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
        let (location, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
        let (server, _) = location
            .rsplit_once('/')
            .expect("the PostgreSQL URL names a database");
        let url = if query.is_empty() {
            format!("{server}/{name}")
        } else {
            format!("{server}/{name}?{query}")
        };
        PostgresDatabase {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Best effort: a leftover test database must not turn a passing test into a panic.
        let _ = admin_sql(
            &self.admin_url,
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs one statement on the server's admin database, on a thread and runtime of its own (so
/// that it works inside and outside an async test, and in `Drop`).
fn admin_sql(admin_url: &str, sql: String) -> Result<(), String> {
    let admin_url = admin_url.to_owned();
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .map_err(|e| format!("cannot connect to the PostgreSQL test server: {e}"))?;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    });
    worker
        .join()
        .map_err(|_| "the admin statement panicked".to_owned())?
}
