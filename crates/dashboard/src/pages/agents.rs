//! Agents: the health of each LinkedIn account — status, alerts, next task, today's invitations
//! and messages against their limits, the warm-up day, the rolling month's invitations against
//! the cap — its working hours and limits, and the forms that add an agent, give it its
//! credentials, submit LinkedIn's verification code, pause and resume it.
//!
//! Rule: each form is the store call of its `/v1` twin (`create_agent` within the plan's quota,
//! `transition_agent` with `Setup` / `Pause` / `Resume`, `queue_verification_code`), checked by
//! the same core rules (`check_credentials`, `is_verification_code`); passwords and codes are
//! sealed with the server's master key before they reach the store and are never shown again.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::agent::{
    AgentEvent, AgentStatus, check_credentials, check_daily_limits, check_working_hours,
    is_verification_code,
};
use outbound_core::plan::Quota;
use outbound_core::time::{Millis, now_millis};
use outbound_core::validation::{FieldError, Problems};
use outbound_store::StoreError;
use outbound_store::agents::{
    Agent, AgentChange, AgentSettingsPatch, LimitsPatch, WorkingHoursPatch,
};
use serde::Deserialize;
use std::collections::HashMap;

use super::{done, form_status, wants_fragment};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, render, render_status, until, url_escape};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/agents", get(list).post(create))
        .route("/agents/{id}", get(detail))
        .route("/agents/{id}/setup", post(setup))
        .route("/agents/{id}/settings", post(save_settings))
        .route("/agents/{id}/code", post(code))
        .route("/agents/{id}/pause", post(pause))
        .route("/agents/{id}/resume", post(resume))
}

/// One figure against its limit.
struct Gauge {
    label: &'static str,
    value: i64,
    max: i64,
    text: String,
}

/// An agent as the pages show it.
struct AgentView {
    id: String,
    name: String,
    status: &'static str,
    status_label: &'static str,
    login: String,
    country: String,
    alerts: Vec<(String, String)>,
    next_task: String,
    gauges: Vec<Gauge>,
    warmup: String,
    hours: String,
    limits: String,
    form: SettingsForm,
    can_pause: bool,
    can_resume: bool,
    needs_code: bool,
    needs_setup: bool,
}

fn status_label(status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::SetupNeeded => "Needs credentials",
        AgentStatus::AuthNeeded => "Needs verification",
        AgentStatus::AuthInProgress => "Logging in",
        AgentStatus::Running => "Running",
        AgentStatus::Paused => "Paused",
        AgentStatus::Disabled => "Disabled",
        AgentStatus::Ended => "Ended",
    }
}

/// The working days of a `1:1:1:1:1:0:0` mask, Monday first.
fn days_text(mask: &str) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let days: Vec<&str> = mask
        .split(':')
        .zip(DAYS)
        .filter(|(on, _)| *on == "1")
        .map(|(_, day)| day)
        .collect();
    if days.is_empty() {
        "no day".to_owned()
    } else {
        days.join(" ")
    }
}

fn view(agent: Agent, now: Millis) -> AgentView {
    let usage = &agent.usage;
    let next = [agent.next_task, usage.next_invitation, usage.next_message]
        .into_iter()
        .flatten()
        .min();
    let gauge = |label, value: i64, max: i64| Gauge {
        label,
        value,
        max: max.max(1),
        text: format!("{value} / {max}"),
    };
    let hours = &agent.working_hours;
    AgentView {
        status: agent.status.as_str(),
        status_label: status_label(agent.status),
        login: agent.login.clone().unwrap_or_default(),
        country: agent.country.clone().unwrap_or_default(),
        alerts: agent
            .alerts
            .iter()
            .map(|a| (a.sub_type.clone(), a.message.clone()))
            .collect(),
        next_task: next.map_or_else(|| "nothing planned".to_owned(), |at| until(at, now)),
        gauges: vec![
            gauge(
                "Invitations today",
                usage.invitations_today,
                usage.invitations_target,
            ),
            gauge(
                "Messages today",
                usage.messages_today,
                usage.messages_target,
            ),
            gauge(
                "Invitations, 7 days",
                usage.invitations_week,
                usage.weekly_invitation_cap,
            ),
            gauge(
                "Invitations, 30 days",
                usage.invitations_month,
                usage.monthly_invitation_cap,
            ),
        ],
        warmup: match (agent.settings.warmup, usage.warmup_day) {
            (true, Some(day)) => format!("day {day} of the warm-up"),
            (true, None) => "warm-up starts on its first working day".to_owned(),
            (false, _) => "off".to_owned(),
        },
        hours: format!(
            "{} · {}–{} (UTC{:+})",
            days_text(&hours.days),
            hours.start,
            hours.stop,
            hours.timezone
        ),
        limits: format!(
            "{}–{} invitations, {}–{} messages a day",
            agent.limits.invitations_min,
            agent.limits.invitations_max,
            agent.limits.messages_min,
            agent.limits.messages_max
        ),
        form: SettingsForm::of(&agent),
        can_pause: agent.status == AgentStatus::Running,
        can_resume: agent.status == AgentStatus::Paused,
        needs_code: agent.status == AgentStatus::AuthNeeded,
        needs_setup: matches!(
            agent.status,
            AgentStatus::SetupNeeded | AgentStatus::AuthNeeded
        ),
        id: agent.id,
        name: agent.name,
    }
}

