//! Agents: list, create, details with usage and alerts, settings, setup, pause, resume, delete,
//! relaunch, and the verification code of a login (our extension). Status rules live in
//! `outbound_core::agent`; a refused transition is 400 `invalid_status` with `currentStatus`.
//!
//! `workingHours.timezone` is a whole-hour offset or an IANA name (DST-aware); responses always
//! show an integer offset (for an IANA zone, its offset now) and add `timezoneName`.
//! The LinkedIn login itself is the engine's work: `setup` leaves the agent `auth_in_progress`
//! and the engine logs it in; a verification code is queued for the engine likewise.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use outbound_core::agent::{
    AgentEvent, AgentStatus, Alert, WorkingHours, check_credentials, check_daily_limits,
    check_working_hours, is_verification_code,
};
use outbound_core::plan::Quota;
use outbound_core::schedule::Zone;
use outbound_core::time::{iso8601, now_millis};
use outbound_core::validation::Problems;
use outbound_store::agents::{
    Agent, AgentChange, AgentSettingsPatch, LimitsPatch, WorkingHoursPatch,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, Tenant};

const AGENT_NOT_FOUND: &str = "Agent not found";
/// Bounds of the weekly and monthly invitation caps (our extension).
const WEEKLY_CAP_RANGE: (i64, i64) = (1, 700);
const MONTHLY_CAP_RANGE: (i64, i64) = (1, 3000);

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    id: String,
    name: String,
    status: AgentStatus,
    /// The LinkedIn login (email).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    login: Option<String>,
    /// Two-letter country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_task: Option<String>,
    alerts: Vec<Alert>,
}

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> Self {
        AgentView {
            id: a.id.clone(),
            name: a.name.clone(),
            status: a.status,
            login: a.login.clone(),
            country: a.country.clone(),
            avatar: a.avatar.clone(),
            next_task: a.next_task.map(iso8601),
            alerts: a.alerts.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Invitations sent today.
    invitations: i64,
    /// Today's invitation target.
    invitations_daily: i64,
    /// Messages sent today.
    messages: i64,
    /// Today's message target.
    messages_daily: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_invitation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    next_message: Option<String>,
    working_hours: WorkingHoursView,
    /// Our extension: today's day of the warm-up (1–3: 15–20 invitations, 4–7: 25–30, then
    /// the configured range, never above 40), when warm-up is on and the agent has run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    warmup_day: Option<i64>,
    /// Our extension: invitations of the last 7 days and the weekly cap.
    invitations_week: i64,
    invitations_week_cap: i64,
    /// Our extension: invitations of the last 30 days and the monthly cap.
    invitations_month: i64,
    invitations_month_cap: i64,
}

/// Working hours as shown: the offset is always an integer (an IANA zone's offset now).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkingHoursView {
    /// `"1:1:1:1:1:0:0"`, Monday first.
    days: String,
    /// `"HH:MM"`, 24-hour.
    start: String,
    /// `"HH:MM"`, 24-hour.
    stop: String,
    /// Offset from UTC in whole hours.
    timezone: i32,
    /// The IANA zone, when the hours follow one (daylight saving included).
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone_name: Option<String>,
}

