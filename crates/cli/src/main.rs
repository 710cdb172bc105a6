//! `outbound`: the command-line entry point of the Outbound server.
//!
//! Rule: `main` only parses the command line, loads the configuration, starts logging and
//! dispatches to a command in [`commands`]; configuration lives in [`config`]. Logs go to
//! stderr; stdout carries only command results. Any error is printed once, with its causes, as
//! `error: …`, and the exit code is 1 (2 for a command-line usage error).

mod commands;
mod config;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use commands::demo::DemoArgs;
use commands::keys::KeysCommand;
use commands::serve::ServeArgs;
use commands::simulate::SimulateArgs;
use commands::teams::TeamsCommand;
use commands::unipile::UnipileCommand;
use config::{LogFormat, Overrides};

const ABOUT: &str =
    "Outbound: a self-hostable AI SDR server, wire-compatible with the Kakiyo API v1";

const LONG_ABOUT: &str = "\
Outbound: a self-hostable AI SDR server, wire-compatible with the Kakiyo API v1.

Every client written for the Kakiyo public API (the n8n node, MCP clients, scripts, CRMs) works
against Outbound by changing its base URL.

Configuration is layered, a later layer winning: compiled-in defaults, then the TOML file
(--config FILE, or ./outbound.toml when it exists), then OUTBOUND_* environment variables, then
command-line flags. See outbound.example.toml for every key. Logs go to stderr (level from
RUST_LOG, default `info`); commands print only their result on stdout.

Quick start:
  outbound serve            # first start prints `API key: ...` once
  outbound demo             # watch a campaign run on the sandbox, no JSON to write
  open http://127.0.0.1:8080/app  # the dashboard: sign in with the key
  curl -H \"Authorization: Bearer $KEY\" http://127.0.0.1:8080/v1/verify";

