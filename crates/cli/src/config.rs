//! The server's configuration, in one place.
//!
//! Rule: every setting has a compiled-in default, and four layers apply in order, a later one
//! winning: defaults → the TOML file (`--config FILE`, or `./outbound.toml` when it exists) →
//! `OUTBOUND_*` environment variables → command-line flags. An invalid value is reported with
//! its key and the layer it came from; an unknown key in the file is an error, so typos do not
//! pass silently. Secrets (the master key, provider API keys, a database password) never appear
//! in `Debug` output or in logs.

use anyhow::{Context, Result, anyhow, bail};
use outbound_api::{ApiSettings, DEFAULT_MAX_BODY_BYTES, ModelCatalog, RateLimits};
use outbound_core::model::{ModelSpec, TEMPLATE_MODEL_ID, default_catalogue};
use outbound_core::secrets::SecretBox;
use outbound_core::webhooks::DEFAULT_SCHEDULE_SECS;
use outbound_engine::WebhookConfig;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Where the server listens when nothing else is configured.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The database used when nothing else is configured: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://outbound.db";
/// The configuration file read from the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "outbound.toml";
/// The environment variable naming the configuration file, like `--config`.
pub const CONFIG_ENV: &str = "OUTBOUND_CONFIG";
/// Appended to the SQLite file's path to name the file holding a generated master key.
pub(crate) const KEY_FILE_SUFFIX: &str = ".key";
/// Suffix of the sandbox network's ledger beside a SQLite database file.
pub(crate) const SANDBOX_LEDGER_SUFFIX: &str = ".sandbox";
/// Permissions of a generated key file: readable and writable by its owner only.
#[cfg(unix)]
const KEY_FILE_MODE: u32 = 0o600;
/// Permission bits that must be clear on a key file (group and others).
#[cfg(unix)]
const KEY_FILE_LOOSE_BITS: u32 = 0o077;

/// The longest webhook timeout accepted, in seconds.
const MAX_WEBHOOK_TIMEOUT_SECS: f64 = 300.0;
/// The longest single retry delay accepted, in seconds (7 days).
const MAX_WEBHOOK_RETRY_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// Providers that environment variables can configure: the provider name and whether it takes
/// an API key (`OUTBOUND_<NAME>_API_KEY`) besides its base URL (`OUTBOUND_<NAME>_BASE_URL`).
const ENV_PROVIDERS: [(&str, bool); 5] = [
    ("openai", true),
    ("anthropic", true),
    ("gemini", true),
    ("xai", true),
    ("ollama", false),
];

/// A value that must not be shown: `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pretty" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            other => Err(format!("expected `pretty` or `json`, got `{other}`")),
        }
    }
}

/// The connection settings of one language-model provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Base URL of the provider's API (for an OpenAI-compatible server such as Ollama, vLLM or
    /// OpenRouter, the URL ending in `/v1`). Unset: the provider's public endpoint.
    pub base_url: Option<String>,
    /// The API key sent to the provider.
    pub api_key: Option<Secret>,
}

impl ProviderConfig {
    /// A provider counts as configured when it has an API key or a base URL.
    pub fn is_configured(&self) -> bool {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
        set(self.api_key.as_ref().map(Secret::expose)) || set(self.base_url.as_deref())
    }
}

/// The whole configuration of an `outbound` process.
#[derive(Clone)]
pub struct Config {
    /// Address the HTTP server listens on, `host:port` (`127.0.0.1:0` picks a free port).
    pub addr: String,
    /// The database: `postgres://…` / `postgresql://…` for PostgreSQL; anything else is SQLite
    /// (`sqlite://outbound.db`, `sqlite::memory:` or a plain file path), created if missing.
    pub database_url: String,
    /// The 32-byte master key (64 hex characters or base64) that encrypts LinkedIn passwords.
    /// Unset with SQLite on a file: read from, or generated into, `<database file>.key`.
    /// Required with PostgreSQL, where every process must share one key.
    pub secret_key: Option<Secret>,
    /// Requests per minute per team and route tier: Kakiyo's limits by default; set from
    /// `off`, a multiplier (`2`, `0.5`) or per-tier limits (`high=120,low=30`).
    pub rate_limits: RateLimits,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How logs are written to stderr; the level comes from `RUST_LOG` (default `info`).
    pub log_format: LogFormat,
    /// Language-model providers by name (`openai`, `anthropic`, `gemini`, `xai`, `ollama`, or
    /// any other name the models refer to).
    pub providers: BTreeMap<String, ProviderConfig>,
    /// The model catalogue; always contains the offline `template` model.
    pub models: Vec<ModelSpec>,
    /// Deliver webhooks to loopback, private, link-local and other internal addresses (refused
    /// by default, after DNS resolution, against SSRF). Tests and all-local setups set it.
    pub webhooks_allow_private: bool,
    /// Delays of the webhook delivery attempts: the first entry is the first attempt (`0`), each
    /// later one the wait before a retry (±20 % jitter; a receiver's `Retry-After` is honoured
    /// up to twice the delay). Retries end with the list.
    pub webhook_retry_schedule: Vec<Duration>,
    /// The limit of one webhook delivery attempt, from connecting to reading the answer.
    pub webhook_timeout: Duration,
    /// A webhook is disabled after this many consecutive events that exhausted their retries.
    pub webhook_disable_after: i64,
    /// How long an AI draft of a review-mode campaign waits for a person before it expires.
    pub draft_expiry: Duration,
    /// How long an invitation may stay unanswered before the engine withdraws it.
    pub withdraw_invitations_after: Duration,
    /// SMTP server for workspace invitations (`smtp://user:pass@host:port`, or `smtps://` for
    /// TLS). Unset: invitations are recorded but no email is sent (`emailSent: false`).
    pub smtp_url: Option<Secret>,
    /// The public base URL of this server, used in links sent to people (invitation portal).
    pub public_url: Option<String>,
    /// Host names `/mcp` answers besides loopback (and the host of `public_url`), against DNS
    /// rebinding; `*` admits any host (behind a proxy that checks hosts itself).
    pub mcp_allowed_hosts: Vec<String>,
    /// The LinkedIn connector of the outreach engine: `sandbox` (a simulated network, the
    /// default) or `unipile` (the real one, through Unipile's API).
    pub linkedin_connector: LinkedInConnectorKind,
    /// Seed of the sandbox network: the same seed simulates the same people.
    pub sandbox_seed: u64,
    /// The DSN of the Unipile workspace (`https://apiN.unipile.com:PORT`), for `unipile`.
    pub unipile_dsn: Option<String>,
    /// The Unipile access token, for `unipile`.
    pub unipile_api_key: Option<Secret>,
    /// The secret Unipile's webhooks carry in `X-Outbound-Webhook-Secret` (register
    /// `<public_url>/integrations/unipile/webhook` with that header in Unipile). Unset: the
    /// route answers 404 and the engine relies on its periodic checks alone.
    pub unipile_webhook_secret: Option<Secret>,
    /// The file the file layer was read from, if any (not a setting).
    pub file: Option<PathBuf>,
}

