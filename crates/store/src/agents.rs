//! Agents (LinkedIn accounts). Status changes go through `outbound_core::agent::next_status`
//! inside the write transaction; settings updates merge with the stored values and are
//! validated as a whole, so a refused change writes nothing.
//!
//! The time zone of the working hours is a whole-hour offset or an IANA name (DST-aware, in
//! `timezone_name`, which then wins over the offset); setting one clears the other. A change of
//! the working hours makes the engine recompute when the agent's local day ends.

use outbound_core::agent::{
    AgentEvent, AgentSettings, AgentStatus, Alert, Limits, Refusal, WorkingHours, next_status,
};
use outbound_core::ids::new_id;
use outbound_core::time::{Millis, now_millis};
use outbound_core::validation::Problems;

use crate::{StoreError, StoreResult};

/// The name of an agent until its LinkedIn login is known.
pub const NEW_AGENT_NAME: &str = "New LinkedIn agent";

/// Today's activity of an agent; the engine keeps it current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentUsage {
    pub invitations_today: i64,
    pub messages_today: i64,
    pub invitations_target: i64,
    pub messages_target: i64,
    pub next_invitation: Option<Millis>,
    pub next_message: Option<Millis>,
    /// Today's day of the warm-up (1-based), while the agent ramps up or after.
    pub warmup_day: Option<i64>,
    /// Invitations of the last 7 and 30 days, and the caps on them.
    pub invitations_week: i64,
    pub weekly_invitation_cap: i64,
    pub invitations_month: i64,
    pub monthly_invitation_cap: i64,
}

/// Span of the monthly invitation cap: a rolling 30 days.
pub const MONTH: Millis = 30 * 24 * 60 * 60 * 1000;
/// Span of the weekly invitation cap.
pub const WEEK: Millis = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub status: AgentStatus,
    pub login: Option<String>,
    pub country: Option<String>,
    pub avatar: Option<String>,
    pub working_hours: WorkingHours,
    /// The IANA time zone of the working hours, when one was given instead of an offset.
    pub timezone_name: Option<String>,
    pub limits: Limits,
    pub settings: AgentSettings,
    pub alerts: Vec<Alert>,
    pub usage: AgentUsage,
    pub next_task: Option<Millis>,
    pub created_at: Millis,
}

/// A partial change of working hours; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct WorkingHoursPatch {
    pub days: Option<String>,
    pub start: Option<String>,
    pub stop: Option<String>,
    /// Offset from UTC in whole hours (clears the IANA zone).
    pub timezone: Option<i32>,
    /// An IANA zone name, already checked (wins over `timezone`); the stored offset becomes its
    /// current offset, for readers that know only offsets.
    pub timezone_name: Option<(String, i32)>,
}

/// A partial change of the daily ranges; `None` keeps the stored value.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitsPatch {
    pub invitations_min: Option<i64>,
    pub invitations_max: Option<i64>,
    pub messages_min: Option<i64>,
    pub messages_max: Option<i64>,
}

/// `PUT /agents/{id}`: every section optional.
#[derive(Debug, Clone, Default)]
pub struct AgentSettingsPatch {
    pub working_hours: Option<WorkingHoursPatch>,
    pub limits: Option<LimitsPatch>,
    pub skip_in_network: Option<bool>,
    pub invitations_only: Option<bool>,
    pub warmup: Option<bool>,
    /// Invitations per rolling 7 and 30 days.
    pub weekly_invitation_cap: Option<i64>,
    pub monthly_invitation_cap: Option<i64>,
}

/// What else changes with a status transition.
#[derive(Debug, Clone)]
pub enum AgentChange {
    Nothing,
    /// `setup`: new credentials (the password already sealed); clears alerts.
    Credentials {
        login: String,
        country: String,
        password_sealed: String,
    },
    /// `relaunch`: forget credentials, alerts and schedule.
    Reset,
    /// Something needs the user (a verification code, new credentials): add an alert.
    RaiseAlert(Alert),
}

