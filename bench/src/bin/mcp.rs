//! What the MCP door costs over REST: the same work — checking the key and answering the team
//! id — asked `--requests` times (`--concurrency` at once) three ways on one server process:
//! a bare axum handler serving the same bytes (the ceiling), `GET /v1/verify`, and the MCP tool
//! `verify_api_key` through `POST /mcp` (JSON answers), which calls `/v1/verify` in-process.
//!
//! `cargo run --release -p outbound-bench --bin mcp -- [--requests N] [--concurrency C]`
//! (default 20,000 requests, 16 at a time, rate limits off, a temporary SQLite file). Nothing
//! leaves this machine: the server listens on 127.0.0.1.

// The main benchmark's percentiles; its tables are not used here.
#[path = "../report.rs"]
#[expect(
    dead_code,
    reason = "only `percentile` of the shared report module is used here"
)]
mod report;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::routing::get;
use outbound_api::{ApiSettings, ModelCatalog, RateLimits};
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::model::default_catalogue;
use outbound_core::plan::Plan;
use outbound_core::secrets::SecretBox;
use outbound_mcp::{AllowedHosts, RestDoor};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEFAULT_REQUESTS: usize = 20_000;
const DEFAULT_CONCURRENCY: usize = 16;
/// Requests of each kind sent first and not counted.
const WARM_UP: usize = 500;

struct Options {
    requests: usize,
    concurrency: usize,
}

fn options() -> Result<Options> {
    let mut options = Options {
        requests: DEFAULT_REQUESTS,
        concurrency: DEFAULT_CONCURRENCY,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--requests" => options.requests = value.parse().context("--requests")?,
            "--concurrency" => options.concurrency = value.parse().context("--concurrency")?,
            other => bail!("unknown option {other} (expected --requests, --concurrency)"),
        }
    }
    if options.requests == 0 || options.concurrency == 0 {
        bail!("--requests and --concurrency must be at least 1");
    }
    Ok(options)
}

/// One kind of request: how to send it and what a right answer contains.
#[derive(Clone, Copy)]
enum Kind {
    Bare,
    Rest,
    Mcp,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Bare => "bare axum handler, same bytes (ceiling)",
            Kind::Rest => "GET /v1/verify",
            Kind::Mcp => "MCP tools/call verify_api_key",
        }
    }
}

/// Sends one request of `kind` and checks its answer.
async fn send(http: &reqwest::Client, base: &str, key: &str, kind: Kind) -> Result<()> {
    let response = match kind {
        Kind::Bare => http.get(format!("{base}/bare")).send().await?,
        Kind::Rest => {
            http.get(format!("{base}/v1/verify"))
                .bearer_auth(key)
                .send()
                .await?
        }
        Kind::Mcp => {
            let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                               "params": { "name": "verify_api_key", "arguments": {} } });
            http.post(format!("{base}/mcp"))
                .bearer_auth(key)
                .header("accept", "application/json, text/event-stream")
                .json(&call)
                .send()
                .await?
        }
    };
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() || !text.contains("teamId") {
        bail!("{}: {status} {text}", kind.label());
    }
    Ok(())
}

/// Runs `count` requests of `kind`, `concurrency` at a time; returns the latencies and the
/// wall time.
async fn run(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    kind: Kind,
    count: usize,
    concurrency: usize,
) -> Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (http, base, key) = (http.clone(), base.to_owned(), key.to_owned());
        let share = count / concurrency + usize::from(worker < count % concurrency);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for _ in 0..share {
                let sent = Instant::now();
                send(&http, &base, &key, kind).await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for worker in workers {
        all.extend(worker.await??);
    }
    Ok((all, started.elapsed()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!("outbound-bench-mcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store =
        outbound_store::connect(&format!("sqlite://{}", dir.join("bench.db").display())).await?;
    store.migrate().await?;
    let team = store.create_team("bench", Plan::Unlimited).await?;
    let key = generate_api_key();
    store
        .create_api_key(&team.id, "bench", &hash_api_key(&key))
        .await?;

    let mount: outbound_api::McpMount = Arc::new(|door| {
        outbound_mcp::http::service(RestDoor::new(door), &AllowedHosts::These(Vec::new()))
    });
    let settings = ApiSettings {
        rate_limits: RateLimits::off(),
        mcp: Some(mount),
        ..ApiSettings::new(ModelCatalog::new(default_catalogue(), Vec::<String>::new()))
    };
    let secrets = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key())?;
    let same_bytes: Value =
        json!({ "status": "success", "message": "API key is valid", "teamId": team.id });
    let bare = Router::new().route(
        "/bare",
        get(move || {
            let body = same_bytes.to_string();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let app = outbound_api::app(store, secrets, settings).merge(bare);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    println!(
        "{} requests of each kind, {} at a time, on {} cores\n",
        options.requests,
        options.concurrency,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("| request | req/s | p50 ms | p99 ms | vs ceiling |\n|---|---:|---:|---:|---:|");
    let mut ceiling = None;
    for kind in [Kind::Bare, Kind::Rest, Kind::Mcp] {
        run(&http, &base, &key, kind, WARM_UP, options.concurrency).await?;
        let (mut latencies, wall) = run(
            &http,
            &base,
            &key,
            kind,
            options.requests,
            options.concurrency,
        )
        .await?;
        latencies.sort_unstable();
        let rate = options.requests as f64 / wall.as_secs_f64();
        let ceiling = *ceiling.get_or_insert(rate);
        println!(
            "| {} | {rate:.0} | {:.2} | {:.2} | {:.2}x |",
            kind.label(),
            report::percentile(&latencies, 50).as_secs_f64() * 1000.0,
            report::percentile(&latencies, 99).as_secs_f64() * 1000.0,
            rate / ceiling,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