impl WorkingHoursView {
    fn of(hours: WorkingHours, zone_name: Option<String>) -> Self {
        let timezone = zone_name
            .as_deref()
            .and_then(Zone::named)
            .map_or(hours.timezone, |zone| {
                zone.offset_hours_at(chrono::Utc::now())
            });
        WorkingHoursView {
            days: hours.days,
            start: hours.start,
            stop: hours.stop,
            timezone,
            timezone_name: zone_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingView {
    key: &'static str,
    value: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentDetails {
    #[serde(flatten)]
    agent: AgentView,
    usage: Usage,
    /// The daily ranges the targets are drawn from.
    limits: outbound_core::agent::Limits,
    settings: Vec<SettingView>,
}

impl From<Agent> for AgentDetails {
    fn from(a: Agent) -> Self {
        AgentDetails {
            agent: AgentView::from(&a),
            usage: Usage {
                invitations: a.usage.invitations_today,
                invitations_daily: a.usage.invitations_target,
                messages: a.usage.messages_today,
                messages_daily: a.usage.messages_target,
                next_invitation: a.usage.next_invitation.map(iso8601),
                next_message: a.usage.next_message.map(iso8601),
                working_hours: WorkingHoursView::of(a.working_hours, a.timezone_name),
                warmup_day: a.usage.warmup_day,
                invitations_week: a.usage.invitations_week,
                invitations_week_cap: a.usage.weekly_invitation_cap,
                invitations_month: a.usage.invitations_month,
                invitations_month_cap: a.usage.monthly_invitation_cap,
            },
            limits: a.limits,
            settings: vec![
                SettingView {
                    key: "skipInNetwork",
                    value: a.settings.skip_in_network,
                },
                SettingView {
                    key: "invitationsOnly",
                    value: a.settings.invitations_only,
                },
                SettingView {
                    key: "warmup",
                    value: a.settings.warmup,
                },
            ],
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdMessage {
    id: String,
    message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    message: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelaunchResponse {
    message: &'static str,
    status: AgentStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkingHoursRequest {
    /// Monday→Sunday flags, e.g. `1:1:1:1:1:0:0`.
    days: Option<String>,
    /// `HH:MM`, 24-hour.
    start: Option<String>,
    /// `HH:MM`, 24-hour (`end` is accepted too).
    #[serde(alias = "end")]
    stop: Option<String>,
    /// Offset from UTC in whole hours (-12 to 14), or an IANA zone name such as
    /// `Europe/Paris` (daylight saving included).
    timezone: Option<TimezoneRequest>,
}

/// A whole-hour offset or an IANA zone name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TimezoneRequest {
    Offset(i64),
    Name(String),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsRequest {
    /// 1–100.
    invitations_min: Option<i64>,
    /// 2–100.
    invitations_max: Option<i64>,
    /// 1–500.
    messages_min: Option<i64>,
    /// 2–500.
    messages_max: Option<i64>,
    /// Our extension: most invitations in any 7 days (1–700, default 100).
    invitations_weekly: Option<i64>,
    /// Our extension: most invitations in any 30 days (1–3000, default 800).
    invitations_monthly: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub enum SettingKey {
    #[serde(rename = "skipInNetwork")]
    SkipInNetwork,
    #[serde(rename = "invitationsOnly")]
    InvitationsOnly,
    /// Our extension: ramp up the daily invitations of a new agent (on for new agents).
    #[serde(rename = "warmup")]
    Warmup,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingRequest {
    key: SettingKey,
    value: bool,
}

/// At least one section.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAgentRequest {
    working_hours: Option<WorkingHoursRequest>,
    limits: Option<LimitsRequest>,
    settings: Option<Vec<SettingRequest>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The LinkedIn login email.
    login: String,
    /// The LinkedIn password (at least 6 characters); stored encrypted, never returned.
    password: String,
    /// Two-letter country code of the account.
    country: String,
}

async fn find(state: &AppState, tenant: &Tenant, id: &str) -> ApiResult<Agent> {
    state
        .store
        .get_agent(&tenant.team_id, id)
        .await
        .or_not_found(AGENT_NOT_FOUND)
}

async fn transition(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    event: AgentEvent,
    change: AgentChange,
) -> ApiResult<Agent> {
    state
        .store
        .transition_agent(&tenant.team_id, id, event, change)
        .await
        .or_not_found(AGENT_NOT_FOUND)
}

/// List the team's agents, newest first.
#[utoipa::path(
    get,
    path = "/v1/agents",
    tag = "Agents",
    responses(
        (status = 200, description = "Agents", body = Vec<AgentView>),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
    )
)]
pub async fn list_agents(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<Vec<AgentView>>> {
    let agents = state.store.list_agents(&tenant.team_id).await?;
    Ok(Json(agents.iter().map(AgentView::from).collect()))
}

/// Create an empty agent slot (`setup_needed`). Any request body is ignored.
#[utoipa::path(
    post,
    path = "/v1/agents",
    tag = "Agents",
    responses(
        (status = 201, description = "Created", body = IdMessage),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Plan limit reached", body = ErrorBody),
    )
)]
pub async fn create_agent(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<(StatusCode, Json<IdMessage>)> {
    let agent = state
        .store
        .create_agent(&tenant.team_id, tenant.plan.quota(Quota::Agents))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IdMessage {
            id: agent.id,
            message: "Agent created successfully",
        }),
    ))
}

/// Agent details with today's usage, working hours and alerts.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "The agent", body = AgentDetails),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn get_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<AgentDetails>> {
    Ok(Json(find(&state, &tenant, &id).await?.into()))
}

/// The patch of a settings request, or every problem with it.
fn settings_patch(body: UpdateAgentRequest) -> ApiResult<AgentSettingsPatch> {
    if body.working_hours.is_none() && body.limits.is_none() && body.settings.is_none() {
        return Err(ApiError::field(
            "body",
            "At least one of workingHours, limits, settings is required",
        ));
    }
    let mut problems = Problems::new();
    let working_hours = body.working_hours.map(|hours| {
        let offset = match &hours.timezone {
            Some(TimezoneRequest::Offset(offset)) => Some(*offset),
            _ => None,
        };
        check_working_hours(
            &mut problems,
            hours.days.as_deref(),
            hours.start.as_deref(),
            hours.stop.as_deref(),
            offset,
        );
        let (timezone, timezone_name) = match hours.timezone {
            None => (None, None),
            Some(TimezoneRequest::Offset(offset)) => (i32::try_from(offset).ok(), None),
            Some(TimezoneRequest::Name(name)) => match Zone::named(name.trim()) {
                Some(zone) => {
                    let offset = zone.offset_hours_at(chrono::Utc::now());
                    (None, Some((name.trim().to_owned(), offset)))
                }
                None => {
                    problems.add(
                        "workingHours.timezone",
                        "timezone must be a whole-hour offset (-12 to 14) or an IANA time zone name such as Europe/Paris",
                    );
                    (None, None)
                }
            },
        };
        WorkingHoursPatch {
            days: hours.days,
            start: hours.start,
            stop: hours.stop,
            timezone,
            timezone_name,
        }
    });
    let limits = body.limits.map(|limits| {
        check_daily_limits(
            &mut problems,
            (limits.invitations_min, limits.invitations_max),
            (limits.messages_min, limits.messages_max),
        );
        let ranges = [
            (
                "limits.invitationsWeekly",
                limits.invitations_weekly,
                WEEKLY_CAP_RANGE,
            ),
            (
                "limits.invitationsMonthly",
                limits.invitations_monthly,
                MONTHLY_CAP_RANGE,
            ),
        ];
        for (field, value, (min, max)) in ranges {
            if let Some(value) = value {
                problems.check_range(field, value, min, max);
            }
        }
        let caps = (limits.invitations_weekly, limits.invitations_monthly);
        let ranges = LimitsPatch {
            invitations_min: limits.invitations_min,
            invitations_max: limits.invitations_max,
            messages_min: limits.messages_min,
            messages_max: limits.messages_max,
        };
        (ranges, caps)
    });
    let (limits, (weekly_invitation_cap, monthly_invitation_cap)) = match limits {
        Some((ranges, caps)) => {
            let any_range = ranges.invitations_min.is_some()
                || ranges.invitations_max.is_some()
                || ranges.messages_min.is_some()
                || ranges.messages_max.is_some();
            (any_range.then_some(ranges), caps)
        }
        None => (None, (None, None)),
    };
    let mut patch = AgentSettingsPatch {
        working_hours,
        limits,
        weekly_invitation_cap,
        monthly_invitation_cap,
        ..AgentSettingsPatch::default()
    };
    for setting in body.settings.unwrap_or_default() {
        match setting.key {
            SettingKey::SkipInNetwork => patch.skip_in_network = Some(setting.value),
            SettingKey::InvitationsOnly => patch.invitations_only = Some(setting.value),
            SettingKey::Warmup => patch.warmup = Some(setting.value),
        }
    }
    problems.into_result().map_err(ApiError::Validation)?;
    Ok(patch)
}

/// Update working hours, daily limits and behaviour settings.
#[utoipa::path(
    put,
    path = "/v1/agents/{id}",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    request_body = UpdateAgentRequest,
    responses(
        (status = 200, description = "Updated", body = IdMessage),
        (status = 400, description = "Validation error; nothing was saved", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn update_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateAgentRequest>,
) -> ApiResult<Json<IdMessage>> {
    let patch = settings_patch(body)?;
    let agent = state
        .store
        .update_agent_settings(&tenant.team_id, &id, patch)
        .await
        .or_not_found(AGENT_NOT_FOUND)?;
    Ok(Json(IdMessage {
        id: agent.id,
        message: "Agent settings updated successfully",
    }))
}

/// Give the agent its LinkedIn credentials; it then logs in (`auth_in_progress`).
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/setup",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    request_body = SetupRequest,
    responses(
        (status = 200, description = "Credentials stored; login started", body = Message),
        (status = 400, description = "Validation error or invalid status", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn setup_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetupRequest>,
) -> ApiResult<Json<Message>> {
    let mut problems = Problems::new();
    check_credentials(&mut problems, &body.login, &body.password, &body.country);
    problems.into_result().map_err(ApiError::Validation)?;
    let change = AgentChange::Credentials {
        login: body.login.trim().to_owned(),
        country: body.country.trim().to_ascii_uppercase(),
        password_sealed: state.secrets.seal(&body.password),
    };
    transition(&state, &tenant, &id, AgentEvent::Setup, change).await?;
    Ok(Json(Message {
        message: "Agent setup successfully",
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerificationCodeRequest {
    /// The code LinkedIn sent (SMS, e-mail or authenticator app), 4–12 letters or digits.
    code: String,
}

/// Submit the verification code of a LinkedIn login (our extension; Kakiyo asks for it in its
/// dashboard). Accepted while the agent is `auth_needed` with an `auth` alert; the engine submits
/// it at once: on success the alert is cleared and the agent is `running`, otherwise the alert
/// says what went wrong.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/verification-code",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    request_body = VerificationCodeRequest,
    responses(
        (status = 202, description = "Code queued for the login", body = Message),
        (status = 400, description = "Validation error, or the agent is not waiting for a code (invalid_status)", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn submit_verification_code(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerificationCodeRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let code = body.code.trim();
    if !is_verification_code(code) {
        return Err(ApiError::field(
            "code",
            "The verification code must be 4 to 12 letters or digits",
        ));
    }
    state
        .store
        .queue_verification_code(
            &tenant.team_id,
            &id,
            &state.secrets.seal(code),
            now_millis(),
        )
        .await
        .or_not_found(AGENT_NOT_FOUND)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Message {
            message: "Verification code submitted",
        }),
    ))
}

/// Pause the agent: it sends nothing until resumed.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/pause",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "Paused", body = Message),
        (status = 400, description = "Invalid status", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn pause_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    transition(
        &state,
        &tenant,
        &id,
        AgentEvent::Pause,
        AgentChange::Nothing,
    )
    .await?;
    Ok(Json(Message {
        message: "Agent paused successfully",
    }))
}

/// Resume a paused agent; refused while it has alerts.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/resume",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "Resumed", body = Message),
        (status = 400, description = "The agent has active alerts, or an invalid status", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn resume_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    transition(
        &state,
        &tenant,
        &id,
        AgentEvent::Resume,
        AgentChange::Nothing,
    )
    .await?;
    Ok(Json(Message {
        message: "Agent resumed successfully",
    }))
}

/// Delete an agent that is not running or logging in.
#[utoipa::path(
    delete,
    path = "/v1/agents/{id}",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "Deleted", body = Message),
        (status = 400, description = "invalid_status, with currentStatus", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
        (status = 409, description = "campaign_busy: an import into one of its campaigns is unfinished", body = ErrorBody),
    )
)]
pub async fn delete_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    state
        .store
        .delete_agent(&tenant.team_id, &id)
        .await
        .or_not_found(AGENT_NOT_FOUND)?;
    Ok(Json(Message {
        message: "Agent deleted successfully",
    }))
}

/// Reset an ended or disabled agent to `setup_needed`, forgetting its credentials and alerts.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/relaunch",
    tag = "Agents",
    params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 200, description = "Relaunched", body = RelaunchResponse),
        (status = 400, description = "invalid_status, with currentStatus", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "Agent not found", body = ErrorBody),
    )
)]
pub async fn relaunch_agent(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<RelaunchResponse>> {
    let agent = transition(
        &state,
        &tenant,
        &id,
        AgentEvent::Relaunch,
        AgentChange::Reset,
    )
    .await?;
    Ok(Json(RelaunchResponse {
        message: "Agent relaunched successfully",
        status: agent.status,
    }))
}
