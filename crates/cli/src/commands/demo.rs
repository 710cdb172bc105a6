//! `outbound demo`: the whole loop of an outreach campaign, watched from the terminal without
//! writing any JSON.
//!
//! It serves a throwaway SQLite database (removed on exit) on the sandbox network and the
//! offline template model, with the engine on an accelerated clock; then, as any client would,
//! it sets up a product, a prompt, an agent, a campaign and a few prospects through its own
//! REST API — printing each call — and narrates what happens to each conversation: invitations,
//! acceptances, messages, replies, verdicts. The API stays open for the reader's own calls.
//!
//! Rule: the demo goes through the public API only, so it shows exactly what a client sees and
//! no rule is bypassed; its sandbox answers faster and more often than the default one (the
//! point is to see the loop in two minutes), and its rate limits are off (it polls every second).

use anyhow::{Context, Result, bail};
use clap::Args;
use outbound_api::RateLimits;
use outbound_core::secrets::SecretBox;
use outbound_core::time::{Millis, now_millis};
use outbound_linkedin::sandbox::DelayRange;
use outbound_linkedin::{SandboxConfig, SandboxConnector};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

use super::TempDir;
use super::serve::{self, Ready, ServeOptions};
use super::welcome;
use crate::config::{Config, LinkedInConnectorKind, Secret};

/// Default speed of the demo's clock: a quarter of an hour per second, so a day of outreach
/// passes in about a minute and a half.
const DEFAULT_TIME_SCALE: f64 = 900.0;
/// How often the narrator reads the conversations.
const NARRATION_POLL: Duration = Duration::from_secs(1);
/// Seed of the demo's network.
const DEMO_SEED: u64 = 2026;
/// Share of the demo's invitations that are accepted (the default network: 45 %).
const DEMO_ACCEPTANCE_RATE: f64 = 0.85;
/// Chance that a demo prospect answers a message (the default network: 35 %).
const DEMO_REPLY_RATE: f64 = 0.8;
/// The people of the demo campaign.
const PEOPLE: [(&str, &str, &str); 8] = [
    (
        "Ana Ruiz",
        "linkedin.com/in/ana-ruiz-outbound-demo",
        "Met at SaaStr Europa",
    ),
    ("Li Wei", "linkedin.com/in/li-wei-outbound-demo", ""),
    (
        "Sam Okafor",
        "linkedin.com/in/sam-okafor-outbound-demo",
        "Downloaded the close checklist",
    ),
    ("Mia Novak", "linkedin.com/in/mia-novak-outbound-demo", ""),
    (
        "Jonas Berg",
        "linkedin.com/in/jonas-berg-outbound-demo",
        "Hiring two accountants",
    ),
    ("Priya Shah", "linkedin.com/in/priya-shah-outbound-demo", ""),
    ("Tom Reyes", "linkedin.com/in/tom-reyes-outbound-demo", ""),
    (
        "Lena Fischer",
        "linkedin.com/in/lena-fischer-outbound-demo",
        "Asked about pricing in May",
    ),
];
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on, `host:port` [env: OUTBOUND_ADDR] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<String>,
    /// How many times faster than real time the engine runs
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TIME_SCALE,
          value_parser = super::serve::parse_time_scale)]
    pub time_scale: f64,
}

/// A sandbox network that answers within hours and often, so the demo shows every step.
fn lively_network() -> Result<SandboxConnector> {
    let config = SandboxConfig {
        acceptance_rate: DEMO_ACCEPTANCE_RATE,
        acceptance_delay: DelayRange::new(10 * MINUTE, 4 * HOUR),
        reply_rate: DEMO_REPLY_RATE,
        conversation_reply_rate: DEMO_REPLY_RATE,
        reply_delay: DelayRange::new(10 * MINUTE, 3 * HOUR),
        already_connected_rate: 0.0,
        unreachable_rate: 0.0,
        invites_disabled_rate: 0.0,
        ..SandboxConfig::default()
    };
    SandboxConnector::new(DEMO_SEED, config).context("the demo network")
}

pub async fn run(config: &Config, args: DemoArgs) -> Result<()> {
    let dir = TempDir::new("outbound-demo")?;
    let mut config = config.clone();
    config.database_url = format!("sqlite://{}", dir.path().join("demo.db").display());
    config.linkedin_connector = LinkedInConnectorKind::Sandbox;
    config.rate_limits = RateLimits::off();
    // The database is thrown away, so its master key need not outlive the process.
    config.secret_key = Some(Secret::new(SecretBox::generate_encoded_key()));

    let (ready_tx, ready_rx) = oneshot::channel();
    let options = ServeOptions {
        time_scale: Some(args.time_scale),
        connector: Some(Arc::new(lively_network()?)),
        ready: Some(ready_tx),
    };
    let server = serve::run(&config, options);
    tokio::pin!(server);
    let ready = tokio::select! {
        ready = ready_rx => ready.context("the server stopped before it was ready")?,
        served = &mut server => return served,
    };
    let show = Narrator::start(ready, args.time_scale, dir.path().display().to_string());
    let served = tokio::select! {
        served = &mut server => served,
        shown = show => {
            if let Err(error) = shown {
                eprintln!("demo: {error:#}; the server keeps running until Ctrl-C");
            }
            server.await
        }
    };
    drop(dir);
    eprintln!("Demo stopped; its database is removed. `outbound serve` keeps your own data.");
    served
}