#[derive(Debug, Parser)]
#[command(name = "outbound", version, about = ABOUT, long_about = LONG_ABOUT)]
struct Cli {
    /// Configuration file (TOML) [env: OUTBOUND_CONFIG] [default: ./outbound.toml when it
    /// exists]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Database URL: postgres://… for PostgreSQL, otherwise SQLite (sqlite://FILE, a plain path,
    /// or sqlite::memory:) [env: OUTBOUND_DATABASE_URL] [default: sqlite://outbound.db]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API server and the background work
    ///
    /// Connects to the database, applies pending migrations and serves the Kakiyo-compatible
    /// API until SIGINT or SIGTERM, letting in-flight requests finish; the outreach engine,
    /// the webhook dispatcher, imports and Sales Navigator searches run in the same process.
    /// On a database without teams, the first start creates team `default` (plan unlimited)
    /// with one API key and prints `API key: <key>` on stdout; that key is shown only this
    /// once.
    Serve(ServeArgs),
    /// Watch a whole campaign run on the sandbox, from the terminal
    ///
    /// Serves a throwaway database (removed on exit) with the sandbox LinkedIn network, the
    /// offline template model and an accelerated clock; creates a product, a prompt, an agent,
    /// a campaign and eight prospects through the API, printing each call, then tells what
    /// happens to each conversation — invitations, acceptances, messages, replies, verdicts —
    /// within about two minutes. The API (and its key) stays open for your own calls until
    /// Ctrl-C.
    Demo(DemoArgs),
    /// Serve the MCP tools on stdin/stdout, for a local AI assistant
    ///
    /// The 42 tools of Kakiyo's MCP server (campaigns, prospects, agents, analytics, webhooks,
    /// Do-Not-Contact, workspaces), each one call of the REST API, acting with the key in
    /// OUTBOUND_API_KEY. `outbound serve` also answers MCP over HTTP at /mcp. The outreach
    /// itself runs where `serve` or `worker` runs on the same database.
    Mcp,
    /// Run the background work only, without the HTTP API
    ///
    /// The outreach engine, webhook delivery, imports and Sales Navigator searches. For
    /// scaling API processes and workers apart: any number of `outbound worker` and
    /// `outbound serve` processes can share one database (use PostgreSQL beyond one machine)
    /// and the same master key. Runs until SIGINT or SIGTERM, finishing the attempts in flight.
    Worker,
    /// Run the outreach engine for simulated days and audit it
    ///
    /// Creates agents, a product, a prompt with follow-ups, campaigns and prospects in a
    /// temporary SQLite database, runs the real engine on the sandbox LinkedIn network and the
    /// offline template model with a simulated clock, and reports the funnel and the rules
    /// broken (daily and weekly limits, working hours, DNC, duplicate sends, follow-ups after a
    /// reply, messages while paused), counted by an auditor independent of the scheduler. The
    /// same seed gives the same report; `--json` prints it as one JSON object on stdout.
    Simulate(SimulateArgs),
    /// Apply pending database migrations
    ///
    /// Brings the database schema up to date and exits. Idempotent. `serve`, `teams` and
    /// `keys` migrate too; use this to migrate ahead of a deployment.
    Migrate,
    /// Copy a live SQLite database to FILE, consistently
    ///
    /// One snapshot of the database (SQLite's VACUUM INTO) while the server keeps running,
    /// with the master key file and the sandbox's ledger beside it (FILE.key, FILE.sandbox).
    /// Prints FILE. PostgreSQL: use pg_dump.
    Backup {
        /// The backup to write (must not exist)
        file: PathBuf,
    },
    /// Put a backup back in place of the configured SQLite database
    ///
    /// Checks the backup, then replaces the database (and its key and ledger files) with it.
    /// Stop the server first.
    Restore {
        /// The backup written by `outbound backup`
        file: PathBuf,
        /// Replace an existing database
        #[arg(long)]
        force: bool,
    },
    /// Create, list and change teams
    ///
    /// A team is a tenant: every API key, agent, campaign and prospect belongs to one. Each
    /// command prints only its result on stdout, for scripts.
    Teams {
        #[command(subcommand)]
        command: TeamsCommand,
    },
    /// Create, list and revoke API keys
    ///
    /// Keys are 40 characters, shown once at creation and stored only as their SHA-256. Each
    /// command prints only its result on stdout, for scripts.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Connect Unipile (the real LinkedIn connector) to this server
    Unipile {
        #[command(subcommand)]
        command: UnipileCommand,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let overrides = Overrides {
        addr: match &cli.command {
            Command::Serve(args) => args.addr.clone(),
            Command::Demo(args) => args.addr.clone(),
            _ => None,
        },
        database_url: cli.database_url,
    };
    let config = config::load(cli.config.as_deref(), overrides, |name| {
        std::env::var(name).ok()
    })?;
    // The demo tells its story on stderr; the access log would drown it.
    let default_level = match cli.command {
        Command::Demo(_) => LevelFilter::WARN,
        _ => LevelFilter::INFO,
    };
    init_logging(config.log_format, default_level)?;
    if let Some(file) = &config.file {
        tracing::debug!(file = %file.display(), "configuration file read");
    }
    tracing::debug!(?config, "configuration");

    match cli.command {
        Command::Serve(args) => {
            let options = commands::serve::ServeOptions {
                time_scale: args.time_scale,
                ..Default::default()
            };
            commands::serve::run(&config, options).await
        }
        Command::Demo(args) => commands::demo::run(&config, args).await,
        Command::Mcp => commands::mcp::run(&config).await,
        Command::Worker => commands::worker::run(&config).await,
        Command::Simulate(args) => commands::simulate::run(args).await,
        Command::Migrate => commands::migrate::run(&config).await,
        Command::Backup { file } => commands::backup::backup(&config, &file).await,
        Command::Restore { file, force } => commands::backup::restore(&config, &file, force).await,
        Command::Teams { command } => commands::teams::run(&config, command).await,
        Command::Keys { command } => commands::keys::run(&config, command).await,
        Command::Unipile { command } => commands::unipile::run(&config, command).await,
    }
}

/// Logs to stderr in `format`, at the level of `RUST_LOG` (default `default_level`).
fn init_logging(format: LogFormat, default_level: LevelFilter) -> Result<()> {
    let filter = EnvFilter::builder()
        .with_default_directive(default_level.into())
        .from_env()
        // The error's sources repeat its message: show it once.
        .map_err(|e| anyhow::anyhow!("invalid RUST_LOG: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Pretty => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}