/// Drafts expire after 72 hours, at most after 30 days.
const DEFAULT_DRAFT_EXPIRY_HOURS: u64 = 72;
const MAX_DRAFT_EXPIRY_HOURS: u64 = 720;
/// Invitations are withdrawn after 21 days unanswered, at most after a year.
const DEFAULT_WITHDRAW_AFTER_DAYS: u64 = 21;
const MAX_WITHDRAW_AFTER_DAYS: u64 = 365;
const SECS_PER_HOUR: u64 = 60 * 60;
const SECS_PER_DAY: u64 = 24 * SECS_PER_HOUR;

/// `text` as a whole number from 1 to `max`.
fn whole_number_in(text: &str, max: u64) -> Option<u64> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR.to_owned(),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            secret_key: None,
            rate_limits: RateLimits::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            log_format: LogFormat::Pretty,
            providers: BTreeMap::new(),
            models: default_catalogue(),
            webhooks_allow_private: false,
            webhook_retry_schedule: DEFAULT_SCHEDULE_SECS
                .iter()
                .map(|secs| Duration::from_secs(*secs))
                .collect(),
            webhook_timeout: outbound_engine::webhooks::DEFAULT_TIMEOUT,
            webhook_disable_after: outbound_engine::webhooks::DEFAULT_DISABLE_AFTER,
            draft_expiry: Duration::from_secs(DEFAULT_DRAFT_EXPIRY_HOURS * SECS_PER_HOUR),
            withdraw_invitations_after: Duration::from_secs(
                DEFAULT_WITHDRAW_AFTER_DAYS * SECS_PER_DAY,
            ),
            smtp_url: None,
            public_url: None,
            mcp_allowed_hosts: Vec::new(),
            linkedin_connector: LinkedInConnectorKind::Sandbox,
            sandbox_seed: 0,
            unipile_dsn: None,
            unipile_api_key: None,
            unipile_webhook_secret: None,
            file: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret_key", &self.secret_key)
            .field("rate_limits", &self.rate_limits)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("log_format", &self.log_format)
            .field("providers", &self.providers)
            .field("models", &self.models)
            .field("webhooks_allow_private", &self.webhooks_allow_private)
            .field("webhook_retry_schedule", &self.webhook_retry_schedule)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("webhook_disable_after", &self.webhook_disable_after)
            .field("draft_expiry", &self.draft_expiry)
            .field(
                "withdraw_invitations_after",
                &self.withdraw_invitations_after,
            )
            .field("smtp_url", &self.smtp_url)
            .field("public_url", &self.public_url)
            .field("mcp_allowed_hosts", &self.mcp_allowed_hosts)
            .field("linkedin_connector", &self.linkedin_connector)
            .field("sandbox_seed", &self.sandbox_seed)
            .field("unipile_dsn", &self.unipile_dsn)
            .field("unipile_api_key", &self.unipile_api_key)
            .field("unipile_webhook_secret", &self.unipile_webhook_secret)
            .field("file", &self.file)
            .finish()
    }
}

/// Which LinkedIn connector the outreach engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedInConnectorKind {
    /// The simulated network (no LinkedIn account needed).
    Sandbox,
    /// LinkedIn through Unipile.
    Unipile,
}

impl LinkedInConnectorKind {
    fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "sandbox" => Some(Self::Sandbox),
            "unipile" => Some(Self::Unipile),
            _ => None,
        }
    }
}

/// The values given as command-line flags, the last layer.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--addr`.
    pub addr: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

/// Where a value came from, to name it in an error.
enum Source<'a> {
    File(&'a Path),
    Env(&'a str),
    Flag(&'a str),
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => write!(f, "in configuration file {}", path.display()),
            Source::Env(var) => write!(f, "from environment variable {var}"),
            Source::Flag(flag) => write!(f, "from command-line flag {flag}"),
        }
    }
}

fn invalid(key: &str, source: &Source<'_>, why: impl fmt::Display) -> anyhow::Error {
    anyhow!("invalid `{key}` {source}: {why}")
}

/// A number in the file may stand for a rate-limit multiplier (`rate_limits = 2`).
#[derive(Deserialize)]
#[serde(untagged)]
enum RateLimitsSetting {
    Text(String),
    Number(f64),
}

impl RateLimitsSetting {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(n) => n.to_string(),
        }
    }
}

/// A list that may be written as a string (`"0,5,300"`) or as an array of numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum ScheduleSetting {
    Text(String),
    List(Vec<f64>),
}

impl ScheduleSetting {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::List(list) => list
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// The file layer as written; every key optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    database_url: Option<String>,
    secret_key: Option<Secret>,
    rate_limits: Option<RateLimitsSetting>,
    max_body_bytes: Option<i64>,
    log_format: Option<String>,
    #[serde(default)]
    providers: BTreeMap<String, ProviderConfig>,
    models: Option<Vec<ModelSpec>>,
    webhooks_allow_private: Option<bool>,
    webhook_retry_schedule: Option<ScheduleSetting>,
    webhook_timeout_secs: Option<f64>,
    webhook_disable_after: Option<i64>,
    draft_expiry_hours: Option<u64>,
    withdraw_invitations_after_days: Option<u64>,
    smtp_url: Option<Secret>,
    public_url: Option<String>,
    mcp_allowed_hosts: Option<Vec<String>>,
    linkedin_connector: Option<String>,
    sandbox_seed: Option<u64>,
    unipile_dsn: Option<String>,
    unipile_api_key: Option<Secret>,
    unipile_webhook_secret: Option<Secret>,
}

/// Reads the configuration: defaults, then the file (`config_file`, else `OUTBOUND_CONFIG`,
/// else `./outbound.toml` when it exists), then the environment as seen through `env`, then
/// `overrides`.
pub fn load(
    config_file: Option<&Path>,
    overrides: Overrides,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config> {
    let named = config_file
        .map(Path::to_path_buf)
        .or_else(|| non_empty(&env, CONFIG_ENV).map(PathBuf::from));
    let file =
        named.or_else(|| Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|path| path.is_file()));
    let mut config = Config::default();
    if let Some(path) = &file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration file {}", path.display()))?;
        config.apply_toml(&text, path)?;
    }
    config.apply_env(env)?;
    config.apply_overrides(overrides)?;
    config.file = file;
    Ok(config)
}

