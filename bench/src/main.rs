//! `outbound-bench`: loads prospects into a fresh Outbound server on a temporary SQLite file and
//! measures what a team with that many conversations costs.
//!
//! 1. starts `outbound serve` (the release binary) with rate limits off, on a new database;
//! 2. creates a product, a prompt, an agent and `--campaigns` campaigns through the API;
//! 3. sends `--prospects` people through `POST /v1/prospects/batch`, 100 per request,
//!    `--concurrency` requests at a time, and waits for the server's import worker to turn every
//!    row into a prospect and a conversation: accepted rows/s and imported rows/s;
//! 4. walks every campaign's list with cursors (`GET /prospects/campaign/{id}`, 100 per page),
//!    timing each page, to learn the ids;
//! 5. plays enrichment (the API has no route for it): a profile for every prospect (title,
//!    company, and city and country for nine in ten) written with plain SQL in large
//!    transactions; then conversations through the store, as the engine would: agent messages,
//!    replies, verdicts and pauses at times over the last 60 days;
//! 6. times, one request at a time, searches with varied filters and texts, list pages, campaign
//!    stats and both analytics routes, and prints p50/p95/p99 per kind.
//!
//! Usage: `cargo build --release -p outbound -p outbound-bench &&
//! target/release/outbound-bench [--prospects N] [--campaigns N] [--requests N]
//! [--concurrency N] [--outbound PATH] [--database PATH]`; `OUTBOUND_BENCH_PROSPECTS` sets the
//! default of `--prospects` (1,000,000). `--database` keeps (or reuses) the database at PATH
//! instead of a temporary one; a reused database that already holds the people skips steps 2, 3
//! and 5.
//! Never run by the tests.

mod data;
mod report;

use anyhow::{Context, Result, anyhow, bail};
use outbound_core::time::now_millis;
use outbound_store::chats::{Role, Verdict, search_text};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use data::Rng;
use report::Timings;

/// People per batch request (the API's maximum).
const BATCH: usize = 100;
/// List page size (the API's maximum).
const PAGE: usize = 100;
/// How long the import may go without progress before the bench gives up.
const IMPORT_STALL: Duration = Duration::from_secs(180);
/// How often import progress is polled.
const POLL: Duration = Duration::from_secs(2);
/// Requests sent before timing a kind, to warm caches.
const WARMUP: usize = 10;
/// Activity is spread over this many days before now.
const ACTIVITY_DAYS: i64 = 60;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// How often a batch refused with 500 is sent again, and the pause before.
const MAX_BATCH_RETRIES: usize = 5;
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Where the API key of a kept database is written, next to it.
const KEY_SUFFIX: &str = ".bench-key";

#[derive(Debug, Clone)]
struct Options {
    prospects: usize,
    campaigns: usize,
    requests: usize,
    concurrency: usize,
    outbound: PathBuf,
    database: Option<PathBuf>,
}

