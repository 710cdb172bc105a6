//! Dashboard page benchmark: the time to render the home, inbox and campaign pages (and the
//! others) for a team of a million conversations, against a page that reads nothing from the
//! database (the sign-in form), measured in the same run.
//!
//! `cargo run --release -p outbound-bench --bin dashboard -- [--conversations N]
//! [--requests N] [--database PATH]` (default: 1,000,000 conversations, 200 requests of each
//! page, a temporary SQLite file). With `--database` the file is kept, and a second run on it
//! skips the loading.
//!
//! Loading writes the rows with plain SQL in transactions of [`BATCH`] rows (the API's import
//! path is measured by `outbound-bench`): prospects with a title and a company, one
//! conversation each spread over [`CAMPAIGNS`] campaigns and the last 60 days; 35 % have an
//! agent message, 30 % of those a reply (the prospect has the last word in a third of them),
//! 10 % of the replies wait for a verdict, 1 % of all are taken over. The database's triggers
//! keep the counts the pages read (`chat_counts`, `team_activity_days`, the search index).
//! Requests are timed one at a time over loopback HTTP, after a warm-up, with the dashboard
//! served in this process on the same store as `outbound serve` would.

#[path = "../data.rs"]
#[expect(
    dead_code,
    reason = "shared with the main benchmark, which uses all of it"
)]
mod data;
#[path = "../report.rs"]
mod report;

use anyhow::{Context, Result, bail, ensure};
use outbound_core::ids::new_id;
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::plan::Plan;
use outbound_core::prompt::PromptType;
use outbound_core::review::ReviewMode;
use outbound_core::secrets::SecretBox;
use outbound_core::time::now_millis;
use outbound_store::Store;
use outbound_store::campaigns::NewCampaign;
use report::Timings;
use sqlx::Connection;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Conversations when `--conversations` is not given.
const DEFAULT_CONVERSATIONS: usize = 1_000_000;
/// Requests of each page when `--requests` is not given.
const DEFAULT_REQUESTS: usize = 200;
/// Campaigns of the team.
const CAMPAIGNS: usize = 5;
/// Conversations per loading transaction (13 bound values each, under SQLite's 32,766).
const BATCH: usize = 2_000;
/// Messages per insert statement (7 bound values each).
const MESSAGE_ROWS: usize = 4_000;
/// Requests of each page before the timed ones.
const WARM_UP: usize = 10;
/// The conversations' creation spreads over this many days back.
const SPREAD_DAYS: i64 = 60;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

struct Options {
    conversations: usize,
    requests: usize,
    database: Option<PathBuf>,
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        conversations: DEFAULT_CONVERSATIONS,
        requests: DEFAULT_REQUESTS,
        database: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--conversations" => options.conversations = value()?.parse()?,
            "--requests" => options.requests = value()?.parse()?,
            "--database" => options.database = Some(PathBuf::from(value()?)),
            other => bail!("unknown option {other}"),
        }
    }
    Ok(options)
}

/// What the timed requests need to know about the loaded team.
struct Team {
    id: String,
    key: String,
    campaigns: Vec<String>,
    chats: Vec<String>,
}

/// Creates the team, its key, product, prompt, agent and campaigns through the store.
async fn create_team(store: &Arc<dyn Store>) -> Result<(String, String, Vec<String>)> {
    let team = store
        .create_team("Bench dashboard", Plan::Unlimited)
        .await?;
    let key = generate_api_key();
    store
        .create_api_key(&team.id, "bench", &hash_api_key(&key))
        .await?;
    let product = store
        .create_product(
            &team.id,
            "Ledger AI",
            "Automated bookkeeping for finance teams",
            None,
        )
        .await?;
    let prompt = store
        .create_prompt(&team.id, "CFO outreach", PromptType::Messages, "template")
        .await?;
    let agent = store.create_agent(&team.id, None).await?;
    let mut campaigns = Vec::new();
    for n in 0..CAMPAIGNS {
        let campaign = store
            .create_campaign(
                &team.id,
                &NewCampaign {
                    name: format!("Campaign {n}"),
                    product_id: product.id.clone(),
                    prompt_id: prompt.id.clone(),
                    agent_id: agent.id.clone(),
                    qualification_automatic: 70,
                    qualification_verification: 50,
                    variables: BTreeMap::new(),
                    prevent_auto_start: true,
                    review_mode: ReviewMode::FirstMessage,
                },
                None,
            )
            .await?;
        campaigns.push(campaign.id);
    }
    Ok((team.id, key, campaigns))
}

