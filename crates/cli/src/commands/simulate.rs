//! `outbound simulate`: runs the whole outreach engine for simulated days and reports the funnel
//! and the auditor's violations.
//!
//! Rule: the run is self-contained and reproducible — a temporary SQLite database (removed
//! afterwards), the sandbox connector and the template model, a simulated clock; the same
//! `--seed` gives the same report. With `--json`, stdout carries exactly one JSON object;
//! the progress bar and the timing go to stderr.

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use outbound_core::review::ReviewMode;
use outbound_engine::outreach::simulation::{Report, Simulation, SimulationConfig};

use super::TempDir;
use std::time::Instant;

/// Tasks per engine batch in a simulation.
const BATCH: usize = 500;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Simulated days
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub days: u32,
    /// LinkedIn agents, one campaign each
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub agents: u32,
    /// Prospects, spread evenly over the agents' campaigns
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub prospects: u32,
    /// Seed of the simulated network and of the engine: the same seed gives the same report
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Print the report as one JSON object on stdout
    #[arg(long)]
    pub json: bool,
    /// Review mode of every campaign: the AI's messages wait for a (simulated) person
    #[arg(long, value_enum, default_value_t = ReviewArg::Off)]
    pub review_mode: ReviewArg,
    /// With a review mode: a simulated person approves each draft this many minutes after it
    /// was written (without it, nobody approves and drafts expire)
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub auto_approve_after: Option<u32>,
}

/// `--review-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewArg {
    /// The AI's messages go out as written
    Off,
    /// The first message of each conversation waits
    #[value(name = "first_message")]
    FirstMessage,
    /// Every AI message waits
    All,
}

impl From<ReviewArg> for ReviewMode {
    fn from(arg: ReviewArg) -> Self {
        match arg {
            ReviewArg::Off => ReviewMode::Off,
            ReviewArg::FirstMessage => ReviewMode::FirstMessage,
            ReviewArg::All => ReviewMode::All,
        }
    }
}

/// Milliseconds in a minute, for `--auto-approve-after`.
const MINUTE_MS: i64 = 60_000;

pub async fn run(args: SimulateArgs) -> Result<()> {
    let dir = TempDir::new("outbound-simulate")?;
    let url = format!("sqlite://{}", dir.path().join("simulation.db").display());
    let store = outbound_store::connect(&url)
        .await
        .context("cannot create the simulation database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the simulation database")?;

    let config = SimulationConfig {
        days: args.days,
        agents: args.agents,
        prospects: args.prospects,
        seed: args.seed,
        batch: BATCH,
        review_mode: args.review_mode.into(),
        auto_approve_after: args
            .auto_approve_after
            .map(|minutes| i64::from(minutes) * MINUTE_MS),
        ..SimulationConfig::default()
    };
    let bar = ProgressBar::new(u64::from(args.days));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] day {pos}/{len} ({elapsed})")
            .context("progress bar")?
            .progress_chars("=> "),
    );
    bar.set_message("preparing");
    let prepared = Instant::now();
    let simulation = Simulation::prepare(store, config)
        .await
        .context("cannot prepare the simulation")?;
    let setup = prepared.elapsed();
    bar.set_message("simulating");
    let started = Instant::now();
    let report = simulation
        .run(|progress| {
            bar.set_position(u64::from(progress.day));
            bar.set_message(format!("{} tasks", progress.tasks));
        })
        .await
        .context("the simulation failed")?;
    let elapsed = started.elapsed();
    bar.finish_and_clear();

    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    #[expect(clippy::cast_precision_loss, reason = "a rate for people")]
    let rate = report.engine_tasks as f64 / seconds;
    eprintln!(
        "setup {:.1}s; simulation {:.1}s: {} engine tasks ({:.0}/s), {} connector calls",
        setup.as_secs_f64(),
        seconds,
        report.engine_tasks,
        rate,
        report.connector_calls
    );
    if args.json {
        let json = serde_json::to_string(&report).context("cannot encode the report")?;
        super::print_lines([json])
    } else {
        super::print_lines(human(&report))
    }
}

/// The report for people, one line per figure.
fn human(report: &Report) -> Vec<String> {
    let f = &report.funnel;
    let v = &report.violations;
    let mut lines = vec![
        format!(
            "Simulated {} days, {} agents, {} prospects (seed {})",
            report.days, report.agents, report.prospects, report.seed
        ),
        format!("invitations sent        {}", f.invitations_sent),
        format!("invitations accepted    {}", f.invitations_accepted),
        format!("messages sent           {}", f.messages_sent),
        format!("  of which follow-ups   {}", f.followups_sent),
        format!("replies received        {}", f.replies_received),
        format!("qualified               {}", f.qualified),
        format!("need verification       {}", f.need_verification),
        format!("unqualified             {}", f.unqualified),
        format!("skipped (DNC)           {}", f.skipped_dnc),
        format!("campaigns completed     {}", report.campaigns_completed),
        format!("drafts approved         {}", report.drafts_approved),
        "violations:".to_owned(),
    ];
    for (name, count) in [
        ("daily_limit", v.daily_limit),
        ("weekly_limit", v.weekly_limit),
        ("working_hours", v.working_hours),
        ("dnc_contacted", v.dnc_contacted),
        ("duplicate_send", v.duplicate_send),
        ("followup_after_reply", v.followup_after_reply),
        ("paused_messaged", v.paused_messaged),
        ("monthly_limit", v.monthly_limit),
        ("warmup", v.warmup),
        ("sent_without_approval", v.sent_without_approval),
        ("ai_after_takeover", v.ai_after_takeover),
    ] {
        lines.push(format!("  {name:<22}{count}"));
    }
    lines.push(if v.total() == 0 {
        "no violation".to_owned()
    } else {
        format!("{} VIOLATIONS", v.total())
    });
    lines
}
