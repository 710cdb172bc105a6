//! Webhook fan-out benchmark: writes N events to the outbox of a fresh database, lets the real
//! dispatcher deliver them to a local receiver (an axum server on 127.0.0.1), and reports
//! deliveries per second and the lag from event to delivery.
//!
//! `cargo run --release -p outbound-bench --bin webhooks -- [--events N] [--webhooks W]
//! [--database-url URL]` (default: 10,000 events, 1 webhook, a temporary SQLite file). Nothing
//! leaves this machine: the receiver listens on loopback and private addresses are allowed for
//! this run only.

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use outbound_core::plan::Plan;
use outbound_core::secrets::SecretBox;
use outbound_core::time::now_millis;
use outbound_engine::{Dispatcher, WebhookConfig};
use outbound_store::webhooks::NewWebhook;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events written when `--events` is not given.
const DEFAULT_EVENTS: usize = 10_000;
/// Events written per outbox call batch before the dispatcher starts (all are written first).
const PROGRESS_EVERY: usize = 2_000;
/// Longest wait for every delivery to arrive.
const DEADLINE: Duration = Duration::from_secs(600);

struct Options {
    events: usize,
    webhooks: usize,
    database_url: Option<String>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        events: DEFAULT_EVENTS,
        webhooks: 1,
        database_url: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--events" => options.events = value.parse().context("--events")?,
            "--webhooks" => options.webhooks = value.parse().context("--webhooks")?,
            "--database-url" => options.database_url = Some(value),
            other => {
                bail!("unknown option {other} (expected --events, --webhooks, --database-url)")
            }
        }
    }
    if options.events == 0 || options.webhooks == 0 {
        bail!("--events and --webhooks must be at least 1");
    }
    Ok(options)
}

/// What the receiver saw: the lag of each delivery, in milliseconds.
#[derive(Default)]
struct Received {
    lags_ms: Vec<i64>,
}

async fn receive(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> &'static str {
    let arrived = now_millis();
    let recorded = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["recordedAt"].as_i64());
    if let (Some(recorded), Ok(mut received)) = (recorded, received.lock()) {
        received.lags_ms.push(arrived - recorded);
    }
    "ok"
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a small vector"
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options()?;
    let dir = std::env::temp_dir().join(format!(
        "outbound-webhook-bench-{}",
        outbound_core::ids::new_id()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let store = outbound_store::connect(&url).await?;
    store.migrate().await?;
    let team = store.create_team("webhook bench", Plan::Unlimited).await?;

    let received = Arc::new(Mutex::new(Received::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let target = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&received));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let secrets = Arc::new(SecretBox::from_encoded_key(
        &SecretBox::generate_encoded_key(),
    )?);
    for i in 0..options.webhooks {
        let new = NewWebhook {
            name: format!("bench {i}"),
            url: target.clone(),
            secret_sealed: Some(secrets.seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            events: vec!["*".to_owned()],
        };
        store.create_webhook(&team.id, new).await?;
    }

    eprintln!("writing {} events to the outbox ({url})", options.events);
    let started = Instant::now();
    let dispatcher = Dispatcher::new(
        Arc::clone(&store),
        Arc::clone(&secrets),
        WebhookConfig {
            allow_private: true,
            ..WebhookConfig::default()
        },
    )?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(dispatcher.run(async move {
        let _ = stopped.await;
    }));
    for i in 0..options.events {
        let data = json!({ "index": i, "recordedAt": now_millis(), "message": "benchmark" });
        store
            .record_event(&team.id, "linkedin.message.sent", &data)
            .await?;
        if (i + 1) % PROGRESS_EVERY == 0 {
            eprintln!("  {} events written", i + 1);
        }
    }
    let written = started.elapsed();
    let expected = options.events * options.webhooks;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let done = received.lock().map(|r| r.lags_ms.len()).unwrap_or(0);
        if done >= expected {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {done} of {expected} deliveries arrived within {DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let _ = running.await;

    let mut lags = received
        .lock()
        .map(|r| r.lags_ms.clone())
        .unwrap_or_default();
    lags.sort_unstable();
    let rate = expected as f64 / elapsed.as_secs_f64();
    println!("events:               {}", options.events);
    println!("webhooks:             {}", options.webhooks);
    println!("deliveries:           {expected}");
    println!("database:             {}", store.backend());
    println!(
        "outbox write time:    {:.2} s ({:.0} events/s)",
        written.as_secs_f64(),
        options.events as f64 / written.as_secs_f64()
    );
    println!("total time:           {:.2} s", elapsed.as_secs_f64());
    println!("deliveries/s:         {rate:.0}");
    println!(
        "lag event→delivery:   p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        percentile(&lags, 0.50),
        percentile(&lags, 0.95),
        percentile(&lags, 0.99),
        lags.last().copied().unwrap_or(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