#[async_trait::async_trait]
pub trait AgentStore {
    /// The team's agents, newest first.
    async fn list_agents(&self, team: &str) -> StoreResult<Vec<Agent>>;
    /// A new agent in `setup_needed`, unless the team has `quota` agents already.
    async fn create_agent(&self, team: &str, quota: Option<u32>) -> StoreResult<Agent>;
    async fn get_agent(&self, team: &str, id: &str) -> StoreResult<Agent>;
    async fn update_agent_settings(
        &self,
        team: &str,
        id: &str,
        patch: AgentSettingsPatch,
    ) -> StoreResult<Agent>;
    /// Applies `event` (and `change`) when the agent's status allows it.
    async fn transition_agent(
        &self,
        team: &str,
        id: &str,
        event: AgentEvent,
        change: AgentChange,
    ) -> StoreResult<Agent>;
    /// Deletes the agent and its campaigns (see `CampaignStore::delete_campaign`) unless it is
    /// running or logging in ([`StoreError::InvalidStatus`]) or an import into one of its
    /// campaigns is unfinished ([`StoreError::CampaignBusy`]).
    async fn delete_agent(&self, team: &str, id: &str) -> StoreResult<Agent>;
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    name: String,
    status: String,
    login: Option<String>,
    country: Option<String>,
    avatar: Option<String>,
    working_days: String,
    working_start: String,
    working_stop: String,
    timezone_offset: i64,
    timezone_name: Option<String>,
    invitations_min: i64,
    invitations_max: i64,
    messages_min: i64,
    messages_max: i64,
    skip_in_network: bool,
    invitations_only: bool,
    warmup: bool,
    warmup_day: Option<i64>,
    weekly_invitation_cap: i64,
    monthly_invitation_cap: i64,
    invitations_week: i64,
    invitations_month: i64,
    alerts: String,
    invitations_today: i64,
    messages_today: i64,
    invitations_target: i64,
    messages_target: i64,
    next_invitation: Option<i64>,
    next_message: Option<i64>,
    next_task: Option<i64>,
    created_at: i64,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;

    fn try_from(row: AgentRow) -> StoreResult<Agent> {
        Ok(Agent {
            status: stored_status(&row.status)?,
            alerts: stored_alerts(&row.alerts)?,
            working_hours: stored_working_hours(
                row.working_days,
                row.working_start,
                row.working_stop,
                row.timezone_offset,
            )?,
            limits: Limits {
                invitations_min: row.invitations_min,
                invitations_max: row.invitations_max,
                messages_min: row.messages_min,
                messages_max: row.messages_max,
            },
            settings: AgentSettings {
                skip_in_network: row.skip_in_network,
                invitations_only: row.invitations_only,
                warmup: row.warmup,
            },
            usage: AgentUsage {
                warmup_day: row.warmup_day.filter(|_| row.warmup),
                invitations_week: row.invitations_week,
                weekly_invitation_cap: row.weekly_invitation_cap,
                invitations_month: row.invitations_month,
                monthly_invitation_cap: row.monthly_invitation_cap,
                invitations_today: row.invitations_today,
                messages_today: row.messages_today,
                invitations_target: row.invitations_target,
                messages_target: row.messages_target,
                next_invitation: row.next_invitation,
                next_message: row.next_message,
            },
            timezone_name: row.timezone_name,
            id: row.id,
            name: row.name,
            login: row.login,
            country: row.country,
            avatar: row.avatar,
            next_task: row.next_task,
            created_at: row.created_at,
        })
    }
}

/// `SELECT <every agent column> FROM agents`, for `concat!` with a `WHERE` clause.
/// `select_agents!("$w", "$m")`: `$w` and `$m` are the placeholders of the starts of the
/// week and the month the invitation counts cover.
macro_rules! select_agents {
    ($week:literal, $month:literal) => {
        concat!(
        "SELECT id, name, status, login, country, avatar, working_days, working_start, \
         working_stop, timezone_offset, timezone_name, invitations_min, invitations_max, messages_min, \
         messages_max, skip_in_network, invitations_only, warmup, warmup_day, \
         weekly_invitation_cap, monthly_invitation_cap, \
         (SELECT COUNT(*) FROM agent_actions x WHERE x.agent_id = agents.id \
         AND x.kind = 'invitation' AND x.at >= ", $week, ") AS invitations_week, \
         (SELECT COUNT(*) FROM agent_actions x WHERE x.agent_id = agents.id \
         AND x.kind = 'invitation' AND x.at >= ", $month, ") AS invitations_month, \
         alerts, invitations_today, \
         messages_today, invitations_target, messages_target, next_invitation, next_message, \
         next_task, created_at FROM agents"
        )
    };
}