impl Config {
    /// Applies the file layer: the TOML text `text`, read from `path`.
    pub fn apply_toml(&mut self, text: &str, path: &Path) -> Result<()> {
        let file: FileConfig = toml::from_str(text)
            .with_context(|| format!("invalid configuration file {}", path.display()))?;
        let source = Source::File(path);
        if let Some(addr) = file.addr {
            self.set_addr(addr, &source)?;
        }
        if let Some(url) = file.database_url {
            self.set_database_url(url, &source)?;
        }
        if let Some(key) = file.secret_key {
            self.set_secret_key(key, &source)?;
        }
        if let Some(limits) = file.rate_limits {
            self.set_rate_limits(&limits.into_text(), &source)?;
        }
        if let Some(bytes) = file.max_body_bytes {
            self.set_max_body_bytes(&bytes.to_string(), &source)?;
        }
        if let Some(format) = file.log_format {
            self.set_log_format(&format, &source)?;
        }
        for (name, provider) in file.providers {
            let entry = self.providers.entry(name).or_default();
            if provider.base_url.is_some() {
                entry.base_url = provider.base_url;
            }
            if provider.api_key.is_some() {
                entry.api_key = provider.api_key;
            }
        }
        if let Some(models) = file.models {
            self.models = checked_models(models).map_err(|why| invalid("models", &source, why))?;
        }
        if let Some(allow) = file.webhooks_allow_private {
            self.webhooks_allow_private = allow;
        }
        if let Some(schedule) = file.webhook_retry_schedule {
            self.set_webhook_retry_schedule(&schedule.into_text(), &source)?;
        }
        if let Some(secs) = file.webhook_timeout_secs {
            self.set_webhook_timeout(&secs.to_string(), &source)?;
        }
        if let Some(count) = file.webhook_disable_after {
            self.set_webhook_disable_after(&count.to_string(), &source)?;
        }
        if let Some(hours) = file.draft_expiry_hours {
            self.set_draft_expiry(&hours.to_string(), &source)?;
        }
        if let Some(days) = file.withdraw_invitations_after_days {
            self.set_withdraw_after(&days.to_string(), &source)?;
        }
        if let Some(url) = file.smtp_url {
            self.smtp_url = Some(url);
        }
        if let Some(url) = file.public_url {
            self.public_url = Some(url);
        }
        if let Some(hosts) = file.mcp_allowed_hosts {
            self.mcp_allowed_hosts = hosts.into_iter().map(|h| h.trim().to_owned()).collect();
        }
        if let Some(kind) = file.linkedin_connector {
            self.set_linkedin_connector(&kind, &source)?;
        }
        if let Some(seed) = file.sandbox_seed {
            self.sandbox_seed = seed;
        }
        if let Some(dsn) = file.unipile_dsn {
            self.unipile_dsn = Some(dsn);
        }
        if let Some(key) = file.unipile_api_key {
            self.unipile_api_key = Some(key);
        }
        if let Some(secret) = file.unipile_webhook_secret {
            self.unipile_webhook_secret = Some(secret);
        }
        Ok(())
    }

    fn set_linkedin_connector(&mut self, value: &str, source: &Source<'_>) -> Result<()> {
        self.linkedin_connector = LinkedInConnectorKind::parse(value).ok_or_else(|| {
            invalid(
                "linkedin_connector",
                source,
                format!("expected `sandbox` or `unipile`, got `{value}`"),
            )
        })?;
        Ok(())
    }

    /// Applies the environment layer; `env` looks a variable up. An empty variable counts as
    /// unset.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        let var = |name: &str| non_empty(&env, name);
        if let Some(addr) = var("OUTBOUND_ADDR") {
            self.set_addr(addr, &Source::Env("OUTBOUND_ADDR"))?;
        }
        if let Some(url) = var("OUTBOUND_DATABASE_URL") {
            self.set_database_url(url, &Source::Env("OUTBOUND_DATABASE_URL"))?;
        }
        if let Some(key) = var("OUTBOUND_SECRET_KEY") {
            self.set_secret_key(Secret(key), &Source::Env("OUTBOUND_SECRET_KEY"))?;
        }
        if let Some(limits) = var("OUTBOUND_RATE_LIMITS") {
            self.set_rate_limits(&limits, &Source::Env("OUTBOUND_RATE_LIMITS"))?;
        }
        if let Some(bytes) = var("OUTBOUND_MAX_BODY_BYTES") {
            self.set_max_body_bytes(&bytes, &Source::Env("OUTBOUND_MAX_BODY_BYTES"))?;
        }
        if let Some(format) = var("OUTBOUND_LOG_FORMAT") {
            self.set_log_format(&format, &Source::Env("OUTBOUND_LOG_FORMAT"))?;
        }
        if let Some(allow) = var("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE") {
            self.webhooks_allow_private = parse_bool(&allow).ok_or_else(|| {
                invalid(
                    "webhooks_allow_private",
                    &Source::Env("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE"),
                    format!("expected `true` or `false`, got `{allow}`"),
                )
            })?;
        }
        if let Some(schedule) = var("OUTBOUND_WEBHOOK_RETRY_SCHEDULE") {
            self.set_webhook_retry_schedule(
                &schedule,
                &Source::Env("OUTBOUND_WEBHOOK_RETRY_SCHEDULE"),
            )?;
        }
        if let Some(secs) = var("OUTBOUND_WEBHOOK_TIMEOUT_SECS") {
            self.set_webhook_timeout(&secs, &Source::Env("OUTBOUND_WEBHOOK_TIMEOUT_SECS"))?;
        }
        if let Some(count) = var("OUTBOUND_WEBHOOK_DISABLE_AFTER") {
            self.set_webhook_disable_after(&count, &Source::Env("OUTBOUND_WEBHOOK_DISABLE_AFTER"))?;
        }
        if let Some(hours) = var("OUTBOUND_DRAFT_EXPIRY_HOURS") {
            self.set_draft_expiry(&hours, &Source::Env("OUTBOUND_DRAFT_EXPIRY_HOURS"))?;
        }
        if let Some(days) = var("OUTBOUND_WITHDRAW_INVITATIONS_AFTER_DAYS") {
            self.set_withdraw_after(
                &days,
                &Source::Env("OUTBOUND_WITHDRAW_INVITATIONS_AFTER_DAYS"),
            )?;
        }
        if let Some(url) = var("OUTBOUND_SMTP_URL") {
            self.smtp_url = Some(Secret(url));
        }
        if let Some(url) = var("OUTBOUND_PUBLIC_URL") {
            self.public_url = Some(url);
        }
        if let Some(hosts) = var("OUTBOUND_MCP_ALLOWED_HOSTS") {
            self.mcp_allowed_hosts = hosts
                .split(',')
                .map(str::trim)
                .filter(|host| !host.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(kind) = var("OUTBOUND_LINKEDIN_CONNECTOR") {
            self.set_linkedin_connector(&kind, &Source::Env("OUTBOUND_LINKEDIN_CONNECTOR"))?;
        }
        if let Some(seed) = var("OUTBOUND_SANDBOX_SEED") {
            self.sandbox_seed = seed
                .trim()
                .parse()
                .map_err(|e| invalid("sandbox_seed", &Source::Env("OUTBOUND_SANDBOX_SEED"), e))?;
        }
        if let Some(dsn) = var("OUTBOUND_UNIPILE_DSN") {
            self.unipile_dsn = Some(dsn);
        }
        if let Some(key) = var("OUTBOUND_UNIPILE_API_KEY") {
            self.unipile_api_key = Some(Secret(key));
        }
        if let Some(secret) = var("OUTBOUND_UNIPILE_WEBHOOK_SECRET") {
            self.unipile_webhook_secret = Some(Secret(secret));
        }
        for (name, takes_key) in ENV_PROVIDERS {
            let upper = name.to_ascii_uppercase();
            let base_url = var(&format!("OUTBOUND_{upper}_BASE_URL"));
            let api_key = if takes_key {
                var(&format!("OUTBOUND_{upper}_API_KEY")).map(Secret)
            } else {
                None
            };
            if base_url.is_none() && api_key.is_none() {
                continue;
            }
            let entry = self.providers.entry(name.to_owned()).or_default();
            if base_url.is_some() {
                entry.base_url = base_url;
            }
            if api_key.is_some() {
                entry.api_key = api_key;
            }
        }
        Ok(())
    }

    /// Applies the command-line layer.
    pub fn apply_overrides(&mut self, overrides: Overrides) -> Result<()> {
        if let Some(addr) = overrides.addr {
            self.set_addr(addr, &Source::Flag("--addr"))?;
        }
        if let Some(url) = overrides.database_url {
            self.set_database_url(url, &Source::Flag("--database-url"))?;
        }
        Ok(())
    }

    fn set_addr(&mut self, addr: String, source: &Source<'_>) -> Result<()> {
        let addr = addr.trim().to_owned();
        if addr.parse::<SocketAddr>().is_err() {
            let port_ok = addr
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                return Err(invalid(
                    "addr",
                    source,
                    format!("expected `host:port` such as `{DEFAULT_ADDR}`, got `{addr}`"),
                ));
            }
        }
        self.addr = addr;
        Ok(())
    }

