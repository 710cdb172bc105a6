//! A database outage: PostgreSQL reached through a TCP proxy that this test drops and refuses
//! connections with (the server itself is never touched). While it is away every request
//! answers within 5 s with 503 `service_unavailable` and `Retry-After`, writes nothing, and
//! once it is back the API serves again by itself.

use outbound_api::{ApiSettings, ModelCatalog, RateLimits};
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::model::default_catalogue;
use outbound_core::plan::Plan;
use outbound_core::secrets::SecretBox;
use outbound_testkit::{Backend, TestDatabase};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The longest a request may take while the database is away.
const OUTAGE_ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long the API may take to serve again once the database is back.
const RECOVERY_WITHIN: Duration = Duration::from_secs(15);

/// A TCP proxy to `target` that can drop every connection and refuse new ones.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped to end the relayed connections.
    cut: watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let (accepting, cuts) = (Arc::clone(&up), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, up, cut }
    }

    /// Drops every relayed connection and refuses new ones.
    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_is_a_503_with_retry_after_and_the_api_recovers() {
    let Some(database) = TestDatabase::new(Backend::Postgres, "outbound_outage") else {
        return;
    };
    let direct = outbound_store::connect(&database.url)
        .await
        .expect("connect");
    direct.migrate().await.expect("migrate");
    let team = direct
        .create_team("outage", Plan::Unlimited)
        .await
        .expect("team");
    let key = generate_api_key();
    direct
        .create_api_key(&team.id, "k", &hash_api_key(&key))
        .await
        .expect("key");

    let mut url = url::Url::parse(&database.url).expect("database URL");
    let target = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(target).await;
    url.set_port(Some(proxy.addr.port())).expect("port");
    url.set_host(Some("127.0.0.1")).expect("host");
    let store = outbound_store::connect(url.as_str())
        .await
        .expect("connect through the proxy");
    let settings = ApiSettings {
        rate_limits: RateLimits::off(),
        ..ApiSettings::new(ModelCatalog::new(
            default_catalogue(),
            ["openai".to_owned()],
        ))
    };
    let secrets = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).expect("key");
    let app = outbound_api::app(store, secrets, settings);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let get = || {
        client
            .get(format!("{base}/v1/products"))
            .bearer_auth(&key)
            .send()
    };
    assert_eq!(get().await.expect("get").status().as_u16(), 200);

    proxy.down();
    for attempt in 0..3 {
        let started = Instant::now();
        let response = get().await.expect("an answer while the database is away");
        let elapsed = started.elapsed();
        assert_eq!(response.status().as_u16(), 503, "attempt {attempt}");
        assert!(
            elapsed < OUTAGE_ANSWER_WITHIN,
            "attempt {attempt} took {elapsed:?}"
        );
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["error"], "service_unavailable", "{body}");
        assert_eq!(body["retryAfter"], 5, "{body}");
    }
    let write = client
        .post(format!("{base}/v1/products"))
        .bearer_auth(&key)
        .json(&json!({"name": "Written during the outage", "description": "Must not be stored"}))
        .send()
        .await
        .expect("post");
    assert_eq!(write.status().as_u16(), 503);

    proxy.restore();
    let deadline = Instant::now() + RECOVERY_WITHIN;
    loop {
        let status = get().await.expect("get").status().as_u16();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let products = direct.list_products(&team.id).await.expect("products");
    assert!(products.is_empty(), "the refused write wrote nothing");
}