/// `$3`, `$4`: the starts of the week and month counted.
const SELECT_AGENT: &str = concat!(
    select_agents!("$3", "$4"),
    " WHERE team_id = $1 AND id = $2"
);
/// `$2`, `$3`: the starts of the week and month counted.
const LIST_AGENTS: &str = concat!(
    select_agents!("$2", "$3"),
    " WHERE team_id = $1 ORDER BY created_at DESC, id DESC"
);

/// The limits after `patch`, or every rule they break.
fn merge_limits(stored: Limits, patch: LimitsPatch) -> StoreResult<Limits> {
    let merged = Limits {
        invitations_min: patch.invitations_min.unwrap_or(stored.invitations_min),
        invitations_max: patch.invitations_max.unwrap_or(stored.invitations_max),
        messages_min: patch.messages_min.unwrap_or(stored.messages_min),
        messages_max: patch.messages_max.unwrap_or(stored.messages_max),
    };
    let mut problems = Problems::new();
    merged.validate(&mut problems);
    problems.into_result().map_err(StoreError::Invalid)?;
    Ok(merged)
}

/// The working hours and IANA zone after `patch`.
fn merge_working_hours(
    stored: WorkingHours,
    stored_zone: Option<String>,
    patch: WorkingHoursPatch,
) -> (WorkingHours, Option<String>) {
    let (timezone, zone) = match (patch.timezone_name, patch.timezone) {
        (Some((name, offset)), _) => (offset, Some(name)),
        (None, Some(offset)) => (offset, None),
        (None, None) => (stored.timezone, stored_zone),
    };
    let hours = WorkingHours {
        days: patch.days.unwrap_or(stored.days),
        start: patch.start.unwrap_or(stored.start),
        stop: patch.stop.unwrap_or(stored.stop),
        timezone,
    };
    (hours, zone)
}

fn refusal_to_error(refusal: Refusal) -> StoreError {
    match refusal {
        Refusal::InvalidTransition(t) => StoreError::InvalidStatus(t.current),
        Refusal::HasAlerts => StoreError::AgentHasAlerts,
    }
}

/// An agent's status as stored.
pub(crate) fn stored_status(text: &str) -> StoreResult<AgentStatus> {
    text.parse()
        .map_err(|e: outbound_core::agent::UnknownAgentStatus| StoreError::Corrupt(e.to_string()))
}

/// An agent's alerts as stored (a JSON array).
pub(crate) fn stored_alerts(json: &str) -> StoreResult<Vec<Alert>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("agent alerts: {e}")))
}

/// An agent's working hours as stored (the offset in whole hours).
pub(crate) fn stored_working_hours(
    days: String,
    start: String,
    stop: String,
    offset: i64,
) -> StoreResult<WorkingHours> {
    Ok(WorkingHours {
        days,
        start,
        stop,
        timezone: i32::try_from(offset)
            .map_err(|e| StoreError::Corrupt(format!("agent timezone: {e}")))?,
    })
}

/// The starts of the week and the month of invitations an agent's usage counts, at `now`.
fn counted_since(now: Millis) -> (Millis, Millis) {
    (now - WEEK, now - MONTH)
}

/// Alerts as stored.
pub(crate) fn alerts_json(alerts: &[Alert]) -> String {
    serde_json::to_string(alerts).unwrap_or_else(|_| "[]".to_owned())
}

