//! The test harness of the engine: a fresh database per test (a SQLite file, or a PostgreSQL
//! database when `OUTBOUND_TEST_POSTGRES_URL` is set), and a real HTTP receiver on
//! `127.0.0.1:0` whose answer can be switched while a test runs.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use outbound_core::plan::Plan;
use outbound_core::secrets::SecretBox;
use outbound_engine::{Dispatcher, WebhookConfig};
use outbound_store::Store;
use outbound_store::webhooks::{Delivery, NewWebhook, Webhook};
use outbound_testkit::TestDatabase;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often [`drive_until`] runs the dispatcher.
pub const POLL: Duration = Duration::from_millis(50);
/// How many times [`drive_until`] tries before giving up (10 s in all, plus the work).
pub const MAX_POLLS: usize = 200;
/// A short retry step, for tests.
pub const STEP: Duration = Duration::from_millis(50);

pub use outbound_testkit::Backend;

/// Runs the test body once per backend: `both_backends!(async fn name(db) { ... });`
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        $(#[$meta])*
        async fn $name($db: $crate::common::TestDb) $body

        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(
                    $crate::common::TestDb::new($crate::common::Backend::Sqlite)
                        .await
                        .expect("a SQLite database"),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) =
                    $crate::common::TestDb::new($crate::common::Backend::Postgres).await
                {
                    super::$name(db).await;
                }
            }
        }
    };
}

/// A fresh database, removed when dropped.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pub secrets: Arc<SecretBox>,
    _database: TestDatabase,
}

impl TestDb {
    /// A fresh database on `backend`; `None` for PostgreSQL when no server is configured.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let database = TestDatabase::new(backend, "outbound_engine")?;
        let secrets =
            SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).expect("a secret key");
        Some(TestDb {
            url: database.url.clone(),
            backend,
            secrets: Arc::new(secrets),
            _database: database,
        })
    }

    /// A new connection to the database, migrated: a "process" of its own.
    pub async fn connect(&self) -> Arc<dyn Store> {
        let store = outbound_store::connect(&self.url)
            .await
            .expect("connect store");
        store.migrate().await.expect("migrate");
        store
    }
}

/// A fast configuration for tests: retries after 50 ms (twice), no jitter, private targets
/// allowed (the receiver is on 127.0.0.1).
pub fn fast_config() -> WebhookConfig {
    WebhookConfig {
        retry: outbound_core::webhooks::RetryPolicy {
            schedule: vec![Duration::ZERO, STEP, STEP],
            jitter: 0.0,
        },
        allow_private: true,
        poll_interval: Duration::from_millis(20),
        ..WebhookConfig::default().with_timeout(Duration::from_secs(5))
    }
}

/// A store, its master key and one team.
pub struct Harness {
    pub store: Arc<dyn Store>,
    pub secrets: Arc<SecretBox>,
    pub team: String,
}

impl Harness {
    pub async fn new(db: &TestDb) -> Harness {
        let store = db.connect().await;
        let team = new_team(store.as_ref()).await;
        Harness {
            store,
            secrets: Arc::clone(&db.secrets),
            team,
        }
    }

    pub fn dispatcher(&self, config: WebhookConfig) -> Dispatcher {
        Dispatcher::new(Arc::clone(&self.store), Arc::clone(&self.secrets), config)
            .expect("a dispatcher")
    }

    /// A webhook of `team` to `url`, with `secret` (sealed as the API does) and `events`.
    pub async fn webhook_of(
        &self,
        team: &str,
        url: &str,
        secret: Option<&str>,
        events: &[&str],
    ) -> Webhook {
        self.store
            .create_webhook(
                team,
                NewWebhook {
                    name: format!("hook {url}"),
                    url: url.to_owned(),
                    secret_sealed: secret.map(|s| self.secrets.seal(s)),
                    events: events.iter().map(|e| (*e).to_owned()).collect(),
                },
            )
            .await
            .expect("create webhook")
    }

    /// A webhook of the harness's team.
    pub async fn webhook(&self, url: &str, secret: Option<&str>, events: &[&str]) -> Webhook {
        self.webhook_of(&self.team, url, secret, events).await
    }

