//! The test harness: a running server over a fresh database, teams with keys, and typed
//! request helpers that return status, headers and JSON body.

use outbound_api::{ApiSettings, ModelCatalog, RateLimits};
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::model::default_catalogue;
use outbound_core::plan::Plan;
use outbound_core::secrets::SecretBox;
use outbound_store::Store;
use outbound_testkit::TestDatabase;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection;
use std::sync::Arc;

pub use outbound_testkit::Backend;

/// Runs the test body once per backend: `both_backends!(async fn name(app) { ... });`
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        async fn $name($app: $crate::common::TestApp) $body

        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await)
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::spawn_postgres().await {
                    super::$name(app).await;
                }
            }
        }
    };
}

/// A team and one of its keys.
#[derive(Debug, Clone)]
pub struct TeamKey {
    pub team_id: String,
    pub key: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error` code of an error body.
    pub fn error_code(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        &self.body
    }

    /// Asserts an error status and code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.error_code(),
            code,
            "unexpected error code; body: {}",
            self.body
        );
        assert!(
            self.body["message"].is_string(),
            "error without message: {}",
            self.body
        );
    }
}

/// A running server over its own database.
pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    /// The URL of this app's database, to open a second store on it.
    pub database_url: String,
    /// The master key the app seals secrets with (agent passwords), for engine workers.
    pub secrets: Arc<SecretBox>,
    pub client: reqwest::Client,
    /// The first team (plan `unlimited`).
    pub team: TeamKey,
    _database: TestDatabase,
}

impl TestApp {
    /// A server with rate limits off.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, RateLimits::off())
            .await
            .expect("PostgreSQL tests need OUTBOUND_TEST_POSTGRES_URL")
    }

    /// A server on PostgreSQL, or `None` (with a note) when no server is configured.
    pub async fn spawn_postgres() -> Option<TestApp> {
        Self::spawn_with(Backend::Postgres, RateLimits::off()).await
    }

    /// A server with the given rate limits; `None` for PostgreSQL without a configured server.
    pub async fn spawn_with(backend: Backend, limits: RateLimits) -> Option<TestApp> {
        Self::spawn_with_settings(backend, |settings| settings.rate_limits = limits).await
    }

    /// A server with rate limits off and the settings changed by `configure`; `None` for
    /// PostgreSQL without a configured server.
    pub async fn spawn_with_settings(
        backend: Backend,
        configure: impl FnOnce(&mut ApiSettings),
    ) -> Option<TestApp> {
        let database = TestDatabase::new(backend, "outbound_api")?;
        let url = database.url.clone();
        let store = outbound_store::connect(&url).await.expect("connect store");
        store.migrate().await.expect("migrate");
        let mut settings = ApiSettings {
            rate_limits: RateLimits::off(),
            ..ApiSettings::new(ModelCatalog::new(
                default_catalogue(),
                ["openai".to_owned()],
            ))
        };
        configure(&mut settings);
        let secrets =
            SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).expect("secret key");
        let app = outbound_api::app(Arc::clone(&store), secrets.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let mut test_app = TestApp {
            base: format!("http://{addr}"),
            store,
            backend,
            database_url: url.clone(),
            secrets: Arc::new(secrets),
            client: http_client(),
            team: TeamKey {
                team_id: String::new(),
                key: String::new(),
            },
            _database: database,
        };
        test_app.team = test_app.new_team(Plan::Unlimited).await;
        Some(test_app)
    }

    /// A new team on `plan` with one key.
    pub async fn new_team(&self, plan: Plan) -> TeamKey {
        let team = self
            .store
            .create_team(&format!("team {}", outbound_core::ids::new_id()), plan)
            .await
            .expect("create team");
        TeamKey {
            key: self.new_key(&team.id).await,
            team_id: team.id,
        }
    }

    /// A new key of `team_id`.
    pub async fn new_key(&self, team_id: &str) -> String {
        let key = generate_api_key();
        self.store
            .create_api_key(team_id, "test", &hash_api_key(&key))
            .await
            .expect("create key");
        key
    }

    /// Sends a request with `key` (none when `None`) and an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send request");
        Self::read(response).await
    }

    /// Sends raw bytes as the body.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send request");
        Self::read(response).await
    }

    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> Reply {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(key), Some(body)).await
    }

    /// A POST without any body, as the n8n node sends action calls.
    pub async fn post_empty(&self, key: &str, path: &str) -> Reply {
        self.send(Method::POST, path, Some(key), None).await
    }

    pub async fn put(&self, key: &str, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(key), None).await
    }

    /// The first team's key.
    pub fn key(&self) -> &str {
        &self.team.key
    }

    /// The rows of `sql` (with `$1` = `arg`), read straight from the app's database: for what
    /// the API does not show (tasks, counts across teams).
    pub async fn rows<T>(&self, sql: &str, arg: &str) -> Vec<T>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                    .await
                    .expect("sqlite");
                sqlx::query_as(sql).bind(arg).fetch_all(&mut conn).await
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.database_url)
                    .await
                    .expect("postgres");
                sqlx::query_as(sql).bind(arg).fetch_all(&mut conn).await
            }
        }
        .expect("query")
    }

    /// The one value of `sql` (with `$1` = `arg`) on the app's database.
    pub async fn scalar<T>(&self, sql: &str, arg: &str) -> T
    where
        (T,): for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let mut rows = self.rows::<(T,)>(sql, arg).await;
        assert_eq!(rows.len(), 1, "one row expected from {sql}");
        rows.remove(0).0
    }

    /// Runs `sqlite` or `postgres` statements (each bound to `args`) on the app's database: for
    /// states the API cannot reach.
    pub async fn execute(&self, sqlite: &[&str], postgres: &[&str], args: &[&str]) {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.database_url)
                    .await
                    .expect("sqlite");
                for statement in sqlite {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(*statement));
                    for arg in args {
                        query = query.bind(*arg);
                    }
                    query.execute(&mut conn).await.expect("sql");
                }
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.database_url)
                    .await
                    .expect("postgres");
                for statement in postgres {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(*statement));
                    for arg in args {
                        query = query.bind(*arg);
                    }
                    query.execute(&mut conn).await.expect("sql");
                }
            }
        }
    }
}

/// The sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Asserts an ISO-8601 UTC timestamp ending in `Z` and returns it.
#[track_caller]
pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let text = value.as_str().expect("a timestamp string");
    assert!(text.ends_with('Z'), "not UTC `Z`: {text}");
    chrono::DateTime::parse_from_rfc3339(text).expect("an RFC 3339 timestamp")
}

/// An HTTP client for the tests. Other crates of the workspace build reqwest without a default
/// TLS provider (they install `ring`), so the tests install it too before building a client.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Asserts that the object `value` has every key of `always`, no key outside `always` and
/// `when_set`, and no `null` under a key of `when_set`: an absent optional value is omitted.
#[track_caller]
pub fn assert_keys(value: &Value, always: &[&str], when_set: &[&str]) {
    let object = value.as_object().expect("a JSON object");
    for key in always {
        assert!(object.contains_key(*key), "`{key}` missing: {value}");
    }
    for (key, inner) in object {
        let optional = when_set.contains(&key.as_str());
        assert!(
            optional || always.contains(&key.as_str()),
            "unexpected `{key}`: {value}"
        );
        assert!(
            !(optional && inner.is_null()),
            "`{key}` is null instead of omitted: {value}"
        );
    }
}
