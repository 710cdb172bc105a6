//! `outbound teams`: create, list and change teams (tenants).
//!
//! Rule: each command prints only its value on stdout (a team id, or one tab-separated line
//! per team) and runs the migrations first, so it works on a fresh database; an unknown team
//! is an error with a non-zero exit code.

use anyhow::{Result, anyhow};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Subcommand, ValueEnum};
use outbound_core::plan::Plan;
use outbound_store::StoreError;
use outbound_store::teams::TeamChanges;

use super::{checked_name, connect_migrated, field, print_lines};
use crate::config::Config;

/// The plan of a team created without `--plan`.
const DEFAULT_PLAN: &str = "unlimited";

/// Parses `--plan`, listing the plans in help and errors.
pub fn plan_parser() -> impl TypedValueParser<Value = Plan> {
    PossibleValuesParser::new(Plan::ALL.map(Plan::as_str)).try_map(|name| name.parse::<Plan>())
}

/// Whether a team's subscription is paid up; an inactive team's keys are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Subscription {
    Active,
    Inactive,
}

#[derive(Debug, Subcommand)]
pub enum TeamsCommand {
    /// Create a team and print its id
    ///
    /// Prints only the new team's id on stdout. The team has no API key yet: create one with
    /// `outbound keys create --team ID`.
    Create {
        /// The team's name
        #[arg(long)]
        name: String,
        /// The team's plan, which sets its quotas of agents, campaigns and products
        #[arg(long, default_value = DEFAULT_PLAN, value_parser = plan_parser())]
        plan: Plan,
    },
    /// List the teams, one per line
    ///
    /// Prints one line per team on stdout: `id<TAB>name<TAB>plan<TAB>active|inactive`, oldest
    /// first.
    List,
    /// Change a team's plan or subscription state and print its id
    ///
    /// Give `--plan`, `--subscription` or both. Prints the team id on stdout; fails when the
    /// team does not exist. A team whose subscription is inactive gets 403 on every request.
    #[command(group(
        ArgGroup::new("change").args(["plan", "subscription"]).required(true).multiple(true)
    ))]
    Set {
        /// The id of the team to change
        #[arg(long, value_name = "ID")]
        team: String,
        /// The new plan
        #[arg(long, value_parser = plan_parser())]
        plan: Option<Plan>,
        /// The new subscription state
        #[arg(long, value_enum)]
        subscription: Option<Subscription>,
    },
}

pub async fn run(config: &Config, command: TeamsCommand) -> Result<()> {
    match command {
        TeamsCommand::Create { name, plan } => {
            let name = checked_name("team", &name)?;
            let store = connect_migrated(config).await?;
            let team = store.create_team(&name, plan).await?;
            eprintln!(
                "Created team `{}` on plan {}. Create its first API key with:\n  outbound keys create --team {}",
                team.name, team.plan, team.id
            );
            print_lines([team.id])
        }
        TeamsCommand::List => {
            let store = connect_migrated(config).await?;
            let teams = store.list_teams().await?;
            if teams.is_empty() {
                eprintln!("No teams yet.");
            }
            print_lines(teams.iter().map(|team| {
                let state = if team.subscription_active {
                    "active"
                } else {
                    "inactive"
                };
                format!("{}\t{}\t{}\t{state}", team.id, field(&team.name), team.plan)
            }))
        }
        TeamsCommand::Set {
            team,
            plan,
            subscription,
        } => {
            let store = connect_migrated(config).await?;
            let changes = TeamChanges {
                plan,
                subscription_active: subscription.map(|s| s == Subscription::Active),
            };
            let updated = store
                .update_team(&team, changes)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => anyhow!("no team with id `{team}`"),
                    other => other.into(),
                })?;
            let state = if updated.subscription_active {
                "active"
            } else {
                "inactive"
            };
            eprintln!(
                "Team `{}` is on plan {} with an {state} subscription.",
                updated.name, updated.plan
            );
            print_lines([updated.id])
        }
    }
}