/// What the narrator remembers of a conversation, to tell what changed.
#[derive(Debug, Default, Clone, PartialEq)]
struct Seen {
    status: i64,
    qualification: String,
    last_message: String,
    /// How many of its messages were told.
    messages_told: usize,
}

/// The demo's client of its own API, and what it has told so far.
struct Narrator {
    http: reqwest::Client,
    base: String,
    key: String,
    /// When the engine's clock started, on both clocks, and its speed.
    started_real: Millis,
    time_scale: f64,
}

impl Narrator {
    async fn start(ready: Ready, time_scale: f64, dir: String) -> Result<()> {
        let Some(key) = ready.key else {
            bail!("the demo database already had a team, so no key was printed");
        };
        // reqwest is built with rustls and no provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let narrator = Narrator {
            http: reqwest::Client::new(),
            base: welcome::base_url(ready.addr),
            key,
            started_real: now_millis(),
            time_scale,
        };
        eprintln!(
            "\nDemo: a throwaway database in {dir} (removed when you stop), the sandbox network, \
             the offline template model, and a clock {time_scale}x faster than real time.\n\
             Setting up a campaign through the API, as any client would:"
        );
        let campaign = narrator.set_up().await?;
        eprintln!(
            "\nWatching the campaign. Explore it yourself meanwhile:\n  \
             {base}/docs\n  \
             curl -s {base}/v1/campaigns/{campaign}/stats -H \"Authorization: Bearer {key}\"\n\
             Press Ctrl-C to stop.\n",
            base = narrator.base,
            key = narrator.key,
        );
        narrator.watch(&campaign).await
    }

    /// Sends one call, prints it with its status, and returns the body of a success.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// A write, printed as a person would type it.
    async fn write(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value> {
        eprintln!("  {method} {path} {body}");
        self.call(method, path, Some(body)).await
    }

    /// Creates the product, prompt, agent and campaign and imports the people; returns the
    /// campaign's id.
    async fn set_up(&self) -> Result<String> {
        use reqwest::Method;
        let product = self
            .write(
                Method::POST,
                "/v1/products",
                json!({ "name": "Ledger AI", "description": "Automated bookkeeping for finance teams of 10-200 people: the month-end close in two days instead of ten." }),
            )
            .await?;
        let prompt = self
            .write(
                Method::POST,
                "/v1/prompts",
                json!({ "name": "CFO outreach", "model": "template", "type": "Messages" }),
            )
            .await?;
        let prompt = id_of(&prompt)?;
        self.write(
            Method::PUT,
            &format!("/v1/prompts/{prompt}"),
            json!({
                "context": "You sell {{offeringDescription}} to {{prospectDescription}}. Be brief and friendly.",
                "firstMessage": "Hi {{prospectName}}, how long does your month-end close take these days?",
                "followUps": [{ "prompt": "A gentle nudge about the close", "delay": 1 }],
                "followUpEnabled": true
            }),
        )
        .await?;
        let agent = id_of(&self.write(Method::POST, "/v1/agents", json!({})).await?)?;
        self.write(
            Method::PUT,
            &format!("/v1/agents/{agent}"),
            json!({
                "workingHours": { "days": "1:1:1:1:1:1:1", "start": "00:00", "stop": "00:00", "timezone": 0 },
                "limits": { "invitationsMin": 20, "invitationsMax": 25, "messagesMin": 30, "messagesMax": 40 }
            }),
        )
        .await?;
        self.write(
            Method::POST,
            &format!("/v1/agents/{agent}/setup"),
            json!({ "login": "demo.sdr@example.com", "password": "sandbox password", "country": "FR" }),
        )
        .await?;
        let campaign = self
            .write(
                Method::POST,
                "/v1/campaigns",
                json!({ "name": "Fintech CFOs", "productId": id_of(&product)?, "promptId": prompt, "agentId": agent }),
            )
            .await?;
        let campaign = id_of(&campaign)?;
        let prospects: Vec<Value> = PEOPLE
            .iter()
            .map(|(name, url, note)| json!({ "name": name, "url": url, "customData": note }))
            .collect();
        self.write(
            Method::POST,
            "/v1/prospects/batch",
            json!({ "campaignId": campaign, "prospects": prospects }),
        )
        .await?;
        Ok(campaign)
    }

    /// The engine's time now: it started with the narrator and runs `time_scale` times faster.
    fn simulated_now(&self) -> Millis {
        let elapsed = now_millis().saturating_sub(self.started_real);
        // Elapsed real milliseconds times the scale stay far inside an f64's exact range.
        self.started_real + (elapsed as f64 * self.time_scale) as Millis
    }

    /// Reads the campaign's conversations every second and tells what changed, forever.
    async fn watch(&self, campaign: &str) -> Result<()> {
        let mut seen: HashMap<String, Seen> = HashMap::new();
        loop {
            let chats = self
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/prospects/campaign/{campaign}?limit=100"),
                    None,
                )
                .await?;
            for chat in chats.as_array().into_iter().flatten() {
                self.tell_changes(chat, &mut seen).await?;
            }
            tokio::time::sleep(NARRATION_POLL).await;
        }
    }

    /// Prints what changed in `chat` since it was last seen.
    async fn tell_changes(&self, chat: &Value, seen: &mut HashMap<String, Seen>) -> Result<()> {
        let id = chat["id"].as_str().unwrap_or_default().to_owned();
        let name = chat["prospect"]["name"].as_str().unwrap_or("someone");
        let before = seen.get(&id).cloned().unwrap_or_default();
        let mut now = Seen {
            status: chat["status"].as_i64().unwrap_or_default(),
            qualification: text_of(&chat["qualification"]),
            last_message: text_of(&chat["lastMessage"]),
            messages_told: before.messages_told,
        };
        if now == before {
            return Ok(());
        }
        let clock = simulated_clock(self.simulated_now());
        if let Some(step) = status_step(now.status).filter(|_| now.status != before.status) {
            eprintln!("[{clock}] {name}: {step}");
        }
        if now.last_message != before.last_message && !now.last_message.is_empty() {
            let details = self
                .call(reqwest::Method::GET, &format!("/v1/prospects/{id}"), None)
                .await?;
            let messages = details["messages"].as_array().cloned().unwrap_or_default();
            for message in messages.iter().skip(before.messages_told) {
                let text = one_line(message["content"].as_str().unwrap_or_default());
                if message["role"] == "user" {
                    eprintln!("[{clock}] {name} wrote: {text}");
                } else {
                    eprintln!("[{clock}] {name} -> {text}");
                }
            }
            now.messages_told = messages.len();
        }
        if let Some(verdict) =
            verdict(&now.qualification).filter(|_| now.qualification != before.qualification)
        {
            eprintln!("[{clock}] {name}: {verdict}");
        }
        seen.insert(id, now);
        Ok(())
    }
}