macro_rules! impl_agent_store {
    ($store:ty) => {
        impl $store {
            async fn agent_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Agent> {
                let (week, month) = counted_since(now_millis());
                sqlx::query_as::<_, AgentRow>(SELECT_AGENT)
                    .bind(team)
                    .bind(id)
                    .bind(week)
                    .bind(month)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn save_agent(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                agent: &Agent,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE agents SET name = $3, status = $4, login = $5, country = $6, \
                     working_days = $7, working_start = $8, working_stop = $9, \
                     timezone_offset = $23, invitations_min = $10, invitations_max = $11, messages_min = $12, \
                     messages_max = $13, skip_in_network = $14, invitations_only = $15, \
                     warmup = $25, \
                     alerts = $16, invitations_target = $17, messages_target = $18, \
                     next_invitation = $19, next_message = $20, next_task = $21, updated_at = $22, \
                     timezone_name = $24 WHERE team_id = $1 AND id = $2",
                )
                .bind(team)
                .bind(&agent.id)
                .bind(&agent.name)
                .bind(agent.status.as_str())
                .bind(&agent.login)
                .bind(&agent.country)
                .bind(&agent.working_hours.days)
                .bind(&agent.working_hours.start)
                .bind(&agent.working_hours.stop)
                .bind(agent.limits.invitations_min)
                .bind(agent.limits.invitations_max)
                .bind(agent.limits.messages_min)
                .bind(agent.limits.messages_max)
                .bind(agent.settings.skip_in_network)
                .bind(agent.settings.invitations_only)
                .bind(alerts_json(&agent.alerts))
                .bind(agent.usage.invitations_target)
                .bind(agent.usage.messages_target)
                .bind(agent.usage.next_invitation)
                .bind(agent.usage.next_message)
                .bind(agent.next_task)
                .bind(now_millis())
                .bind(i64::from(agent.working_hours.timezone))
                .bind(&agent.timezone_name)
                .bind(agent.settings.warmup)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl AgentStore for $store {
            async fn list_agents(&self, team: &str) -> StoreResult<Vec<Agent>> {
                let (week, month) = counted_since(now_millis());
                sqlx::query_as::<_, AgentRow>(LIST_AGENTS)
                .bind(team)
                .bind(week)
                .bind(month)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(Agent::try_from)
                .collect()
            }

            async fn create_agent(&self, team: &str, quota: Option<u32>) -> StoreResult<Agent> {
                let mut tx = self.begin_write().await?;
                Self::lock_team(&mut tx, team).await?;
                if let Some(limit) = quota {
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE team_id = $1")
                            .bind(team)
                            .fetch_one(&mut *tx)
                            .await?;
                    if count >= i64::from(limit) {
                        return Err(StoreError::QuotaReached { what: "agents", limit });
                    }
                }
                let id = new_id();
                let now = now_millis();
                let hours = WorkingHours::default();
                let limits = Limits::default();
                let (invitations_target, messages_target) = limits.draw_targets();
                sqlx::query(
                    "INSERT INTO agents (id, team_id, name, status, working_days, working_start, \
                     working_stop, timezone_offset, invitations_min, invitations_max, messages_min, \
                     messages_max, invitations_target, messages_target, created_at, updated_at, \
                     warmup) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, \
                     TRUE)",
                )
                .bind(&id)
                .bind(team)
                .bind(NEW_AGENT_NAME)
                .bind(AgentStatus::SetupNeeded.as_str())
                .bind(&hours.days)
                .bind(&hours.start)
                .bind(&hours.stop)
                .bind(i64::from(hours.timezone))
                .bind(limits.invitations_min)
                .bind(limits.invitations_max)
                .bind(limits.messages_min)
                .bind(limits.messages_max)
                .bind(invitations_target)
                .bind(messages_target)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let agent = Self::agent_in(&mut tx, team, &id).await?;
                tx.commit().await?;
                Ok(agent)
            }

            async fn get_agent(&self, team: &str, id: &str) -> StoreResult<Agent> {
                let (week, month) = counted_since(now_millis());
                sqlx::query_as::<_, AgentRow>(SELECT_AGENT)
                    .bind(team)
                    .bind(id)
                    .bind(week)
                    .bind(month)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .try_into()
            }

            async fn update_agent_settings(
                &self,
                team: &str,
                id: &str,
                patch: AgentSettingsPatch,
            ) -> StoreResult<Agent> {
                let mut tx = self.begin_write().await?;
                let mut agent = Self::agent_in(&mut tx, team, id).await?;
                if let Some(limits) = patch.limits {
                    agent.limits = merge_limits(agent.limits, limits)?;
                    let (invitations, messages) = agent.limits.draw_targets();
                    agent.usage.invitations_target = invitations;
                    agent.usage.messages_target = messages;
                }
                if let Some(hours) = patch.working_hours {
                    let (merged, zone) =
                        merge_working_hours(agent.working_hours, agent.timezone_name.take(), hours);
                    agent.working_hours = merged;
                    agent.timezone_name = zone;
                    // The local day may end at another time now: the engine recomputes it.
                    sqlx::query("UPDATE agents SET day_ends_at = NULL WHERE team_id = $1 AND id = $2")
                        .bind(team)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(skip) = patch.skip_in_network {
                    agent.settings.skip_in_network = skip;
                }
                if let Some(only) = patch.invitations_only {
                    agent.settings.invitations_only = only;
                }
                if let Some(warmup) = patch.warmup {
                    agent.settings.warmup = warmup;
                }
                if patch.weekly_invitation_cap.is_some() || patch.monthly_invitation_cap.is_some() {
                    sqlx::query(
                        "UPDATE agents SET weekly_invitation_cap = COALESCE($3, weekly_invitation_cap), \
                         monthly_invitation_cap = COALESCE($4, monthly_invitation_cap) \
                         WHERE team_id = $1 AND id = $2",
                    )
                    .bind(team)
                    .bind(id)
                    .bind(patch.weekly_invitation_cap)
                    .bind(patch.monthly_invitation_cap)
                    .execute(&mut *tx)
                    .await?;
                    if let Some(cap) = patch.weekly_invitation_cap {
                        agent.usage.weekly_invitation_cap = cap;
                    }
                    if let Some(cap) = patch.monthly_invitation_cap {
                        agent.usage.monthly_invitation_cap = cap;
                    }
                }
                Self::save_agent(&mut tx, team, &agent).await?;
                tx.commit().await?;
                Ok(agent)
            }

            async fn transition_agent(
                &self,
                team: &str,
                id: &str,
                event: AgentEvent,
                change: AgentChange,
            ) -> StoreResult<Agent> {
                let mut tx = self.begin_write().await?;
                let mut agent = Self::agent_in(&mut tx, team, id).await?;
                agent.status =
                    next_status(agent.status, &agent.alerts, event).map_err(refusal_to_error)?;
                if event == AgentEvent::Resume {
                    // A person looked: the circuit breaker's alerts are acknowledged.
                    agent.alerts.retain(|a| !a.is_cleared_by_resume());
                }
                match change {
                    AgentChange::Nothing => {}
                    AgentChange::RaiseAlert(alert) => {
                        // One alert of a kind: raising it again replaces it.
                        agent
                            .alerts
                            .retain(|a| !(a.kind == alert.kind && a.sub_type == alert.sub_type));
                        agent.alerts.push(alert);
                    }
                    AgentChange::Credentials { login, country, password_sealed } => {
                        if agent.login.as_deref() != Some(login.as_str()) {
                            // Another LinkedIn account: the provider's id of the old one goes.
                            sqlx::query(
                                "UPDATE agents SET provider_account_id = NULL \
                                 WHERE team_id = $1 AND id = $2",
                            )
                            .bind(team)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        agent.name = login.clone();
                        agent.login = Some(login);
                        agent.country = Some(country);
                        agent.alerts.clear();
                        sqlx::query(
                            "UPDATE agents SET password_sealed = $3 WHERE team_id = $1 AND id = $2",
                        )
                        .bind(team)
                        .bind(id)
                        .bind(password_sealed)
                        .execute(&mut *tx)
                        .await?;
                    }
                    AgentChange::Reset => {
                        agent.name = NEW_AGENT_NAME.to_owned();
                        agent.login = None;
                        agent.country = None;
                        agent.alerts.clear();
                        agent.usage.next_invitation = None;
                        agent.usage.next_message = None;
                        agent.next_task = None;
                        sqlx::query(
                            "UPDATE agents SET password_sealed = NULL, avatar = NULL, \
                             provider_account_id = NULL WHERE team_id = $1 AND id = $2",
                        )
                        .bind(team)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        agent.avatar = None;
                    }
                }
                Self::save_agent(&mut tx, team, &agent).await?;
                tx.commit().await?;
                Ok(agent)
            }

            async fn delete_agent(&self, team: &str, id: &str) -> StoreResult<Agent> {
                let mut tx = self.begin_write().await?;
                let agent = Self::agent_in(&mut tx, team, id).await?;
                agent
                    .status
                    .allows_delete()
                    .map_err(|t| StoreError::InvalidStatus(t.current))?;
                // The agent's campaigns go with it, each with everything that belongs to it
                // only; not while an import into one of them is unfinished.
                let campaigns = Self::agent_campaigns_in(&mut tx, team, id).await?;
                Self::ensure_agent_campaigns_idle_in(&mut tx, team, id).await?;
                for campaign in &campaigns {
                    Self::purge_campaign_in(&mut tx, team, campaign).await?;
                }
                sqlx::query("DELETE FROM agents WHERE team_id = $1 AND id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(agent)
            }
        }
    };
}

impl_agent_store!(crate::sqlite::SqliteStore);
impl_agent_store!(crate::postgres::PgStore);