    fn set_database_url(&mut self, url: String, source: &Source<'_>) -> Result<()> {
        let url = url.trim().to_owned();
        if url.is_empty() {
            return Err(invalid("database_url", source, "must not be empty"));
        }
        self.database_url = url;
        Ok(())
    }

    fn set_secret_key(&mut self, key: Secret, source: &Source<'_>) -> Result<()> {
        SecretBox::from_encoded_key(key.expose()).map_err(|e| invalid("secret_key", source, e))?;
        self.secret_key = Some(Secret(key.expose().trim().to_owned()));
        Ok(())
    }

    fn set_rate_limits(&mut self, setting: &str, source: &Source<'_>) -> Result<()> {
        self.rate_limits =
            RateLimits::parse(setting).map_err(|e| invalid("rate_limits", source, e))?;
        Ok(())
    }

    fn set_max_body_bytes(&mut self, bytes: &str, source: &Source<'_>) -> Result<()> {
        self.max_body_bytes = bytes
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                invalid(
                    "max_body_bytes",
                    source,
                    format!("expected a positive whole number of bytes, got `{bytes}`"),
                )
            })?;
        Ok(())
    }

    fn set_log_format(&mut self, format: &str, source: &Source<'_>) -> Result<()> {
        self.log_format = format
            .parse()
            .map_err(|why| invalid("log_format", source, why))?;
        Ok(())
    }

    fn set_webhook_retry_schedule(&mut self, text: &str, source: &Source<'_>) -> Result<()> {
        let key = "webhook_retry_schedule";
        let mut schedule = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let secs = part
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && (0.0..=MAX_WEBHOOK_RETRY_SECS).contains(s))
                .ok_or_else(|| {
                    invalid(
                        key,
                        source,
                        format!(
                            "expected comma-separated seconds between 0 and {MAX_WEBHOOK_RETRY_SECS} \
                             such as `0,5,300,1800`, got `{part}`"
                        ),
                    )
                })?;
            schedule.push(Duration::from_secs_f64(secs));
        }
        if schedule.first() != Some(&Duration::ZERO) {
            return Err(invalid(
                key,
                source,
                "the first entry is the first attempt and must be 0 (e.g. `0,5,300,1800`)",
            ));
        }
        self.webhook_retry_schedule = schedule;
        Ok(())
    }

    fn set_webhook_timeout(&mut self, text: &str, source: &Source<'_>) -> Result<()> {
        let secs = text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_WEBHOOK_TIMEOUT_SECS)
            .ok_or_else(|| {
                invalid(
                    "webhook_timeout_secs",
                    source,
                    format!(
                        "expected a number of seconds above 0 and at most \
                         {MAX_WEBHOOK_TIMEOUT_SECS}, got `{text}`"
                    ),
                )
            })?;
        self.webhook_timeout = Duration::from_secs_f64(secs);
        Ok(())
    }

    fn set_webhook_disable_after(&mut self, text: &str, source: &Source<'_>) -> Result<()> {
        self.webhook_disable_after = text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                invalid(
                    "webhook_disable_after",
                    source,
                    format!("expected a positive whole number, got `{text}`"),
                )
            })?;
        Ok(())
    }

    fn set_draft_expiry(&mut self, text: &str, source: &Source<'_>) -> Result<()> {
        let hours = whole_number_in(text, MAX_DRAFT_EXPIRY_HOURS).ok_or_else(|| {
            invalid(
                "draft_expiry_hours",
                source,
                format!("expected hours from 1 to {MAX_DRAFT_EXPIRY_HOURS}, got `{text}`"),
            )
        })?;
        self.draft_expiry = Duration::from_secs(hours * SECS_PER_HOUR);
        Ok(())
    }

    fn set_withdraw_after(&mut self, text: &str, source: &Source<'_>) -> Result<()> {
        let days = whole_number_in(text, MAX_WITHDRAW_AFTER_DAYS).ok_or_else(|| {
            invalid(
                "withdraw_invitations_after_days",
                source,
                format!("expected days from 1 to {MAX_WITHDRAW_AFTER_DAYS}, got `{text}`"),
            )
        })?;
        self.withdraw_invitations_after = Duration::from_secs(days * SECS_PER_DAY);
        Ok(())
    }

    /// The engine's settings of this configuration (its seed given).
    pub fn engine_config(&self, seed: u64) -> outbound_engine::outreach::EngineConfig {
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        outbound_engine::outreach::EngineConfig {
            seed,
            draft_ttl: millis(self.draft_expiry),
            withdraw_after: millis(self.withdraw_invitations_after),
            ..outbound_engine::outreach::EngineConfig::default()
        }
    }

    /// How the webhook dispatcher delivers.
    pub fn webhook_config(&self) -> WebhookConfig {
        let mut config = WebhookConfig::default().with_timeout(self.webhook_timeout);
        config.retry.schedule = self.webhook_retry_schedule.clone();
        config.disable_after = self.webhook_disable_after;
        config.allow_private = self.webhooks_allow_private;
        config
    }

    /// The database URL with any password replaced by `***`, for logs.
    pub fn redacted_database_url(&self) -> String {
        redact_url(&self.database_url)
    }

    /// The names of the providers that have an API key or a base URL.
    pub fn configured_providers(&self) -> Vec<String> {
        self.providers
            .iter()
            .filter(|(_, provider)| provider.is_configured())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The LinkedIn connector of the outreach engine.
    pub fn linkedin(&self) -> Result<Arc<dyn outbound_linkedin::LinkedInConnector>> {
        match self.linkedin_connector {
            LinkedInConnectorKind::Sandbox => {
                let sandbox = outbound_linkedin::SandboxConnector::with_defaults(self.sandbox_seed);
                match self.sandbox_ledger_path() {
                    Some(path) => Ok(Arc::new(sandbox.with_ledger_file(&path).with_context(
                        || format!("cannot open the sandbox ledger {}", path.display()),
                    )?)),
                    None => Ok(Arc::new(sandbox)),
                }
            }
            LinkedInConnectorKind::Unipile => Ok(Arc::new(self.unipile()?)),
        }
    }

    /// The Unipile client of `unipile_dsn` and `unipile_api_key`.
    pub fn unipile(&self) -> Result<outbound_linkedin::UnipileConnector> {
        let (Some(dsn), Some(key)) = (&self.unipile_dsn, &self.unipile_api_key) else {
            anyhow::bail!("Unipile needs unipile_dsn and unipile_api_key");
        };
        let config = outbound_linkedin::UnipileConfig::new(dsn.clone(), key.expose());
        outbound_linkedin::UnipileConnector::new(&config)
            .context("cannot start the Unipile connector")
    }

    /// Where the sandbox network remembers its sends across restarts: `<database file>.sandbox`
    /// beside a SQLite file; none (memory) for PostgreSQL and in-memory SQLite.
    pub fn sandbox_ledger_path(&self) -> Option<PathBuf> {
        if outbound_store::is_postgres_url(&self.database_url) {
            return None;
        }
        sqlite_file_path(&self.database_url)
            .map(|database| beside(&database, SANDBOX_LEDGER_SUFFIX))
    }

    /// The language models of the configured catalogue and providers.
    pub fn model_registry(&self) -> outbound_engine::outreach::ModelRegistry {
        let providers = self
            .providers
            .iter()
            .map(|(name, provider)| {
                let settings = outbound_llm::ProviderSettings::for_name(name)
                    .with_base_url(provider.base_url.clone())
                    .with_api_key(provider.api_key.as_ref().map(|k| k.expose().to_owned()));
                (name.clone(), settings)
            })
            .collect();
        outbound_engine::outreach::ModelRegistry::new(self.models.clone(), providers)
    }

    /// What the HTTP API needs besides the store and the master key; `now` is the engine's
    /// clock (see [`ApiSettings::now`]).
    pub fn api_settings(&self, now: outbound_api::Now) -> ApiSettings {
        ApiSettings {
            rate_limits: self.rate_limits.clone(),
            max_body_bytes: self.max_body_bytes,
            models: ModelCatalog::new(self.models.clone(), self.configured_providers()),
            smtp_url: self.smtp_url.as_ref().map(|url| url.expose().to_owned()),
            public_url: self.public_url.clone(),
            now,
            mcp: Some(self.mcp_mount()),
            dashboard: None,
            unipile_webhook_secret: self
                .unipile_webhook_secret
                .as_ref()
                .map(|secret| secret.expose().to_owned()),
        }
    }

    /// What the dashboard at `/app` needs besides the store; `now` is the engine's clock,
    /// `secrets` the master key (it seals agents' passwords).
    pub fn dashboard_settings(
        &self,
        now: outbound_api::Now,
        secrets: SecretBox,
    ) -> outbound_dashboard::DashboardSettings {
        outbound_dashboard::DashboardSettings {
            public_url: self.public_url.clone(),
            now,
            models: self.models.clone(),
            ..outbound_dashboard::DashboardSettings::new(secrets)
        }
    }

    /// The MCP door at `/mcp`, over the in-process `/v1` router.
    fn mcp_mount(&self) -> outbound_api::McpMount {
        let hosts = self.mcp_hosts();
        Arc::new(move |door| outbound_mcp::http::service(outbound_mcp::RestDoor::new(door), &hosts))
    }

    /// The hosts `/mcp` answers: loopback, `mcp_allowed_hosts` and the host of `public_url`;
    /// any host when `mcp_allowed_hosts` holds `*`.
    pub fn mcp_hosts(&self) -> outbound_mcp::AllowedHosts {
        if self.mcp_allowed_hosts.iter().any(|host| host == "*") {
            return outbound_mcp::AllowedHosts::Any;
        }
        let public_host = self
            .public_url
            .as_deref()
            .and_then(|url| url::Url::parse(url).ok())
            .and_then(|url| url.host_str().map(str::to_owned));
        outbound_mcp::AllowedHosts::These(
            self.mcp_allowed_hosts
                .iter()
                .cloned()
                .chain(public_host)
                .collect(),
        )
    }

    /// The master key: the configured one; else, for SQLite on a file, the one in
    /// `<database file>.key` (generated and written there, mode 0600, on first use); else, for
    /// an in-memory SQLite database, an ephemeral one. PostgreSQL requires a configured key.
    pub fn secret_box(&self) -> Result<SecretBox> {
        if let Some(key) = &self.secret_key {
            return SecretBox::from_encoded_key(key.expose()).context("invalid `secret_key`");
        }
        if outbound_store::is_postgres_url(&self.database_url) {
            bail!(
                "OUTBOUND_SECRET_KEY is required with PostgreSQL: every server process sharing the \
                 database must encrypt with the same master key. Set OUTBOUND_SECRET_KEY (or \
                 `secret_key` in the configuration file) to 32 random bytes written as 64 hex \
                 characters, e.g. the output of `openssl rand -hex 32`"
            );
        }
        match sqlite_file_path(&self.database_url) {
            Some(database) => load_or_create_key_file(&key_file_path(&database)),
            None => {
                tracing::info!(
                    "in-memory database and no secret key configured: using an ephemeral key"
                );
                SecretBox::from_encoded_key(&SecretBox::generate_encoded_key())
                    .context("cannot use a freshly generated secret key")
            }
        }
    }
}