/// A string field, or `""` when it is absent.
fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The `id` of a created resource.
fn id_of(body: &Value) -> Result<String> {
    body["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {body}"))
}

/// A conversation status code in words, for the steps worth telling.
fn status_step(status: i64) -> Option<&'static str> {
    match status {
        1 => Some("invitation sent"),
        2 => Some("accepted the invitation"),
        4 => Some("replied"),
        7 => Some("skipped"),
        502..=505 => Some("cannot be reached on LinkedIn"),
        _ => None,
    }
}

/// A qualification in words, once there is a verdict.
fn verdict(qualification: &str) -> Option<&'static str> {
    match qualification {
        "qualified" => Some("QUALIFIED: a lead for you"),
        "needVerification" => Some("needs your verdict (POST /v1/prospects/{chatId}/qualify)"),
        "unqualified" => Some("not a fit: unqualified"),
        _ => None,
    }
}

/// The engine's day and time of day, e.g. `Thu 14:05` (UTC).
fn simulated_clock(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map_or_else(|| at.to_string(), |t| t.format("%a %H:%M").to_string())
}

/// A message on one line, cut at a readable length.
fn one_line(text: &str) -> String {
    const MAX_CHARS: usize = 110;
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(MAX_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lively_network_is_a_valid_sandbox() {
        assert!(lively_network().is_ok());
    }

    #[test]
    fn messages_are_told_on_one_short_line() {
        assert_eq!(one_line("Hi  Ana,\nhow are you?"), "Hi Ana, how are you?");
        let long = "word ".repeat(60);
        let told = one_line(&long);
        assert!(told.ends_with('…'));
        assert_eq!(told.chars().count(), 111);
    }

    #[test]
    fn the_steps_worth_telling_have_words() {
        assert_eq!(status_step(1), Some("invitation sent"));
        assert_eq!(status_step(3), None, "a sent message is told with its text");
        assert_eq!(verdict("inProgress"), None);
        assert!(verdict("qualified").is_some());
    }
}