/// One loaded conversation's columns.
struct Row {
    prospect: String,
    chat: String,
    campaign: usize,
    person: data::Person,
    created: i64,
    status: i64,
    qualification: &'static str,
    paused: bool,
    sent: Option<i64>,
    replied: Option<i64>,
}

/// Conversation `i`, the same every run.
fn row(i: usize, now: i64) -> Row {
    let mut rng = data::Rng::new((i as u64 + 7).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let created = now
        - i64::try_from(rng.below(usize::try_from(SPREAD_DAYS * DAY_MS).unwrap_or(1))).unwrap_or(0);
    let messaged = rng.chance(35);
    let replied = messaged && rng.chance(30);
    let sent = messaged.then(|| created + i64::try_from(rng.below(2 * 3_600_000)).unwrap_or(0));
    let reply = sent
        .filter(|_| replied)
        .map(|at| at + i64::try_from(rng.below(3_600_000)).unwrap_or(0));
    // In two thirds of the answered conversations the agent answered back.
    let answered_back = replied && rng.chance(66);
    let sent = match (sent, reply) {
        (Some(_), Some(reply)) if answered_back => Some(reply + 60_000),
        (sent, _) => sent,
    };
    let (status, qualification) = match (messaged, replied) {
        (false, _) => (i64::try_from(rng.below(3)).unwrap_or(0), "inProgress"),
        (true, false) => (3, "inProgress"),
        (true, true) if rng.chance(10) => (4, "needVerification"),
        (true, true) => (4, "inProgress"),
    };
    Row {
        prospect: new_id(),
        chat: new_id(),
        campaign: i % CAMPAIGNS,
        person: data::person(i),
        created,
        status,
        qualification,
        paused: rng.chance(1),
        sent,
        replied: reply,
    }
}

/// Writes `count` conversations (with their prospects and messages) with plain SQL.
async fn load(url: &str, team: &str, campaigns: &[String], count: usize) -> Result<()> {
    let mut db = sqlx::SqliteConnection::connect(url).await?;
    let now = now_millis();
    let started = Instant::now();
    for start in (0..count).step_by(BATCH) {
        let rows: Vec<Row> = (start..(start + BATCH).min(count))
            .map(|i| row(i, now))
            .collect();
        let mut tx = db.begin().await?;
        let mut prospects = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO prospects (id, team_id, url, slug, name, headline, current_job_title, \
             current_company_name, search_text, created_at, updated_at) ",
        );
        prospects.push_values(&rows, |mut b, r| {
            let headline = format!("{} at {}", r.person.title, r.person.company);
            let text = format!("{} {headline}", r.person.name).to_lowercase();
            b.push_bind(r.prospect.clone())
                .push_bind(team.to_owned())
                .push_bind(format!("https://linkedin.com/in/{}", r.person.slug))
                .push_bind(r.person.slug.clone())
                .push_bind(r.person.name.clone())
                .push_bind(headline)
                .push_bind(r.person.title.to_owned())
                .push_bind(r.person.company.clone())
                .push_bind(text)
                .push_bind(r.created)
                .push_bind(r.created);
        });
        prospects.build().execute(&mut *tx).await?;
        let mut chats = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO chats (id, team_id, campaign_id, prospect_id, status, qualification, \
             paused, has_responded, messages_sent, last_message_at, last_response_at, created_at, \
             updated_at) ",
        );
        chats.push_values(&rows, |mut b, r| {
            let last = match (r.sent, r.replied) {
                (Some(sent), Some(reply)) => Some(sent.max(reply)),
                (sent, _) => sent,
            };
            b.push_bind(r.chat.clone())
                .push_bind(team.to_owned())
                .push_bind(campaigns[r.campaign].clone())
                .push_bind(r.prospect.clone())
                .push_bind(r.status)
                .push_bind(r.qualification)
                .push_bind(r.paused)
                .push_bind(r.replied.is_some())
                .push_bind(i64::from(r.sent.is_some()))
                .push_bind(last)
                .push_bind(r.replied)
                .push_bind(r.created)
                .push_bind(last.unwrap_or(r.created));
        });
        chats.build().execute(&mut *tx).await?;
        let mut messages: Vec<(String, &Row, &'static str, &'static str, i64)> = Vec::new();
        for r in &rows {
            if let Some(sent) = r.sent {
                let first = r.replied.map_or(sent, |reply| sent.min(reply - 1));
                messages.push((
                    new_id(),
                    r,
                    "assistant",
                    "Hi, how long does your month-end close take?",
                    first,
                ));
            }
            if let Some(reply) = r.replied {
                messages.push((new_id(), r, "user", "About ten days. Tell me more.", reply));
                if let Some(sent) = r.sent.filter(|sent| *sent > reply) {
                    messages.push((
                        new_id(),
                        r,
                        "assistant",
                        "We close in two: may I show you?",
                        sent,
                    ));
                }
            }
        }
        for chunk in messages.chunks(MESSAGE_ROWS) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO messages (id, team_id, chat_id, campaign_id, role, content, created_at) ",
            );
            insert.push_values(chunk, |mut b, (id, r, role, text, at)| {
                b.push_bind(id.clone())
                    .push_bind(team.to_owned())
                    .push_bind(r.chat.clone())
                    .push_bind(campaigns[r.campaign].clone())
                    .push_bind(*role)
                    .push_bind(*text)
                    .push_bind(*at);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let done = (start + BATCH).min(count);
        if done % 100_000 < BATCH || done == count {
            eprintln!(
                "  loaded {done} conversations ({:.0}/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    sqlx::query("ANALYZE").execute(&mut db).await?;
    Ok(())
}

/// A browser-like client signed in with `key`.
async fn sign_in(base: &str, key: &str) -> Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = client
        .get(format!("{base}/app/login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"_csrf\" value=\"";
    let start = form.find(marker).context("the sign-in form's token")? + marker.len();
    let token = &form[start..start + form[start..].find('"').context("token end")?];
    let signed = client
        .post(format!("{base}/app/login"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("_csrf", token), ("api_key", key), ("next", "/app")])
        .send()
        .await?;
    ensure!(
        signed.status().as_u16() == 303,
        "sign-in answered {}",
        signed.status()
    );
    Ok(client)
}

/// Times `requests` GETs of each path (after a warm-up); every answer must be 200.
async fn measure(
    client: &reqwest::Client,
    base: &str,
    kinds: &[(&'static str, Vec<String>)],
    requests: usize,
) -> Result<Timings> {
    let mut timings = Timings::default();
    for (kind, paths) in kinds {
        for i in 0..WARM_UP + requests {
            let path = &paths[i % paths.len()];
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            let elapsed = started.elapsed();
            ensure!(
                status.as_u16() == 200,
                "{path} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
            if i >= WARM_UP {
                timings.add(kind, elapsed);
            }
        }
    }
    Ok(timings)
}

/// The surname of person `i` of the data.
fn surname_of(i: usize) -> String {
    let name = data::person(i).name;
    name.rsplit(' ').next().unwrap_or(&name).to_owned()
}

/// The cursor of the inbox page `pages` deep (following the pages' own links).
async fn deep_inbox_path(client: &reqwest::Client, base: &str, pages: usize) -> Result<String> {
    let mut path = "/app/inbox".to_owned();
    for _ in 0..pages {
        let body = client
            .get(format!("{base}{path}"))
            .send()
            .await?
            .text()
            .await?;
        let start = body.find("/app/inbox?after=").context("a next page")?;
        let rest = &body[start..];
        path = rest[..rest.find('"').context("link end")?].replace("&amp;", "&");
    }
    Ok(path)
}

async fn run(options: Options) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let scratch = std::env::temp_dir().join(format!("outbound-bench-dashboard-{}", new_id()));
    let file = options
        .database
        .clone()
        .unwrap_or_else(|| scratch.join("bench.db"));
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let existing = file.exists();
    let url = format!("sqlite://{}", file.display());
    let store = outbound_store::connect(&url).await?;
    store.migrate().await?;
    let team = if existing {
        let team = store
            .list_teams()
            .await?
            .into_iter()
            .next()
            .context("a loaded team")?;
        let key = generate_api_key();
        store
            .create_api_key(&team.id, "bench", &hash_api_key(&key))
            .await?;
        let campaigns = store
            .list_campaigns(&team.id, &Default::default())
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        Team {
            id: team.id,
            key,
            campaigns,
            chats: Vec::new(),
        }
    } else {
        let (id, key, campaigns) = create_team(&store).await?;
        eprintln!(
            "loading {} conversations into {}",
            options.conversations,
            file.display()
        );
        let started = Instant::now();
        load(&url, &id, &campaigns, options.conversations).await?;
        eprintln!("loaded in {:.1} s", started.elapsed().as_secs_f64());
        Team {
            id,
            key,
            campaigns,
            chats: Vec::new(),
        }
    };
    let mut team = team;
    team.chats = sqlx::query_scalar::<_, String>(
        "SELECT id FROM chats WHERE team_id = $1 AND messages_sent > 0 ORDER BY id LIMIT 200",
    )
    .bind(&team.id)
    .fetch_all(&mut sqlx::SqliteConnection::connect(&url).await?)
    .await?;
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chats")
        .fetch_one(&mut sqlx::SqliteConnection::connect(&url).await?)
        .await?;

    let secrets = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key())?;
    let app = outbound_dashboard::app(
        Arc::clone(&store),
        outbound_dashboard::DashboardSettings::new(secrets),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    let client = sign_in(&base, &team.key).await?;
    let deep = deep_inbox_path(&client, &base, 100).await?;
    let campaign = &team.campaigns[0];
    let kinds: Vec<(&'static str, Vec<String>)> = vec![
        (
            "ceiling: the sign-in form (no database read)",
            vec!["/app/login".to_owned()],
        ),
        (
            "home (KPIs, 30-day chart, campaigns, attention)",
            vec!["/app".to_owned()],
        ),
        ("inbox, first page", vec!["/app/inbox".to_owned()]),
        ("inbox, page 101 (cursor)", vec![deep]),
        (
            "inbox, one campaign",
            vec![format!("/app/inbox?campaign={campaign}")],
        ),
        (
            "inbox, needs reply",
            vec!["/app/inbox?awaiting=1".to_owned()],
        ),
        ("inbox, taken over", vec!["/app/inbox?paused=1".to_owned()]),
        (
            "inbox, waiting for a verdict",
            vec!["/app/inbox?qualification=needVerification".to_owned()],
        ),
        (
            "inbox, one status (replied)",
            vec!["/app/inbox?status=4".to_owned()],
        ),
        (
            "inbox, search: a surname",
            (0..50)
                .map(|i| format!("/app/inbox?q={}", surname_of(i)))
                .collect(),
        ),
        (
            "inbox, search: a job-title word",
            vec!["/app/inbox?q=engineer".to_owned()],
        ),
        (
            "inbox with a conversation open",
            team.chats
                .iter()
                .map(|c| format!("/app/inbox/{c}"))
                .collect(),
        ),
        ("campaigns list", vec!["/app/campaigns".to_owned()]),
        (
            "campaign (funnel, settings, prospects)",
            team.campaigns
                .iter()
                .map(|c| format!("/app/campaigns/{c}"))
                .collect(),
        ),
        ("review queue", vec!["/app/review".to_owned()]),
        ("agents", vec!["/app/agents".to_owned()]),
        ("Do-Not-Contact", vec!["/app/dnc".to_owned()]),
    ];
    let timings = measure(&client, &base, &kinds, options.requests).await?;
    println!(
        "Dashboard pages, {conversations} conversations ({} campaigns), {} requests each after {WARM_UP} warm-up, one at a time:\n",
        team.campaigns.len(),
        options.requests
    );
    println!("{}", timings.table());
    if options.database.is_none() {
        std::fs::remove_dir_all(&scratch).ok();
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    run(parse_options()?).await
}