/// `true`/`false` and their usual spellings (`1`/`0`, `yes`/`no`, `on`/`off`).
fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The value of the variable `name`, unless it is unset or blank.
fn non_empty(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|value| !value.trim().is_empty())
}

/// Checks a user's model list and puts the offline `template` model back when it is missing.
fn checked_models(mut models: Vec<ModelSpec>) -> Result<Vec<ModelSpec>, String> {
    let mut seen = HashSet::new();
    for model in &models {
        if model.id.trim().is_empty() {
            return Err("a model has an empty `id`".to_owned());
        }
        if model.provider.trim().is_empty() {
            return Err(format!("model `{}` has an empty `provider`", model.id));
        }
        if !seen.insert(model.id.as_str()) {
            return Err(format!("model id `{}` appears twice", model.id));
        }
    }
    if !seen.contains(TEMPLATE_MODEL_ID) {
        let template = default_catalogue()
            .into_iter()
            .find(|model| model.id == TEMPLATE_MODEL_ID)
            .ok_or_else(|| "the default catalogue lacks the `template` model".to_owned())?;
        models.insert(0, template);
    }
    Ok(models)
}

/// `url` with the password of its user info, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// The file behind a SQLite URL (`sqlite://path`, `sqlite:path` or a plain path); `None` for
/// an in-memory database.
pub fn sqlite_file_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty()
        || path == ":memory:"
        || query.split('&').any(|param| param == "mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

/// `<database>.key`.
fn key_file_path(database: &Path) -> PathBuf {
    beside(database, KEY_FILE_SUFFIX)
}

/// `<database><suffix>`: a file that belongs to a SQLite database.
pub(crate) fn beside(database: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(database.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

fn load_or_create_key_file(path: &Path) -> Result<SecretBox> {
    if let Some(secrets) = read_key_file(path)? {
        return Ok(secrets);
    }
    let key = SecretBox::generate_encoded_key();
    match write_new_key_file(path, &key) {
        Ok(()) => {
            tracing::warn!(
                key_file = %path.display(),
                "no secret key configured: generated a master key and wrote it to {}; back it up \
                 together with the database (LinkedIn passwords cannot be decrypted without it), \
                 or set OUTBOUND_SECRET_KEY",
                path.display()
            );
            SecretBox::from_encoded_key(&key).context("cannot use a freshly generated secret key")
        }
        // Another process created it between our read and our write: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path)?
            .ok_or_else(|| anyhow!("secret key file {} vanished", path.display())),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot write the generated secret key to {} (set OUTBOUND_SECRET_KEY instead)",
                path.display()
            )
        }),
    }
}