fn parse_options() -> Result<Options> {
    let default_prospects = std::env::var("OUTBOUND_BENCH_PROSPECTS")
        .ok()
        .map(|v| v.parse::<usize>().context("OUTBOUND_BENCH_PROSPECTS"))
        .transpose()?
        .unwrap_or(1_000_000);
    let mut options = Options {
        prospects: default_prospects,
        campaigns: 5,
        requests: 200,
        concurrency: 4,
        outbound: PathBuf::from("target/release/outbound"),
        database: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--prospects" => options.prospects = value()?.parse()?,
            "--campaigns" => options.campaigns = value()?.parse()?,
            "--requests" => options.requests = value()?.parse()?,
            "--concurrency" => options.concurrency = value()?.parse()?,
            "--outbound" => options.outbound = PathBuf::from(value()?),
            "--database" => options.database = Some(PathBuf::from(value()?)),
            "--help" | "-h" => {
                println!(
                    "outbound-bench [--prospects N] [--campaigns N] [--requests N] \
                     [--concurrency N] [--outbound PATH] [--database PATH]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if options.prospects == 0 || options.campaigns == 0 || options.requests == 0 {
        bail!("--prospects, --campaigns and --requests must be positive");
    }
    options.concurrency = options.concurrency.max(1);
    Ok(options)
}

/// A running `outbound serve`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on `database` and waits until it listens. The key is the one the
    /// first start prints, or the one saved beside a reused database.
    fn start(outbound: &Path, database: &Path) -> Result<Server> {
        let mut child = Command::new(outbound)
            .arg("serve")
            .env(
                "OUTBOUND_DATABASE_URL",
                format!("sqlite://{}", database.display()),
            )
            .env("OUTBOUND_ADDR", "127.0.0.1:0")
            .env("OUTBOUND_RATE_LIMITS", "off")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", outbound.display()))?;
        let (lines, received) = mpsc::channel::<String>();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("API key: ") || line.starts_with("Listening on ") {
                        let _ = lines.send(line);
                    } else if line.contains("ERROR") || line.contains("WARN") {
                        eprintln!("server: {line}");
                    }
                }
            });
        }
        let key_file = PathBuf::from(format!("{}{KEY_SUFFIX}", database.display()));
        let mut key = std::fs::read_to_string(&key_file)
            .ok()
            .map(|k| k.trim().to_owned());
        let mut base = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while base.is_none() || key.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = received
                .recv_timeout(left)
                .context("the server did not start")?;
            if let Some(k) = line.strip_prefix("API key: ") {
                std::fs::write(&key_file, k).context("cannot save the API key")?;
                key = Some(k.to_owned());
            } else if let Some(url) = line.strip_prefix("Listening on ") {
                base = Some(url.to_owned());
            }
        }
        Ok(Server {
            child,
            base: base.unwrap_or_default(),
            key: key.unwrap_or_default(),
        })
    }
}

/// The API as one client sees it.
struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    /// GET `path`: the time to the whole body, the headers and the JSON.
    async fn get(&self, path: &str) -> Result<(Duration, HeaderMap, Value)> {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!("GET {path}: {status} {}", String::from_utf8_lossy(&body));
        }
        Ok((elapsed, headers, serde_json::from_slice(&body)?))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("POST {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn id_of(&self, path: &str, body: Value) -> Result<String> {
        let created = self.post(path, &body).await?;
        created["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("POST {path}: no id in {created}"))
    }

    async fn campaigns(&self) -> Result<Vec<Value>> {
        let (_, _, list) = self.get("/v1/campaigns").await?;
        list.as_array()
            .cloned()
            .ok_or_else(|| anyhow!("GET /v1/campaigns: not an array"))
    }

    async fn prospects_total(&self) -> Result<usize> {
        Ok(self
            .campaigns()
            .await?
            .iter()
            .map(|c| c["stats"]["prospects"].as_u64().unwrap_or(0))
            .sum::<u64>() as usize)
    }
}

/// Creates the product, prompt, agent and campaigns.
async fn create_campaigns(api: &Api, count: usize) -> Result<Vec<String>> {
    let product = api
        .id_of(
            "/v1/products",
            json!({ "name": "Ledger AI", "description": "Accounting automation for finance teams" }),
        )
        .await?;
    let prompt = api
        .id_of(
            "/v1/prompts",
            json!({ "name": "Outreach", "type": "Messages", "model": "680321aa001300a6673d" }),
        )
        .await?;
    let agent = api.id_of("/v1/agents", json!({})).await?;
    let mut campaigns = Vec::with_capacity(count);
    for n in 0..count {
        campaigns.push(
            api.id_of(
                "/v1/campaigns",
                json!({ "name": format!("Bench campaign {n}"), "productId": product,
                        "promptId": prompt, "agentId": agent }),
            )
            .await?,
        );
    }
    Ok(campaigns)
}