/// The working hours and limits form, as shown or posted.
#[derive(Debug, Clone, Default)]
struct SettingsForm {
    /// Monday first.
    days: [bool; 7],
    start: String,
    stop: String,
    timezone: String,
    invitations_min: String,
    invitations_max: String,
    messages_min: String,
    messages_max: String,
    skip_in_network: bool,
    invitations_only: bool,
    warmup: bool,
}

impl SettingsForm {
    fn of(agent: &Agent) -> SettingsForm {
        let mut days = [false; 7];
        for (day, flag) in days.iter_mut().zip(agent.working_hours.days.split(':')) {
            *day = flag == "1";
        }
        SettingsForm {
            days,
            start: agent.working_hours.start.clone(),
            stop: agent.working_hours.stop.clone(),
            timezone: agent.working_hours.timezone.to_string(),
            invitations_min: agent.limits.invitations_min.to_string(),
            invitations_max: agent.limits.invitations_max.to_string(),
            messages_min: agent.limits.messages_min.to_string(),
            messages_max: agent.limits.messages_max.to_string(),
            skip_in_network: agent.settings.skip_in_network,
            invitations_only: agent.settings.invitations_only,
            warmup: agent.settings.warmup,
        }
    }

    fn posted(fields: &HashMap<String, String>) -> SettingsForm {
        let field = |name: &str| {
            fields
                .get(name)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let mut days = [false; 7];
        for (i, day) in days.iter_mut().enumerate() {
            *day = fields.contains_key(&format!("day_{i}"));
        }
        SettingsForm {
            days,
            start: field("start"),
            stop: field("stop"),
            timezone: field("timezone"),
            invitations_min: field("invitations_min"),
            invitations_max: field("invitations_max"),
            messages_min: field("messages_min"),
            messages_max: field("messages_max"),
            skip_in_network: fields.contains_key("skip_in_network"),
            invitations_only: fields.contains_key("invitations_only"),
            warmup: fields.contains_key("warmup"),
        }
    }

    /// The days and their labels, for the checkboxes.
    fn day_boxes(&self) -> Vec<(usize, &'static str, bool)> {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        DAYS.iter()
            .enumerate()
            .map(|(i, d)| (i, *d, self.days[i]))
            .collect()
    }

    /// The change it asks for, checked by the rules of `PUT /v1/agents/{id}`.
    fn patch(&self) -> Result<AgentSettingsPatch, Vec<FieldError>> {
        let mut problems = Problems::new();
        let mut number = |field: &str, value: &str| -> Option<i64> {
            let parsed = value.parse().ok();
            if parsed.is_none() {
                problems.add(field, "Must be a whole number");
            }
            parsed
        };
        let timezone = number("workingHours.timezone", &self.timezone);
        let invitations = (
            number("limits.invitationsMin", &self.invitations_min),
            number("limits.invitationsMax", &self.invitations_max),
        );
        let messages = (
            number("limits.messagesMin", &self.messages_min),
            number("limits.messagesMax", &self.messages_max),
        );
        let days = self
            .days
            .iter()
            .map(|on| if *on { "1" } else { "0" })
            .collect::<Vec<_>>()
            .join(":");
        check_working_hours(
            &mut problems,
            Some(&days),
            Some(&self.start),
            Some(&self.stop),
            timezone,
        );
        check_daily_limits(&mut problems, invitations, messages);
        problems.into_result().map(|()| AgentSettingsPatch {
            working_hours: Some(WorkingHoursPatch {
                days: Some(days),
                start: Some(self.start.clone()),
                stop: Some(self.stop.clone()),
                timezone: timezone.and_then(|t| i32::try_from(t).ok()),
                timezone_name: None,
            }),
            limits: Some(LimitsPatch {
                invitations_min: invitations.0,
                invitations_max: invitations.1,
                messages_min: messages.0,
                messages_max: messages.1,
            }),
            skip_in_network: Some(self.skip_in_network),
            invitations_only: Some(self.invitations_only),
            warmup: Some(self.warmup),
            ..AgentSettingsPatch::default()
        })
    }
}

#[derive(Template)]
#[template(path = "agents.html")]
struct ListPage {
    chrome: Chrome,
    agents: Vec<AgentView>,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let agents = state
        .store
        .list_agents(signed.team())
        .await?
        .into_iter()
        .map(|agent| view(agent, state.engine_now()))
        .collect();
    let page = ListPage {
        chrome: Chrome::new(&signed, Section::Agents, "Agents").with_notice(query.done.as_deref()),
        agents,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "agent.html")]
struct DetailPage {
    chrome: Chrome,
    agent: AgentView,
    problems: Vec<FieldError>,
}

async fn save_settings(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let form = SettingsForm::posted(&fields);
    let patch = match form.patch() {
        Ok(patch) => patch,
        Err(problems) => return detail_page(&state, &signed, &id, None, problems).await,
    };
    match state
        .store
        .update_agent_settings(signed.team(), &id, patch)
        .await
    {
        Ok(_) => Ok(done(&agent_path(&id), "agent-saved").into_response()),
        Err(StoreError::Invalid(problems)) => {
            detail_page(&state, &signed, &id, None, problems).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn detail_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    notice: Option<&str>,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let agent = view(
        state.store.get_agent(signed.team(), id).await?,
        state.engine_now(),
    );
    let status = form_status(!problems.is_empty());
    let page = DetailPage {
        chrome: Chrome::new(signed, Section::Agents, agent.name.clone()).with_notice(notice),
        agent,
        problems,
    };
    Ok(render_status(status, &page))
}

#[derive(Template)]
#[template(path = "agent_card.html")]
struct CardFragment {
    agent: AgentView,
}

async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if wants_fragment(&headers) {
        let agent = view(
            state.store.get_agent(signed.team(), &id).await?,
            state.engine_now(),
        );
        return Ok(render(&CardFragment { agent }));
    }
    detail_page(&state, &signed, &id, query.done.as_deref(), Vec::new()).await
}

fn agent_path(id: &str) -> String {
    format!("/app/agents/{}", url_escape(id))
}

async fn create(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    let agent = state
        .store
        .create_agent(signed.team(), signed.session.plan.quota(Quota::Agents))
        .await?;
    Ok(done(&agent_path(&agent.id), "agent-saved").into_response())
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    country: String,
}

async fn setup(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, PageError> {
    let mut problems = Problems::new();
    check_credentials(&mut problems, &form.login, &form.password, &form.country);
    if let Err(problems) = problems.into_result() {
        return detail_page(&state, &signed, &id, None, problems).await;
    }
    let change = AgentChange::Credentials {
        login: form.login.trim().to_owned(),
        country: form.country.trim().to_ascii_uppercase(),
        password_sealed: state.settings.secrets.seal(&form.password),
    };
    state
        .store
        .transition_agent(signed.team(), &id, AgentEvent::Setup, change)
        .await?;
    Ok(done(&agent_path(&id), "agent-saved").into_response())
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn code(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let code = form.code.trim();
    if !is_verification_code(code) {
        let problem = FieldError {
            field: "code".to_owned(),
            message: "The verification code must be 4 to 12 letters or digits".to_owned(),
        };
        return detail_page(&state, &signed, &id, None, vec![problem]).await;
    }
    state
        .store
        .queue_verification_code(
            signed.team(),
            &id,
            &state.settings.secrets.seal(code),
            now_millis(),
        )
        .await?;
    Ok(done(&agent_path(&id), "code-sent").into_response())
}

async fn pause(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state
        .store
        .transition_agent(signed.team(), &id, AgentEvent::Pause, AgentChange::Nothing)
        .await?;
    Ok(done(&agent_path(&id), "agent-paused").into_response())
}

async fn resume(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state
        .store
        .transition_agent(signed.team(), &id, AgentEvent::Resume, AgentChange::Nothing)
        .await?;
    Ok(done(&agent_path(&id), "agent-resumed").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_read_as_names() {
        assert_eq!(days_text("1:1:1:1:1:0:0"), "Mon Tue Wed Thu Fri");
        assert_eq!(days_text("0:0:0:0:0:0:0"), "no day");
    }
}