    pub async fn event(&self, event_type: &str, data: serde_json::Value) -> String {
        self.store
            .record_event(&self.team, event_type, &data)
            .await
            .expect("record event")
    }

    pub async fn reload(&self, webhook: &Webhook) -> Webhook {
        self.store
            .get_webhook(&webhook.team_id, &webhook.id)
            .await
            .expect("get webhook")
    }

    /// The deliveries of `webhook`, newest first.
    pub async fn deliveries(&self, webhook: &Webhook) -> Vec<Delivery> {
        self.store
            .list_deliveries(&webhook.team_id, &webhook.id, 100, 0)
            .await
            .expect("list deliveries")
    }

    /// The only delivery of `webhook`.
    pub async fn delivery(&self, webhook: &Webhook) -> Delivery {
        let mut all = self.deliveries(webhook).await;
        assert_eq!(all.len(), 1, "expected one delivery: {all:?}");
        all.remove(0)
    }
}

pub async fn new_team(store: &dyn Store) -> String {
    store
        .create_team(
            &format!("team {}", outbound_core::ids::new_id()),
            Plan::Unlimited,
        )
        .await
        .expect("create team")
        .id
}

/// Runs the dispatcher every [`POLL`] until `done` holds; panics after [`MAX_POLLS`] tries.
pub async fn drive_until(dispatcher: &Dispatcher, what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..MAX_POLLS {
        dispatcher.run_once().await.expect("run_once");
        if done().await {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("timed out waiting for {what}");
}

/// Runs the dispatcher `times` times, [`POLL`] apart (to show that nothing more happens).
pub async fn drive(dispatcher: &Dispatcher, times: usize) {
    for _ in 0..times {
        dispatcher.run_once().await.expect("run_once");
        tokio::time::sleep(POLL).await;
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 OK.
    Ok,
    /// 500 Internal Server Error.
    Error,
    /// 410 Gone.
    Gone,
    /// 429 Too Many Requests with `Retry-After: <seconds>`.
    TooMany(u64),
    /// 302 Found to `/elsewhere`.
    Redirect,
    /// 200 with a 10 MiB body.
    Huge,
    /// 200 after this many milliseconds.
    Slow(u64),
}

/// The size of [`Answer::Huge`]'s body.
pub const HUGE_BODY: usize = 10 * 1024 * 1024;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }
}

struct Shared {
    answer: Mutex<Answer>,
    hits: Mutex<Vec<Hit>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A real HTTP server on 127.0.0.1 that records what it gets.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    running: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl Receiver {
    pub async fn start(answer: Answer) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = Receiver {
            addr: listener.local_addr().expect("local addr"),
            shared: Arc::new(Shared {
                answer: Mutex::new(answer),
                hits: Mutex::new(Vec::new()),
            }),
            running: Mutex::new(None),
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .fallback(record)
            .with_state(Arc::clone(&self.shared));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        *lock(&self.running) = Some((stop_tx, task));
    }

    /// Stops listening and closes every connection: the receiver is "down".
    pub async fn down(&self) {
        let running = lock(&self.running).take();
        if let Some((stop, task)) = running {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same address.
    pub async fn up(&self) {
        let listener = TcpListener::bind(self.addr).await.expect("bind again");
        self.serve(listener);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn answer(&self, answer: Answer) {
        *lock(&self.shared.answer) = answer;
    }

    pub fn hits(&self) -> Vec<Hit> {
        lock(&self.shared.hits).clone()
    }

    pub fn hits_on(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lock(&shared.hits).push(Hit {
        path: uri.path().to_owned(),
        headers,
        body,
        at: Instant::now(),
    });
    let answer = *lock(&shared.answer);
    match answer {
        Answer::Ok => (StatusCode::OK, "ok").into_response(),
        Answer::Error => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Answer::Gone => (StatusCode::GONE, "gone").into_response(),
        Answer::TooMany(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            "slow down",
        )
            .into_response(),
        Answer::Redirect => (
            StatusCode::FOUND,
            [(header::LOCATION, "/elsewhere")],
            "moved",
        )
            .into_response(),
        Answer::Huge => (StatusCode::OK, Body::from(vec![b'x'; HUGE_BODY])).into_response(),
        Answer::Slow(millis) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            (StatusCode::OK, "late").into_response()
        }
    }
}