/// Sends every person through the batch API, then waits for the import worker.
async fn load(api: &Api, campaigns: &[String], options: &Options) -> Result<()> {
    let started = Instant::now();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut refused = 0_usize;
    let batches = options.prospects.div_ceil(BATCH);
    for b in 0..batches {
        while in_flight.len() >= options.concurrency {
            if let Some(done) = in_flight.join_next().await {
                refused += done??;
            }
        }
        let people: Vec<Value> = (b * BATCH..((b + 1) * BATCH).min(options.prospects))
            .map(|i| {
                let p = data::person(i);
                json!({ "name": p.name, "url": format!("https://www.linkedin.com/in/{}/", p.slug) })
            })
            .collect();
        let body = json!({ "campaignId": campaigns[b % campaigns.len()], "prospects": people });
        let client = api.client.clone();
        let url = format!("{}/v1/prospects/batch", api.base);
        let key = api.key.clone();
        in_flight.spawn(async move {
            let mut refusals = 0_usize;
            loop {
                let response = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await?;
                let status = response.status().as_u16();
                if status == 201 {
                    return Ok::<usize, anyhow::Error>(refusals);
                }
                let text = response.text().await?;
                // A 500 is retried (and counted): see `Refused` in the report.
                if status != 500 || refusals >= MAX_BATCH_RETRIES {
                    bail!("batch refused: {status} {text}");
                }
                refusals += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        });
        if b % 1000 == 999 {
            eprintln!("  sent {} people", (b + 1) * BATCH);
        }
    }
    while let Some(done) = in_flight.join_next().await {
        refused += done??;
    }
    let accepted = started.elapsed();
    if refused > 0 {
        println!(
            "batch API: {refused} requests were refused with 500 (SQLite busy: the import worker \
             held the write lock for the whole busy timeout) and sent again"
        );
    }
    println!(
        "batch API: {} people accepted in {:.1} s = {:.0} rows/s ({} requests of {BATCH}, {} at a time)",
        options.prospects,
        accepted.as_secs_f64(),
        options.prospects as f64 / accepted.as_secs_f64(),
        batches,
        options.concurrency,
    );
    let mut last = (0, Instant::now());
    loop {
        let done = api.prospects_total().await?;
        if done >= options.prospects {
            break;
        }
        if done > last.0 {
            eprintln!(
                "  imported {done} ({:.0} rows/s so far)",
                done as f64 / started.elapsed().as_secs_f64()
            );
            last = (done, Instant::now());
        } else if last.1.elapsed() > IMPORT_STALL {
            bail!("the import made no progress for {IMPORT_STALL:?} at {done} rows");
        }
        tokio::time::sleep(POLL).await;
    }
    let imported = started.elapsed();
    println!(
        "import: {} prospects and conversations in {:.1} s = {:.0} rows/s (end to end, through the worker)",
        options.prospects,
        imported.as_secs_f64(),
        options.prospects as f64 / imported.as_secs_f64(),
    );
    Ok(())
}

/// A conversation as the list shows it: chat id, prospect id, person number.
#[derive(Debug, Clone)]
struct Known {
    chat: String,
    prospect: String,
    person: usize,
}

/// Walks a campaign's whole list with cursors, timing every page.
async fn walk(api: &Api, campaign: &str, pages: &mut Timings) -> Result<Vec<Known>> {
    let mut known = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = if cursor.is_empty() {
            format!("/v1/prospects/campaign/{campaign}?limit={PAGE}")
        } else {
            format!("/v1/prospects/campaign/{campaign}?limit={PAGE}&cursor={cursor}")
        };
        let (elapsed, headers, body) = api.get(&path).await?;
        pages.add("list: cursor page (walk of every page)", elapsed);
        for item in body.as_array().into_iter().flatten() {
            let url = item["prospect"]["url"].as_str().unwrap_or_default();
            let person = url
                .rsplit("bench-")
                .next()
                .and_then(|n| n.trim_end_matches('/').parse().ok())
                .ok_or_else(|| anyhow!("unexpected url {url}"))?;
            known.push(Known {
                chat: item["id"].as_str().unwrap_or_default().to_owned(),
                prospect: item["prospect"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                person,
            });
        }
        let has_more = headers.get("x-has-more").and_then(|v| v.to_str().ok()) == Some("true");
        cursor = headers
            .get("x-next-cursor")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !has_more || cursor.is_empty() {
            return Ok(known);
        }
    }
}

/// Profiles written per transaction by the simulated enrichment.
const ENRICH_BATCH: usize = 1000;

/// Plays enrichment: a profile for every prospect, written with plain SQL in transactions of
/// [`ENRICH_BATCH`] (the store writes one profile per transaction, at about a millisecond each
/// with the full-text index, which would make this step alone last a quarter of an hour for a
/// million people; the triggers that keep search current fire the same either way).
async fn enrich(database: &Path, known: &[Known]) -> Result<()> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display())).await?;
    let started = Instant::now();
    let now = now_millis();
    for chunk in known.chunks(ENRICH_BATCH) {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        for k in chunk {
            let person = data::person(k.person);
            let headline = format!("{} at {}", person.title, person.company);
            let text = search_text(&person.name, Some(&headline), Some(&person.company));
            sqlx::query(
                "UPDATE prospects SET headline = $2, current_company_name = $3, \
                 current_job_title = $4, city = $5, country = $6, search_text = $7, \
                 updated_at = $8 WHERE id = $1",
            )
            .bind(&k.prospect)
            .bind(&headline)
            .bind(&person.company)
            .bind(person.title)
            .bind(person.place.as_ref().map(|(city, _)| city.as_str()))
            .bind(person.place.as_ref().map(|(_, country)| *country))
            .bind(text)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    pool.close().await;
    let elapsed = started.elapsed();
    println!(
        "simulated enrichment: {} profiles in {:.1} s = {:.0} rows/s (SQL, {ENRICH_BATCH} per transaction)",
        known.len(),
        elapsed.as_secs_f64(),
        known.len() as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

/// Plays conversations through the store, as the engine would: agent messages, replies,
/// verdicts and pauses at times over the last [`ACTIVITY_DAYS`] days.
async fn converse(database: &Path, team: &str, known: &[Known]) -> Result<()> {
    let store = outbound_store::connect(&format!("sqlite://{}", database.display())).await?;
    let started = Instant::now();
    let now = now_millis();
    let mut writes = 0_usize;
    for (n, k) in known.iter().enumerate() {
        let mut rng = Rng::new(k.person as u64 ^ 0xA5A5_5A5A);
        if rng.chance(35) {
            let at = now - 1 - i64::try_from(rng.below((ACTIVITY_DAYS * DAY_MS) as usize))?;
            store
                .append_message(team, &k.chat, Role::Assistant, "Hi!", at)
                .await?;
            writes += 1;
            if rng.chance(30) {
                let reply = (at + HOUR_MS).min(now);
                store
                    .append_message(team, &k.chat, Role::User, "Tell me more", reply)
                    .await?;
                writes += 1;
                if rng.chance(20) {
                    store
                        .judge_chat(team, &k.chat, Verdict::Qualified, reply)
                        .await?;
                    writes += 1;
                } else if rng.chance(15) {
                    store
                        .judge_chat(team, &k.chat, Verdict::Unqualified, reply)
                        .await?;
                    writes += 1;
                }
            }
        }
        if rng.chance(1) {
            store.set_chat_paused(team, &k.chat, true, now).await?;
            writes += 1;
        }
        if n % 100_000 == 99_999 {
            eprintln!("  conversations of {} people played", n + 1);
        }
    }
    let elapsed = started.elapsed();
    println!(
        "simulated conversations: {writes} store writes (messages, verdicts, pauses) in {:.1} s = {:.0} writes/s",
        elapsed.as_secs_f64(),
        writes as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

/// Times `requests` GETs of each kind (after a warm-up), one at a time.
async fn measure(
    api: &Api,
    timings: &mut Timings,
    kind: &'static str,
    paths: &[String],
) -> Result<()> {
    for path in paths.iter().cycle().take(WARMUP) {
        api.get(path).await?;
    }
    for path in paths {
        let (elapsed, _, _) = api.get(path).await?;
        timings.add(kind, elapsed);
    }
    Ok(())
}

/// The path of the `i`-th request of a kind, for a campaign.
type PathMaker<'a> = &'a dyn Fn(&str, usize) -> String;

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The searches: each kind with `n` varied requests.
fn searches(campaigns: &[String], known: &[Known], n: usize) -> Vec<(&'static str, Vec<String>)> {
    let mut rng = Rng::new(42);
    let pick = |rng: &mut Rng| data::person(known[rng.below(known.len())].person);
    let campaign = |rng: &mut Rng| campaigns[rng.below(campaigns.len())].clone();
    let mut kinds: Vec<(&'static str, Vec<String>)> = Vec::new();
    let mut add = |kind: &'static str, make: &mut dyn FnMut(&mut Rng) -> String| {
        let paths = (0..n)
            .map(|_| format!("/v1/prospects/search?{}", make(&mut rng)))
            .collect();
        kinds.push((kind, paths));
    };
    add("search: no filter (offset 0–10,000)", &mut |r| {
        format!("offset={}", [0, 50, 1000, 10_000][r.below(4)])
    });
    add("search: campaignId", &mut |r| {
        format!("campaignId={}", campaign(r))
    });
    add("search: status", &mut |r| {
        format!("status={}", [0, 3, 4, 5, 6][r.below(5)])
    });
    add("search: qualification", &mut |r| {
        format!(
            "qualification={}",
            ["pending", "qualified", "disqualified"][r.below(3)]
        )
    });
    add("search: hasResponded / isPaused", &mut |r| {
        format!(
            "{}={}",
            ["hasResponded", "isPaused"][r.below(2)],
            ["true", "false"][r.below(2)]
        )
    });
    add("search: country", &mut |r| {
        format!("country={}", encode(data::place_of_rank(r.skewed(30), 0).1))
    });
    add("search: city", &mut |r| {
        format!(
            "city={}",
            encode(&data::place_of_rank(r.skewed(30), r.skewed(20)).0)
        )
    });
    add("search: combined state filters", &mut |r| {
        [
            format!("campaignId={}&status=4&isPaused=false", campaign(r)),
            format!(
                "country={}&qualification=qualified",
                encode(data::place_of_rank(r.skewed(30), 0).1)
            ),
            format!("campaignId={}&hasResponded=true", campaign(r)),
            "qualification=pending&hasResponded=true&isPaused=false".to_owned(),
        ][r.below(4)]
        .clone()
    });
    add("search: query = surname", &mut |r| {
        format!(
            "query={}",
            encode(pick(r).name.split(' ').nth(1).unwrap_or_default())
        )
    });
    add("search: query = full name", &mut |r| {
        format!("query={}", encode(&pick(r).name))
    });
    add("search: query = company", &mut |r| {
        format!("query={}", encode(&pick(r).company))
    });
    add("search: query = surname + city", &mut |r| {
        let p = pick(r);
        let city = p.place.map(|(city, _)| city).unwrap_or_default();
        format!(
            "query={}&city={}",
            encode(p.name.split(' ').nth(1).unwrap_or_default()),
            encode(&city)
        )
    });
    add("search: query = job title (broad)", &mut |r| {
        format!(
            "query={}",
            encode(["engineer", "manager", "head of", "cfo"][r.below(4)])
        )
    });
    add("search: query of 2 letters (scan)", &mut |r| {
        format!("query={}", ["ka", "lo", "mi", "an"][r.below(4)])
    });
    kinds
}

async fn run(options: Options) -> Result<()> {
    let temp;
    let database = match &options.database {
        Some(path) => path.clone(),
        None => {
            temp = TempDir::new()?;
            temp.0.join("bench.db")
        }
    };
    let server = Server::start(&options.outbound, &database)?;
    let api = Api {
        client: reqwest::Client::new(),
        base: server.base.clone(),
        key: server.key.clone(),
    };
    let (_, _, verify) = api.get("/v1/verify").await?;
    let team = verify["teamId"]
        .as_str()
        .ok_or_else(|| anyhow!("no teamId in {verify}"))?
        .to_owned();
    println!(
        "machine: {} cores ({}); database {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model(),
        database.display()
    );

    let mut existing: Vec<String> = api
        .campaigns()
        .await?
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    let fresh = existing.is_empty();
    if fresh {
        existing = create_campaigns(&api, options.campaigns).await?;
        load(&api, &existing, &options).await?;
    } else {
        println!(
            "reusing the {} campaigns of {}",
            existing.len(),
            database.display()
        );
    }
    let campaigns = existing;

    let mut timings = Timings::default();
    let walk_started = Instant::now();
    let mut known = Vec::new();
    for campaign in &campaigns {
        known.extend(walk(&api, campaign, &mut timings).await?);
    }
    println!(
        "walked {} conversations in {:.1} s with cursors",
        known.len(),
        walk_started.elapsed().as_secs_f64()
    );
    if fresh {
        enrich(&database, &known).await?;
        converse(&database, &team, &known).await?;
    }
    if let Ok(meta) = std::fs::metadata(&database) {
        println!("database file: {:.0} MiB", meta.len() as f64 / 1_048_576.0);
    }

    println!("load average before the timed requests: {}", load_average());
    for (kind, paths) in searches(&campaigns, &known, options.requests) {
        measure(&api, &mut timings, kind, &paths).await?;
    }
    let n = options.requests;
    let list_kinds: [(&'static str, PathMaker); 4] = [
        ("list: first page", &|c, _| {
            format!("/v1/prospects/campaign/{c}")
        }),
        ("list: status / isPaused / hasResponded", &|c, i| {
            let filter = ["status=4", "isPaused=true", "hasResponded=true", "status=0"][i % 4];
            format!("/v1/prospects/campaign/{c}?limit=100&{filter}")
        }),
        ("list: offset 1,000–50,000", &|c, i| {
            format!(
                "/v1/prospects/campaign/{c}?limit=100&offset={}",
                [1000, 10_000, 50_000][i % 3]
            )
        }),
        ("campaign stats", &|c, _| format!("/v1/campaigns/{c}/stats")),
    ];
    for (kind, make) in list_kinds {
        let paths: Vec<String> = (0..n)
            .map(|i| make(&campaigns[i % campaigns.len()], i))
            .collect();
        measure(&api, &mut timings, kind, &paths).await?;
    }
    let overview: Vec<String> = (0..n)
        .map(|_| "/v1/analytics/overview".to_owned())
        .collect();
    measure(&api, &mut timings, "analytics: overview", &overview).await?;
    let per_campaign: Vec<String> = (0..n)
        .map(|i| format!("/v1/analytics/campaigns/{}", campaigns[i % campaigns.len()]))
        .collect();
    measure(&api, &mut timings, "analytics: campaign", &per_campaign).await?;
    measure(
        &api,
        &mut timings,
        "campaigns list",
        &(0..n)
            .map(|_| "/v1/campaigns".to_owned())
            .collect::<Vec<_>>(),
    )
    .await?;
    println!("load average after the timed requests: {}", load_average());
    println!();
    print!("{}", timings.table());
    drop(server);
    Ok(())
}

/// The 1, 5 and 15-minute load averages (other processes share the machine).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("outbound-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = parse_options()?;
    // reqwest is built with rustls (for the workspace's other members), without a provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    run(options).await
}