fn read_key_file(path: &Path) -> Result<Option<SecretBox>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read secret key file {}", path.display()));
        }
    };
    warn_if_readable_by_others(path);
    SecretBox::from_encoded_key(&text)
        .map(Some)
        .map_err(|e| anyhow!("invalid secret key in {}: {e}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & KEY_FILE_LOOSE_BITS != 0
    {
        tracing::warn!(
            key_file = %path.display(),
            "the secret key file is accessible to other users; restrict it with `chmod 600`"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

fn write_new_key_file(path: &Path, key: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(KEY_FILE_MODE);
    }
    let mut file = options.open(path)?;
    writeln!(file, "{key}")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn from_file(text: &str) -> Result<Config> {
        let mut config = Config::default();
        config.apply_toml(text, Path::new("test.toml"))?;
        Ok(config)
    }

    fn unique_dir(label: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "outbound-config-{label}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    #[test]
    fn review_and_withdrawal_delays_are_read_and_checked() {
        let config = Config::default();
        assert_eq!(config.draft_expiry, Duration::from_secs(72 * 3600));
        assert_eq!(
            config.withdraw_invitations_after,
            Duration::from_secs(21 * 86_400)
        );
        let engine = config.engine_config(1);
        assert_eq!(engine.draft_ttl, outbound_core::review::DEFAULT_DRAFT_TTL);
        let file = from_file("draft_expiry_hours = 24\nwithdraw_invitations_after_days = 14")
            .expect("valid");
        assert_eq!(file.engine_config(1).draft_ttl, 24 * 3_600_000);
        assert_eq!(file.engine_config(1).withdraw_after, 14 * 86_400_000);
        for bad in [
            "draft_expiry_hours = 0",
            "withdraw_invitations_after_days = 400",
        ] {
            assert!(from_file(bad).is_err(), "{bad}");
        }
        let mut from_env = Config::default();
        from_env
            .apply_env(env_of(&[("OUTBOUND_DRAFT_EXPIRY_HOURS", "48")]))
            .expect("env");
        assert_eq!(from_env.draft_expiry, Duration::from_secs(48 * 3600));
    }

    #[test]
    fn defaults() {
        let config = Config::default();
        assert_eq!(config.addr, "127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite://outbound.db");
        assert!(config.secret_key.is_none());
        assert_eq!(config.rate_limits, RateLimits::default());
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert!(config.configured_providers().is_empty());
        assert_eq!(config.models, default_catalogue());
        assert!(!config.webhooks_allow_private);
        let secs: Vec<u64> = config
            .webhook_retry_schedule
            .iter()
            .map(Duration::as_secs)
            .collect();
        assert_eq!(secs, [0, 5, 300, 1800, 7200, 18_000, 36_000]);
        assert_eq!(config.webhook_timeout, Duration::from_secs(10));
        assert_eq!(config.webhook_disable_after, 4);
        assert_eq!(config.webhook_config(), WebhookConfig::default());
    }

    #[test]
    fn webhook_keys_from_file_then_env() {
        let mut config = from_file(
            r#"
            webhooks_allow_private = true
            webhook_retry_schedule = [0, 1.5, 60]
            webhook_timeout_secs = 2.5
            webhook_disable_after = 2
            "#,
        )
        .unwrap();
        assert!(config.webhooks_allow_private);
        assert_eq!(
            config.webhook_retry_schedule,
            [
                Duration::ZERO,
                Duration::from_millis(1500),
                Duration::from_secs(60)
            ]
        );
        let webhooks = config.webhook_config();
        assert!(webhooks.allow_private);
        assert_eq!(webhooks.retry.schedule, config.webhook_retry_schedule);
        assert_eq!(webhooks.timeout, Duration::from_millis(2500));
        assert!(webhooks.lease > webhooks.timeout);
        assert_eq!(webhooks.disable_after, 2);

        let text = from_file(r#"webhook_retry_schedule = "0, 5,300""#).unwrap();
        assert_eq!(
            text.webhook_retry_schedule,
            [
                Duration::ZERO,
                Duration::from_secs(5),
                Duration::from_secs(300)
            ]
        );
        let integer = from_file("webhook_timeout_secs = 30").unwrap();
        assert_eq!(integer.webhook_timeout, Duration::from_secs(30));

        config
            .apply_env(env_of(&[
                ("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", "false"),
                ("OUTBOUND_WEBHOOK_RETRY_SCHEDULE", "0,0.05"),
                ("OUTBOUND_WEBHOOK_TIMEOUT_SECS", "3"),
                ("OUTBOUND_WEBHOOK_DISABLE_AFTER", "7"),
            ]))
            .unwrap();
        assert!(!config.webhooks_allow_private);
        assert_eq!(
            config.webhook_retry_schedule,
            [Duration::ZERO, Duration::from_millis(50)]
        );
        assert_eq!(config.webhook_timeout, Duration::from_secs(3));
        assert_eq!(config.webhook_disable_after, 7);

        for (value, expected) in [("TRUE", true), ("1", true), ("yes", true), ("off", false)] {
            let mut config = Config::default();
            config
                .apply_env(env_of(&[("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", value)]))
                .unwrap();
            assert_eq!(config.webhooks_allow_private, expected, "{value}");
        }
    }

    #[test]
    fn invalid_webhook_keys_in_the_file_name_the_key() {
        for (text, key) in [
            (
                "webhook_retry_schedule = \"5,300\"",
                "`webhook_retry_schedule`",
            ),
            ("webhook_retry_schedule = []", "`webhook_retry_schedule`"),
            ("webhook_timeout_secs = -1", "`webhook_timeout_secs`"),
            ("webhook_disable_after = 0", "`webhook_disable_after`"),
        ] {
            let err = format!("{:#}", from_file(text).unwrap_err());
            assert!(err.contains("test.toml"), "{text}: {err}");
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = format!(
            "{:#}",
            from_file("webhooks_allow_private = \"maybe\"").unwrap_err()
        );
        assert!(err.contains("webhooks_allow_private"), "{err}");
    }

    #[test]
    fn file_overrides_defaults() {
        let config = from_file(&format!(
            r#"
            addr = "0.0.0.0:9000"
            database_url = "postgres://db/outbound"
            secret_key = "{HEX_KEY}"
            rate_limits = "off"
            max_body_bytes = 2048
            log_format = "json"

            [providers.openai]
            api_key = "sk-test"

            [providers.ollama]
            base_url = "http://localhost:11434/v1"
            "#
        ))
        .unwrap();
        assert_eq!(config.addr, "0.0.0.0:9000");
        assert_eq!(config.database_url, "postgres://db/outbound");
        assert_eq!(config.secret_key, Some(Secret(HEX_KEY.to_owned())));
        assert_eq!(config.rate_limits, RateLimits::off());
        assert_eq!(config.max_body_bytes, 2048);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.configured_providers(), ["ollama", "openai"]);
    }

    #[test]
    fn a_number_in_the_file_is_a_rate_limit_multiplier() {
        let config = from_file("rate_limits = 2").unwrap();
        assert_eq!(config.rate_limits, RateLimits::parse("2").unwrap());
    }

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let mut config = from_file(
            r#"
            addr = "0.0.0.0:9000"
            database_url = "sqlite://file.db"
            max_body_bytes = 2048
            [providers.openai]
            api_key = "from-file"
            base_url = "https://file.example/v1"
            "#,
        )
        .unwrap();
        config
            .apply_env(env_of(&[
                ("OUTBOUND_ADDR", "127.0.0.1:7000"),
                ("OUTBOUND_DATABASE_URL", "sqlite://env.db"),
                ("OUTBOUND_OPENAI_API_KEY", "from-env"),
                ("OUTBOUND_RATE_LIMITS", "high=120"),
            ]))
            .unwrap();
        assert_eq!(config.addr, "127.0.0.1:7000");
        assert_eq!(config.database_url, "sqlite://env.db");
        assert_eq!(config.max_body_bytes, 2048, "untouched by env");
        assert_eq!(config.rate_limits, RateLimits::parse("high=120").unwrap());
        let openai = &config.providers["openai"];
        assert_eq!(openai.api_key, Some(Secret("from-env".to_owned())));
        assert_eq!(
            openai.base_url.as_deref(),
            Some("https://file.example/v1"),
            "a provider's other field is kept"
        );

        config
            .apply_overrides(Overrides {
                addr: Some("127.0.0.1:0".to_owned()),
                database_url: Some("sqlite://flag.db".to_owned()),
            })
            .unwrap();
        assert_eq!(config.addr, "127.0.0.1:0");
        assert_eq!(config.database_url, "sqlite://flag.db");
    }

    #[test]
    fn load_reads_the_named_file_then_env_then_flags() {
        let dir = unique_dir("load");
        let from_env = dir.join("env.toml");
        let from_flag = dir.join("flag.toml");
        std::fs::write(
            &from_env,
            "addr = \"127.0.0.1:1111\"\nmax_body_bytes = 10\n",
        )
        .unwrap();
        std::fs::write(
            &from_flag,
            "addr = \"127.0.0.1:2222\"\nmax_body_bytes = 20\n",
        )
        .unwrap();
        let env_path = from_env.display().to_string();

        let config = load(
            None,
            Overrides::default(),
            env_of(&[("OUTBOUND_CONFIG", &env_path)]),
        )
        .unwrap();
        assert_eq!(config.addr, "127.0.0.1:1111");
        assert_eq!(config.file.as_deref(), Some(from_env.as_path()));

        let config = load(
            Some(&from_flag),
            Overrides {
                addr: Some("127.0.0.1:3333".to_owned()),
                database_url: None,
            },
            env_of(&[
                ("OUTBOUND_CONFIG", &env_path),
                ("OUTBOUND_MAX_BODY_BYTES", "30"),
            ]),
        )
        .unwrap();
        assert_eq!(config.file.as_deref(), Some(from_flag.as_path()));
        assert_eq!(config.max_body_bytes, 30, "env beats the file");
        assert_eq!(config.addr, "127.0.0.1:3333", "the flag beats the file");

        let missing = dir.join("missing.toml");
        let err = format!(
            "{:#}",
            load(Some(&missing), Overrides::default(), env_of(&[])).unwrap_err()
        );
        assert!(err.contains("missing.toml"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn env_configures_providers() {
        let mut config = Config::default();
        config
            .apply_env(env_of(&[
                ("OUTBOUND_ANTHROPIC_API_KEY", "a"),
                ("OUTBOUND_GEMINI_BASE_URL", "https://gemini.example"),
                ("OUTBOUND_XAI_API_KEY", "x"),
                ("OUTBOUND_OLLAMA_BASE_URL", "http://localhost:11434/v1"),
                ("OUTBOUND_OPENAI_API_KEY", ""),
            ]))
            .unwrap();
        assert_eq!(
            config.configured_providers(),
            ["anthropic", "gemini", "ollama", "xai"]
        );
    }

    #[test]
    fn empty_env_values_count_as_unset() {
        let mut config = Config::default();
        config
            .apply_env(env_of(&[
                ("OUTBOUND_ADDR", ""),
                ("OUTBOUND_SECRET_KEY", "  "),
                ("OUTBOUND_MAX_BODY_BYTES", ""),
            ]))
            .unwrap();
        assert_eq!(config.addr, DEFAULT_ADDR);
        assert!(config.secret_key.is_none());
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn invalid_env_values_name_the_variable() {
        for (var, value, key) in [
            ("OUTBOUND_MAX_BODY_BYTES", "lots", "max_body_bytes"),
            ("OUTBOUND_MAX_BODY_BYTES", "0", "max_body_bytes"),
            ("OUTBOUND_RATE_LIMITS", "fast", "rate_limits"),
            ("OUTBOUND_LOG_FORMAT", "xml", "log_format"),
            ("OUTBOUND_SECRET_KEY", "short", "secret_key"),
            ("OUTBOUND_ADDR", "8080", "addr"),
            (
                "OUTBOUND_WEBHOOKS_ALLOW_PRIVATE",
                "maybe",
                "webhooks_allow_private",
            ),
            (
                "OUTBOUND_WEBHOOK_RETRY_SCHEDULE",
                "5,300",
                "webhook_retry_schedule",
            ),
            (
                "OUTBOUND_WEBHOOK_RETRY_SCHEDULE",
                "0,soon",
                "webhook_retry_schedule",
            ),
            (
                "OUTBOUND_WEBHOOK_RETRY_SCHEDULE",
                "0,-5",
                "webhook_retry_schedule",
            ),
            (
                "OUTBOUND_WEBHOOK_RETRY_SCHEDULE",
                "0,,5",
                "webhook_retry_schedule",
            ),
            (
                "OUTBOUND_WEBHOOK_RETRY_SCHEDULE",
                "0,inf",
                "webhook_retry_schedule",
            ),
            ("OUTBOUND_WEBHOOK_TIMEOUT_SECS", "0", "webhook_timeout_secs"),
            (
                "OUTBOUND_WEBHOOK_TIMEOUT_SECS",
                "ten",
                "webhook_timeout_secs",
            ),
            (
                "OUTBOUND_WEBHOOK_TIMEOUT_SECS",
                "NaN",
                "webhook_timeout_secs",
            ),
            (
                "OUTBOUND_WEBHOOK_TIMEOUT_SECS",
                "100000",
                "webhook_timeout_secs",
            ),
            (
                "OUTBOUND_WEBHOOK_DISABLE_AFTER",
                "0",
                "webhook_disable_after",
            ),
            (
                "OUTBOUND_WEBHOOK_DISABLE_AFTER",
                "2.5",
                "webhook_disable_after",
            ),
        ] {
            let err = Config::default()
                .apply_env(env_of(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{err}");
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
    }

    #[test]
    fn invalid_file_values_name_the_file_and_key() {
        let err = from_file("max_body_bytes = -1").unwrap_err().to_string();
        assert!(err.contains("test.toml"), "{err}");
        assert!(err.contains("`max_body_bytes`"), "{err}");

        let err = from_file("log_format = \"xml\"").unwrap_err().to_string();
        assert!(
            err.contains("test.toml") && err.contains("`log_format`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected() {
        let err = format!("{:#}", from_file("adress = \"127.0.0.1:1\"").unwrap_err());
        assert!(err.contains("test.toml"), "{err}");
        assert!(err.contains("adress"), "{err}");
        assert!(from_file("[providers.openai]\napi_kee = \"x\"").is_err());
    }

    #[test]
    fn models_replace_the_catalogue_and_keep_template() {
        let config = from_file(
            r#"
            [[models]]
            id = "llama"
            name = "Llama 3.1 8B"
            provider = "ollama"
            provider_model = "llama3.1:8b"
            pricing = { input = 0.0, output = 0.0 }
            "#,
        )
        .unwrap();
        let ids: Vec<&str> = config.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, [TEMPLATE_MODEL_ID, "llama"]);
        assert_eq!(config.models[1].pricing.cached, None);
    }

    #[test]
    fn a_user_template_entry_is_kept_as_written() {
        let config = from_file(
            r#"
            [[models]]
            id = "template"
            name = "Canned replies"
            provider = "template"
            provider_model = "template"
            pricing = { input = 0.0, output = 0.0, cached = 0.0 }
            "#,
        )
        .unwrap();
        assert_eq!(config.models.len(), 1);
        assert_eq!(config.models[0].name, "Canned replies");
    }

    #[test]
    fn duplicate_model_ids_are_rejected() {
        let model = r#"
            [[models]]
            id = "m"
            name = "M"
            provider = "openai"
            provider_model = "gpt-5"
            pricing = { input = 1.0, output = 2.0 }
        "#;
        let err = from_file(&format!("{model}{model}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`models`") && err.contains("appears twice"),
            "{err}"
        );
    }

    #[test]
    fn api_settings_mark_configured_providers() {
        let mut config = Config::default();
        config
            .apply_env(env_of(&[("OUTBOUND_OPENAI_API_KEY", "k")]))
            .unwrap();
        let settings = config.api_settings(outbound_api::system_now());
        let gpt5 = settings
            .models
            .get("689f6adb001e16e22378")
            .expect("gpt 5 in catalogue");
        assert!(settings.models.is_active(gpt5));
        let grok = settings
            .models
            .get("689f1e61000b7da834bf")
            .expect("grok in catalogue");
        assert!(!settings.models.is_active(grok));
    }

    const EXAMPLE_FILE: &str = include_str!("../../../outbound.example.toml");

    /// The example file with every commented-out key and table header uncommented.
    fn uncommented_example() -> String {
        EXAMPLE_FILE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.split_once(" = ").is_some_and(|(key, _)| {
                            !key.is_empty()
                                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) =>
                {
                    rest
                }
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_example_file_is_valid_as_shipped_and_uncommented() {
        let shipped = from_file(EXAMPLE_FILE).unwrap();
        let defaults = Config::default();
        assert_eq!(shipped.addr, defaults.addr);
        assert_eq!(shipped.database_url, defaults.database_url);
        assert_eq!(shipped.secret_key, defaults.secret_key);
        assert_eq!(shipped.rate_limits, defaults.rate_limits);
        assert_eq!(shipped.max_body_bytes, defaults.max_body_bytes);
        assert_eq!(shipped.log_format, defaults.log_format);
        assert_eq!(shipped.providers, defaults.providers);
        assert_eq!(shipped.models, defaults.models);
        assert_eq!(shipped.webhook_config(), defaults.webhook_config());

        let text = uncommented_example();
        let config = from_file(&text).unwrap();
        assert!(text.contains("\nlog_format = "), "keys were uncommented");
        assert_eq!(config.rate_limits, RateLimits::off());
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert!(
            text.contains("\nwebhook_disable_after = "),
            "keys were uncommented"
        );
        assert_eq!(
            config.webhook_config(),
            Config::default().webhook_config(),
            "the example shows the webhook defaults"
        );
        assert!(config.secret_key.is_some());
        assert_eq!(
            config.configured_providers(),
            ["anthropic", "gemini", "ollama", "openai", "xai"]
        );
        let ids: Vec<&str> = config.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [TEMPLATE_MODEL_ID, "689f6adb001e16e22378", "llama-local"]
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut config = from_file(&format!(
            r#"
            secret_key = "{HEX_KEY}"
            database_url = "postgres://outbound:hunter2@db:5432/outbound"
            [providers.openai]
            api_key = "sk-very-secret"
            "#
        ))
        .unwrap();
        config.file = Some(PathBuf::from("test.toml"));
        let debug = format!("{config:?}");
        assert!(!debug.contains(HEX_KEY), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("sk-very-secret"), "{debug}");
        assert!(
            debug.contains("postgres://outbound:***@db:5432/outbound"),
            "{debug}"
        );
    }

    #[test]
    fn redacts_urls() {
        assert_eq!(
            redact_url("postgres://u:p@h/db?sslmode=require"),
            "postgres://u:***@h/db?sslmode=require"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://outbound.db"), "sqlite://outbound.db");
        assert_eq!(redact_url("outbound.db"), "outbound.db");
    }

    #[test]
    fn sqlite_paths() {
        let path = |url| sqlite_file_path(url);
        assert_eq!(path("sqlite://outbound.db"), Some("outbound.db".into()));
        assert_eq!(path("sqlite:outbound.db"), Some("outbound.db".into()));
        assert_eq!(path("sqlite:///var/lib/o.db"), Some("/var/lib/o.db".into()));
        assert_eq!(path("sqlite://o.db?mode=rwc"), Some("o.db".into()));
        assert_eq!(path("/tmp/x.db"), Some("/tmp/x.db".into()));
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path(":memory:"), None);
        assert_eq!(path("sqlite://o.db?mode=memory"), None);
        assert_eq!(
            key_file_path(Path::new("/tmp/x.db")),
            PathBuf::from("/tmp/x.db.key")
        );
    }

    #[test]
    fn the_sandbox_ledger_lives_beside_a_sqlite_file_only() {
        let ledger = |url: &str| {
            Config {
                database_url: url.to_owned(),
                ..Config::default()
            }
            .sandbox_ledger_path()
        };
        assert_eq!(
            ledger("sqlite:///var/lib/o.db"),
            Some(PathBuf::from("/var/lib/o.db.sandbox"))
        );
        assert_eq!(ledger("sqlite::memory:"), None);
        assert_eq!(ledger("postgres://postgres@127.0.0.1/outbound"), None);
    }

    #[test]
    fn postgres_requires_a_secret_key() {
        let mut config = Config {
            database_url: "postgres://postgres@127.0.0.1/outbound".to_owned(),
            ..Config::default()
        };
        let err = config.secret_box().unwrap_err().to_string();
        assert!(err.contains("OUTBOUND_SECRET_KEY"), "{err}");
        assert!(err.contains("PostgreSQL"), "{err}");

        config.secret_key = Some(Secret(HEX_KEY.to_owned()));
        assert!(config.secret_box().is_ok());
    }

    #[test]
    fn in_memory_sqlite_gets_an_ephemeral_key() {
        let config = Config {
            database_url: "sqlite::memory:".to_owned(),
            ..Config::default()
        };
        assert!(config.secret_box().is_ok());
    }

    #[test]
    fn sqlite_key_file_is_generated_once_and_reused() {
        let dir = unique_dir("keyfile");
        let database = dir.join("outbound.db");
        let config = Config {
            database_url: format!("sqlite://{}", database.display()),
            ..Config::default()
        };

        let first = config.secret_box().unwrap();
        let key_file = dir.join("outbound.db.key");
        let written = std::fs::read_to_string(&key_file).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, KEY_FILE_MODE);
        }

        let second = config.secret_box().unwrap();
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), written);
        let sealed = first.seal("linkedin password");
        assert_eq!(second.open(&sealed).unwrap(), "linkedin password");

        std::fs::write(&key_file, "not a key").unwrap();
        let err = config.secret_box().unwrap_err().to_string();
        assert!(err.contains("outbound.db.key"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
