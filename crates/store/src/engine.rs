//! The outreach engine's persistence: durable tasks, the at-most-once send ledger, the agents'
//! daily usage and the conversations' engine state.
//!
//! Rules:
//! - a task has a deterministic id (`<agent or chat id>:<kind>`, [`task_id`]), so there is at
//!   most one task of a kind per owner and scheduling one twice is an upsert; recurring tasks
//!   (slots, checks) are rescheduled in place;
//! - workers claim due tasks (`pending`, `due_at <= now`) in `(due_at, id)` order until a lease
//!   on the wall clock runs out. PostgreSQL marks each task `running` (`FOR UPDATE SKIP
//!   LOCKED`); SQLite (one writer, where every written page costs) records the whole batch as
//!   ONE `task_claims` row instead, and its tasks stay `pending` but invisible to other claims
//!   until the batch is settled or the claim's lease runs out. Finishing a claim only touches a
//!   task still as claimed (`running`; on SQLite `pending` with the claimed due time), so a task
//!   re-armed or cancelled meanwhile keeps its new state; an expired claim counts as an attempt
//!   of each of its tasks, as an expired `running` lease does;
//! - a send (invitation or message) is recorded `sending` and COMMITTED by [`EngineStore::begin_sends`]
//!   before the connector is called, after re-checking in that transaction that the
//!   conversation may still be contacted (campaign active, agent running, chat not paused nor
//!   finished, prospect not on the DNC list); [`EngineStore::settle`] then records what happened
//!   in ONE transaction: the ledger row, the chat, its messages, the campaign counters (the
//!   chats' tally delta), the agent's usage and action log, the webhook events and the tasks.
//!   A chat effect that depends on a send applies only if that very call moved the ledger row
//!   out of `sending`, so a send reconciled twice is recorded once;
//! - chat effects are applied to the row read under the write lock, with guards (an invitation
//!   is accepted only from status 1, a finished conversation keeps its status), so the API's
//!   concurrent changes (pause, manual verdict, DNC) are never overwritten;
//! - a conversation that finishes has its pending tasks cancelled in the same transaction;
//! - a send of an approved draft (`sends.draft_id`) is made only while the draft is still the
//!   conversation's and `approved`; its settlement marks the draft `sent`, and a new reply marks
//!   the conversation's open draft `superseded` (see `drafts`);
//! - a person's message (`SendKind::Manual`) may go to a paused or finished conversation, never
//!   to the DNC list nor someone LinkedIn refused, and its ledger id is recorded at most once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use outbound_core::agent::{
    AgentEvent, AgentSettings, AgentStatus, Alert, Limits, WorkingHours, next_status,
};
use outbound_core::conversation::{CampaignStatus, ChatTally, Qualification, status};
use outbound_core::events::EventType;
use outbound_core::ids::new_id;
use outbound_core::prompt::{FollowUp, PromptSections};
use outbound_core::review::{Author, DraftKind, ReviewMode};
use outbound_core::time::{Millis, iso8601};
use serde_json::{Value, json};

use crate::agents::{alerts_json, stored_alerts, stored_status, stored_working_hours};
use crate::chats::{ProspectProfile, Role, search_text, status_after_message};
use crate::drafts::NewDraft;
use crate::{StoreError, StoreResult};

/// The kinds of tasks.
pub mod kind {
    /// Agent: send the next invitation.
    pub const INVITE_SLOT: &str = "invite_slot";
    /// Agent: send the next due message (replies first).
    pub const MESSAGE_SLOT: &str = "message_slot";
    /// Chat: look for an acceptance or for new messages of the prospect.
    pub const CHECK: &str = "check";
    /// Chat: fetch the profile after an acceptance.
    pub const ENRICH: &str = "enrich";
    /// Chat: score the conversation.
    pub const QUALIFY: &str = "qualify";
    /// Agent: log in with the stored credentials.
    pub const LOGIN: &str = "login";
    /// Agent: submit the verification code in the payload (sealed).
    pub const SUBMIT_CODE: &str = "submit_code";
    /// Chat: send a person's message (the payload's text) now; one task per message.
    pub const MANUAL_MESSAGE: &str = "manual_message";
}

/// Task states.
pub mod task_status {
    pub const PENDING: &str = "pending";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
}

/// The due time of a slot task that has nothing to do (9999-12-31): new work pulls it forward.
pub const PARKED: Millis = 253_402_300_799_000;

/// Who gave an automatic verdict, as the event's `qualifiedBy` says.
pub const QUALIFIED_BY_AI: &str = "ai";
/// Rows per multi-row insert (well under both backends' limits on bound values).
const INSERT_CHUNK: usize = 500;
/// How a local day is stored (`agents.usage_day`, `agent_days.day`).
const DAY_FORMAT: &str = "%Y-%m-%d";

/// The ids of the tasks held by claim rows (SQLite), for `id NOT IN (...)`: a claim's `tasks`
/// is a JSON object mapping each task id to its due time when claimed.
macro_rules! claimed_ids {
    () => {
        "SELECT j.key FROM task_claims c, json_each(c.tasks) j"
    };
}

/// The id of the task of `kind` owned by an agent or a chat.
pub fn task_id(owner: &str, kind: &str) -> String {
    format!("{owner}:{kind}")
}

/// What an agent message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The first message after the invitation was accepted.
    First,
    /// A follow-up to a prospect who has not replied.
    FollowUp,
    /// The answer to the prospect's latest message.
    Reply,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::First => "first",
            MessageKind::FollowUp => "followup",
            MessageKind::Reply => "reply",
        }
    }

    pub fn parse(value: &str) -> Option<MessageKind> {
        [
            MessageKind::First,
            MessageKind::FollowUp,
            MessageKind::Reply,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }

    /// What a draft of this message is called.
    pub fn draft_kind(self) -> DraftKind {
        match self {
            MessageKind::First => DraftKind::FirstMessage,
            MessageKind::FollowUp => DraftKind::FollowUp,
            MessageKind::Reply => DraftKind::Reply,
        }
    }
}

/// What a send is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendKind {
    Invitation,
    Message(MessageKind),
    /// A person's message (a take-over), queued by the API.
    Manual,
}

/// The `sends.kind` of a person's message.
const MANUAL_SEND: &str = "manual";

impl SendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::Invitation => "invitation",
            SendKind::Message(kind) => kind.as_str(),
            SendKind::Manual => MANUAL_SEND,
        }
    }

    pub fn parse(value: &str) -> Option<SendKind> {
        if value == "invitation" {
            Some(SendKind::Invitation)
        } else if value == MANUAL_SEND {
            Some(SendKind::Manual)
        } else {
            MessageKind::parse(value).map(SendKind::Message)
        }
    }
}

/// Who a message comes from, as the ledger and the conversation record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub author: Author,
    /// The model and prompt that wrote it (the AI's messages).
    pub model: Option<String>,
    pub prompt_id: Option<String>,
    /// The approved draft it sends.
    pub draft_id: Option<String>,
}

impl Origin {
    /// A person's message.
    pub fn person() -> Origin {
        Origin {
            author: Author::Person,
            model: None,
            prompt_id: None,
            draft_id: None,
        }
    }
}

/// Kinds of the agent action log.
pub mod action {
    pub const INVITATION: &str = "invitation";
    pub const MESSAGE: &str = "message";
}

/// A claimed task.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Task {
    pub id: String,
    pub team_id: String,
    pub agent_id: Option<String>,
    pub campaign_id: Option<String>,
    pub chat_id: Option<String>,
    pub kind: String,
    pub due_at: Millis,
    pub not_before: Option<Millis>,
    pub attempts: i64,
    pub payload: Option<String>,
}

/// The tasks of one claim; `id` names the claim row on SQLite (see the module doc), `None`
/// where each task is marked `running` instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claimed {
    pub id: Option<String>,
    pub tasks: Vec<Task>,
}

/// A task to schedule (replacing the one with the same id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub id: String,
    pub team_id: String,
    pub agent_id: Option<String>,
    pub campaign_id: Option<String>,
    pub chat_id: Option<String>,
    pub kind: &'static str,
    pub due_at: Millis,
    pub not_before: Option<Millis>,
    pub payload: Option<String>,
}

/// An agent as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineAgent {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub status: AgentStatus,
    pub login: Option<String>,
    pub country: Option<String>,
    pub password_sealed: Option<String>,
    pub provider_account_id: Option<String>,
    pub working_hours: WorkingHours,
    /// An IANA zone that wins over `working_hours.timezone`.
    pub timezone_name: Option<String>,
    pub limits: Limits,
    pub settings: AgentSettings,
    pub alerts: Vec<Alert>,
    /// The local day (`YYYY-MM-DD`) the usage counters and targets belong to.
    pub usage_day: Option<String>,
    /// When that local day ends.
    pub day_ends_at: Option<Millis>,
    pub invitations_today: i64,
    pub messages_today: i64,
    pub invitations_target: i64,
    pub messages_target: i64,
    pub weekly_invitation_cap: i64,
    /// Invitations per rolling 30 days.
    pub monthly_invitation_cap: i64,
    /// The local day (`YYYY-MM-DD`) of the first warm-up day, once the agent ran.
    pub warmup_started: Option<String>,
    /// LinkedIn's rate limits in a row (the circuit breaker trips at a threshold).
    pub rate_limited_streak: i64,
    pub last_invitation_at: Option<Millis>,
    pub last_message_action_at: Option<Millis>,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct EngineAgentRow {
    id: String,
    team_id: String,
    name: String,
    status: String,
    login: Option<String>,
    country: Option<String>,
    password_sealed: Option<String>,
    provider_account_id: Option<String>,
    working_days: String,
    working_start: String,
    working_stop: String,
    timezone_offset: i64,
    timezone_name: Option<String>,
    invitations_min: i64,
    invitations_max: i64,
    messages_min: i64,
    messages_max: i64,
    #[serde(deserialize_with = "flag")]
    skip_in_network: bool,
    #[serde(deserialize_with = "flag")]
    invitations_only: bool,
    alerts: String,
    usage_day: Option<String>,
    day_ends_at: Option<i64>,
    invitations_today: i64,
    messages_today: i64,
    invitations_target: i64,
    messages_target: i64,
    weekly_invitation_cap: i64,
    #[serde(deserialize_with = "flag")]
    warmup: bool,
    monthly_invitation_cap: i64,
    warmup_started: Option<String>,
    rate_limited_streak: i64,
    last_invitation_at: Option<i64>,
    last_message_action_at: Option<i64>,
}

impl TryFrom<EngineAgentRow> for EngineAgent {
    type Error = StoreError;

    fn try_from(row: EngineAgentRow) -> StoreResult<EngineAgent> {
        Ok(EngineAgent {
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
            monthly_invitation_cap: row.monthly_invitation_cap,
            warmup_started: row.warmup_started,
            rate_limited_streak: row.rate_limited_streak,
            id: row.id,
            team_id: row.team_id,
            name: row.name,
            login: row.login,
            country: row.country,
            password_sealed: row.password_sealed,
            provider_account_id: row.provider_account_id,
            timezone_name: row.timezone_name,
            usage_day: row.usage_day,
            day_ends_at: row.day_ends_at,
            invitations_today: row.invitations_today,
            messages_today: row.messages_today,
            invitations_target: row.invitations_target,
            messages_target: row.messages_target,
            weekly_invitation_cap: row.weekly_invitation_cap,
            last_invitation_at: row.last_invitation_at,
            last_message_action_at: row.last_message_action_at,
        })
    }
}

macro_rules! select_engine_agents {
    () => {
        "SELECT id, team_id, name, status, login, country, password_sealed, provider_account_id, \
         working_days, working_start, working_stop, timezone_offset, timezone_name, \
         invitations_min, invitations_max, messages_min, messages_max, skip_in_network, \
         invitations_only, alerts, usage_day, day_ends_at, invitations_today, messages_today, \
         invitations_target, messages_target, weekly_invitation_cap, last_invitation_at, \
         last_message_action_at, warmup, monthly_invitation_cap, warmup_started, \
         rate_limited_streak FROM agents"
    };
}

/// The columns of `select_engine_agents!` as one JSON object, for `json_group_array`.
macro_rules! engine_agent_object {
    () => {
        "json_object('id', id, 'team_id', team_id, 'name', name, 'status', status, \
         'login', login, 'country', country, 'password_sealed', password_sealed, \
         'provider_account_id', provider_account_id, 'working_days', working_days, \
         'working_start', working_start, 'working_stop', working_stop, \
         'timezone_offset', timezone_offset, 'timezone_name', timezone_name, \
         'invitations_min', invitations_min, 'invitations_max', invitations_max, \
         'messages_min', messages_min, 'messages_max', messages_max, \
         'skip_in_network', skip_in_network, 'invitations_only', invitations_only, \
         'alerts', alerts, 'usage_day', usage_day, 'day_ends_at', day_ends_at, \
         'invitations_today', invitations_today, 'messages_today', messages_today, \
         'invitations_target', invitations_target, 'messages_target', messages_target, \
         'weekly_invitation_cap', weekly_invitation_cap, \
         'last_invitation_at', last_invitation_at, \
         'last_message_action_at', last_message_action_at, 'warmup', warmup, \
         'monthly_invitation_cap', monthly_invitation_cap, 'warmup_started', warmup_started, \
         'rate_limited_streak', rate_limited_streak)"
    };
}

/// A conversation with its prospect, as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineChat {
    pub id: String,
    pub team_id: String,
    pub campaign_id: String,
    pub agent_id: String,
    pub campaign_status: CampaignStatus,
    pub prospect_id: String,
    pub prospect_name: String,
    pub url: String,
    pub headline: Option<String>,
    pub about: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub status: i64,
    pub qualification: Qualification,
    pub paused: bool,
    pub has_responded: bool,
    pub ongoing: bool,
    pub custom_data: String,
    pub messages_sent: i64,
    pub last_message_at: Option<Millis>,
    pub last_response_at: Option<Millis>,
    pub invited_at: Option<Millis>,
    pub accepted_at: Option<Millis>,
    pub enriched_at: Option<Millis>,
    pub next_message_at: Option<Millis>,
    pub next_message_kind: Option<MessageKind>,
    pub followups_sent: i64,
    pub replies_seen_at: Option<Millis>,
    /// The prospect's URL is on the team's Do-Not-Contact list.
    pub on_dnc: bool,
    /// The conversation's open draft (pending or approved).
    pub draft_id: Option<String>,
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct EngineChatRow {
    id: String,
    team_id: String,
    campaign_id: String,
    agent_id: String,
    campaign_status: String,
    prospect_id: String,
    prospect_name: String,
    url: String,
    headline: Option<String>,
    about: Option<String>,
    city: Option<String>,
    country: Option<String>,
    company: Option<String>,
    job_title: Option<String>,
    status: i64,
    qualification: String,
    #[serde(deserialize_with = "flag")]
    paused: bool,
    #[serde(deserialize_with = "flag")]
    has_responded: bool,
    #[serde(deserialize_with = "flag")]
    ongoing: bool,
    custom_data: String,
    messages_sent: i64,
    last_message_at: Option<i64>,
    last_response_at: Option<i64>,
    invited_at: Option<i64>,
    accepted_at: Option<i64>,
    enriched_at: Option<i64>,
    next_message_at: Option<i64>,
    next_message_kind: Option<String>,
    followups_sent: i64,
    replies_seen_at: Option<i64>,
    #[serde(deserialize_with = "flag")]
    on_dnc: bool,
    draft_id: Option<String>,
}

/// A boolean of a JSON row: `true`/`false`, or SQLite's `1`/`0`.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(
        match <Flag as serde::Deserialize>::deserialize(deserializer)? {
            Flag::Bool(value) => value,
            Flag::Int(value) => value != 0,
        },
    )
}

/// Decodes the rows of a JSON-aggregated query (`json_group_array(json_object(...))`).
fn json_rows<T: serde::de::DeserializeOwned>(json: Option<String>) -> StoreResult<Vec<T>> {
    match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("engine rows: {e}"))),
        None => Ok(Vec::new()),
    }
}

impl TryFrom<EngineChatRow> for EngineChat {
    type Error = StoreError;

    fn try_from(row: EngineChatRow) -> StoreResult<EngineChat> {
        Ok(EngineChat {
            campaign_status: CampaignStatus::parse(&row.campaign_status).ok_or_else(|| {
                StoreError::Corrupt(format!("campaign status {}", row.campaign_status))
            })?,
            qualification: Qualification::parse(&row.qualification).ok_or_else(|| {
                StoreError::Corrupt(format!("qualification {}", row.qualification))
            })?,
            next_message_kind: row
                .next_message_kind
                .as_deref()
                .and_then(MessageKind::parse),
            id: row.id,
            team_id: row.team_id,
            campaign_id: row.campaign_id,
            agent_id: row.agent_id,
            prospect_id: row.prospect_id,
            prospect_name: row.prospect_name,
            url: row.url,
            headline: row.headline,
            about: row.about,
            city: row.city,
            country: row.country,
            company: row.company,
            job_title: row.job_title,
            status: row.status,
            paused: row.paused,
            has_responded: row.has_responded,
            ongoing: row.ongoing,
            custom_data: row.custom_data,
            messages_sent: row.messages_sent,
            last_message_at: row.last_message_at,
            last_response_at: row.last_response_at,
            invited_at: row.invited_at,
            accepted_at: row.accepted_at,
            enriched_at: row.enriched_at,
            next_message_at: row.next_message_at,
            followups_sent: row.followups_sent,
            replies_seen_at: row.replies_seen_at,
            on_dnc: row.on_dnc,
            draft_id: row.draft_id,
        })
    }
}

/// `SELECT <engine chat columns> FROM chats ch JOIN campaigns c JOIN prospects p`, for
/// `concat!` with a `WHERE` clause.
macro_rules! select_engine_chats {
    () => {
        "SELECT ch.id, ch.team_id, ch.campaign_id, c.agent_id, c.status AS campaign_status, \
         ch.prospect_id, p.name AS prospect_name, p.url, p.headline, p.about, p.city, p.country, \
         p.current_company_name AS company, p.current_job_title AS job_title, ch.status, \
         ch.qualification, ch.paused, ch.has_responded, ch.ongoing, ch.custom_data, \
         ch.messages_sent, ch.last_message_at, ch.last_response_at, ch.invited_at, \
         ch.accepted_at, ch.enriched_at, ch.next_message_at, ch.next_message_kind, \
         ch.followups_sent, ch.replies_seen_at, \
         EXISTS (SELECT 1 FROM dnc_entries d WHERE d.team_id = ch.team_id AND d.url = p.url) \
         AS on_dnc, ch.draft_id \
         FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
         JOIN prospects p ON p.id = ch.prospect_id"
    };
}

/// The columns of `select_engine_chats!` as one JSON object, for `json_group_array`, and the
/// same joins.
macro_rules! engine_chat_object {
    () => {
        "json_object('id', ch.id, 'team_id', ch.team_id, 'campaign_id', ch.campaign_id, \
         'agent_id', c.agent_id, 'campaign_status', c.status, 'prospect_id', ch.prospect_id, \
         'prospect_name', p.name, 'url', p.url, 'headline', p.headline, 'about', p.about, \
         'city', p.city, 'country', p.country, 'company', p.current_company_name, \
         'job_title', p.current_job_title, 'status', ch.status, \
         'qualification', ch.qualification, 'paused', ch.paused, \
         'has_responded', ch.has_responded, 'ongoing', ch.ongoing, \
         'custom_data', ch.custom_data, 'messages_sent', ch.messages_sent, \
         'last_message_at', ch.last_message_at, 'last_response_at', ch.last_response_at, \
         'invited_at', ch.invited_at, 'accepted_at', ch.accepted_at, \
         'enriched_at', ch.enriched_at, 'next_message_at', ch.next_message_at, \
         'next_message_kind', ch.next_message_kind, 'followups_sent', ch.followups_sent, \
         'replies_seen_at', ch.replies_seen_at, \
         'on_dnc', EXISTS (SELECT 1 FROM dnc_entries d WHERE d.team_id = ch.team_id \
         AND d.url = p.url), 'draft_id', ch.draft_id)"
    };
}

macro_rules! engine_chats_from {
    () => {
        " FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
         JOIN prospects p ON p.id = ch.prospect_id"
    };
}

/// What a campaign's conversations are written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignContext {
    pub id: String,
    pub team_id: String,
    pub status: CampaignStatus,
    pub agent_id: String,
    pub agent_name: String,
    pub qualification_automatic: i64,
    pub qualification_verification: i64,
    pub variables: BTreeMap<String, String>,
    pub prompt: PromptSections,
    /// The prompt's model id (a catalogue entry).
    pub model: String,
    pub product_name: String,
    pub product_description: String,
    pub prompt_id: String,
    pub review_mode: ReviewMode,
}

#[derive(sqlx::FromRow)]
struct CampaignContextRow {
    id: String,
    team_id: String,
    status: String,
    agent_id: String,
    agent_name: String,
    qualification_automatic: i64,
    qualification_verification: i64,
    variables: String,
    context: String,
    first_message: String,
    follow_ups: String,
    follow_up_enabled: bool,
    comment: String,
    model: String,
    product_name: String,
    product_description: String,
    prompt_id: String,
    review_mode: String,
}

impl TryFrom<CampaignContextRow> for CampaignContext {
    type Error = StoreError;

    fn try_from(row: CampaignContextRow) -> StoreResult<CampaignContext> {
        let follow_ups: Vec<FollowUp> = serde_json::from_str(&row.follow_ups)
            .map_err(|e| StoreError::Corrupt(format!("prompt follow-ups: {e}")))?;
        Ok(CampaignContext {
            status: CampaignStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("campaign status {}", row.status)))?,
            variables: serde_json::from_str(&row.variables)
                .map_err(|e| StoreError::Corrupt(format!("campaign variables: {e}")))?,
            prompt: PromptSections {
                context: row.context,
                first_message: row.first_message,
                follow_ups,
                follow_up_enabled: row.follow_up_enabled,
                comment: row.comment,
            },
            id: row.id,
            team_id: row.team_id,
            agent_id: row.agent_id,
            agent_name: row.agent_name,
            qualification_automatic: row.qualification_automatic,
            qualification_verification: row.qualification_verification,
            model: row.model,
            product_name: row.product_name,
            product_description: row.product_description,
            review_mode: ReviewMode::parse(&row.review_mode).ok_or_else(|| {
                StoreError::Corrupt(format!("campaign review mode {}", row.review_mode))
            })?,
            prompt_id: row.prompt_id,
        })
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryMessage {
    pub chat_id: String,
    pub role: Role,
    pub content: String,
    pub at: Millis,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    chat_id: String,
    role: String,
    content: String,
    created_at: i64,
}

/// A send about to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSend {
    /// Also the idempotency key given to the connector.
    pub id: String,
    pub team_id: String,
    pub agent_id: String,
    pub chat_id: String,
    pub kind: SendKind,
    pub text: String,
    /// Engine time of the send.
    pub at: Millis,
    /// Wall-clock time after which an unsettled send may be reconciled by another process.
    pub lease_until: Millis,
    pub origin: Origin,
}

/// A send still `sending` after its lease: its fate must be asked of the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSend {
    pub id: String,
    pub team_id: String,
    pub agent_id: String,
    pub chat_id: String,
    pub kind: SendKind,
    pub text: String,
    /// Engine time of the send.
    pub at: Millis,
    /// The due message the send took (restored if it did not happen).
    pub restore: Option<(Millis, MessageKind)>,
    pub url: String,
    pub origin: Origin,
}

#[derive(sqlx::FromRow)]
struct PendingSendRow {
    id: String,
    team_id: String,
    agent_id: String,
    chat_id: String,
    kind: String,
    text: String,
    created_at: i64,
    restore_at: Option<i64>,
    restore_kind: Option<String>,
    url: String,
    author: String,
    model: Option<String>,
    prompt_id: Option<String>,
    draft_id: Option<String>,
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// It reached LinkedIn.
    Sent { provider_id: Option<String> },
    /// It certainly did not.
    Failed { error: String },
    /// Still unknown (the connector could not tell): asked again after `lease_until`.
    Unknown { lease_until: Millis },
}

/// The settlement of one ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSettle {
    pub id: String,
    pub outcome: SendOutcome,
}

/// A change of a conversation, applied with its guard to the row read under the write lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatOp {
    /// The invitation of ledger row `send_id` went out (status 0 → 1).
    Invited {
        chat: String,
        send_id: String,
        at: Millis,
    },
    /// The invitation certainly did not go out: the chat may be invited again.
    InviteReleased { chat: String },
    /// LinkedIn refused: the conversation ends with this status (502–505).
    Refused { chat: String, status_code: i64 },
    /// Skipped (status 7): already in the network under `skipInNetwork`, or on the DNC list.
    Skipped { chat: String },
    /// Already a connection: no invitation, straight to messaging (status 0 → 2).
    Connected { chat: String, at: Millis },
    /// The invitation was accepted (status 1 → 2).
    Accepted { chat: String, at: Millis },
    /// The profile was read: stored on the prospect; the first message is due at
    /// `first_message_at` (`None`: the agent sends no messages).
    Enriched {
        chat: String,
        profile: ProspectProfile,
        at: Millis,
        first_message_at: Option<Millis>,
    },
    /// The message of ledger row `send_id` went out; `next` is the follow-up it plans;
    /// `kind` is `None` for a person's message.
    MessageSent {
        chat: String,
        send_id: String,
        kind: Option<MessageKind>,
        text: String,
        at: Millis,
        next: Option<Millis>,
        origin: Origin,
    },
    /// The AI's message waits for a person (review mode): the draft is recorded and the
    /// conversation plans nothing more until it is decided.
    Drafted { chat: String, draft: NewDraft },
    /// The message certainly did not go out: it is due again.
    MessageReleased {
        chat: String,
        due: Millis,
        kind: MessageKind,
    },
    /// The prospect wrote; `reply_at` schedules the AI's answer (cancelling follow-ups).
    Received {
        chat: String,
        messages: Vec<(String, Millis)>,
        reply_at: Option<Millis>,
        seen_until: Millis,
    },
    /// The pending message is dropped (e.g. a follow-up after a reply, nothing to say).
    DropMessage { chat: String },
    /// The pending message could not be written now: due again at `due`.
    Postpone { chat: String, due: Millis },
    /// The pending invitation was withdrawn (it stayed unanswered too long).
    Withdrawn { chat: String, at: Millis },
    /// The model's verdict on the conversation, with its one-line reason.
    Judged {
        chat: String,
        score: i64,
        reason: Option<String>,
        qualification: Qualification,
        at: Millis,
    },
}

impl ChatOp {
    fn chat(&self) -> &str {
        match self {
            ChatOp::Invited { chat, .. }
            | ChatOp::InviteReleased { chat }
            | ChatOp::Refused { chat, .. }
            | ChatOp::Skipped { chat }
            | ChatOp::Connected { chat, .. }
            | ChatOp::Accepted { chat, .. }
            | ChatOp::Enriched { chat, .. }
            | ChatOp::MessageSent { chat, .. }
            | ChatOp::Drafted { chat, .. }
            | ChatOp::Withdrawn { chat, .. }
            | ChatOp::MessageReleased { chat, .. }
            | ChatOp::Received { chat, .. }
            | ChatOp::DropMessage { chat }
            | ChatOp::Postpone { chat, .. }
            | ChatOp::Judged { chat, .. } => chat,
        }
    }
}

/// A change of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOp {
    /// Schedules a task, replacing the one with the same id (even a running one).
    Upsert(NewTask),
    /// Finishes the claim of a recurring task: pending again at `due_at`.
    Reschedule {
        id: String,
        due_at: Millis,
        not_before: Option<Millis>,
    },
    /// Finishes the claim of a one-off task.
    Done { id: String },
    /// Finishes a failed claim: tried again at `due_at`.
    Retry {
        id: String,
        due_at: Millis,
        error: String,
    },
    /// Finishes a claim that failed for good.
    Fail { id: String, error: String },
    /// New work for a pending slot task at `at`: it becomes due then (not before its
    /// `not_before`), if that is earlier than planned.
    Pull { id: String, at: Millis },
}

/// A change of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentOp {
    /// A new local day (or its end recomputed): targets drawn; counters reset if `reset`.
    Rollover {
        agent: String,
        day: String,
        day_ends_at: Millis,
        invitations_target: i64,
        messages_target: i64,
        reset: bool,
        /// With warm-up on: the first warm-up day (kept once set) and today's warm-up day.
        warmup: Option<(String, i64)>,
    },
    /// The login succeeded: the agent runs, its alerts are cleared.
    LoggedIn {
        agent: String,
        provider_account_id: String,
        name: String,
        avatar: Option<String>,
    },
    /// LinkedIn needs the user (a code, new credentials): `auth_needed` with `alert`.
    NeedsAction {
        agent: String,
        provider_account_id: Option<String>,
        alert: Alert,
    },
    /// The agent's alerts are replaced by `alert` (its status stays).
    ReplaceAlerts { agent: String, alert: Alert },
    /// LinkedIn rate-limited the agent once more (the breaker's streak grows; any sent
    /// invitation or message ends it).
    RateLimited { agent: String },
    /// The circuit breaker: a running agent stops (`paused`) with `alert` until a person
    /// resumes it; event `agent.stopped`.
    Tripped { agent: String, alert: Alert },
}

/// Everything a batch of engine work changes, applied in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Engine time of the batch (timestamps of the rows it writes).
    pub now: Millis,
    /// The claim whose tasks this settlement finishes ([`Claimed::id`]): released with it.
    pub claim: Option<String>,
    pub sends: Vec<SendSettle>,
    pub chats: Vec<ChatOp>,
    pub tasks: Vec<TaskOp>,
    pub agents: Vec<AgentOp>,
}

impl Settlement {
    pub fn new(now: Millis) -> Self {
        Settlement {
            now,
            ..Settlement::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sends.is_empty()
            && self.chats.is_empty()
            && self.tasks.is_empty()
            && self.agents.is_empty()
    }

    /// Appends `other`'s changes after this one's.
    pub fn extend(&mut self, other: Settlement) {
        self.sends.extend(other.sends);
        self.chats.extend(other.chats);
        self.tasks.extend(other.tasks);
        self.agents.extend(other.agents);
    }
}

/// What a settlement did that the engine follows up on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Campaigns one of whose conversations finished or lost a task: they may be complete.
    pub touched_campaigns: BTreeSet<String>,
    pub invitations: u64,
    pub messages: u64,
    pub received: u64,
}

/// What [`EngineStore::plan_engine`] armed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Planned {
    pub logins: u64,
    pub slots_created: u64,
    pub slots_rearmed: u64,
    pub watched: u64,
}

/// Everything the auditor of a simulation reads, independently of the scheduler.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditData {
    pub agents: Vec<EngineAgent>,
    /// `(agent, local day, invitations target, messages target)`.
    pub days: Vec<(String, String, i64, i64)>,
    /// `(agent, chat, kind, at)`.
    pub actions: Vec<(String, Option<String>, String, Millis)>,
    /// `(id, chat, kind, text, status, at)`.
    pub sends: Vec<(String, String, String, String, String, Millis)>,
    /// `(chat, role, content, at)`, by chat then time.
    pub messages: Vec<(String, String, String, Millis)>,
    /// `(chat, url, status, qualification, agent)`.
    pub chats: Vec<(String, String, i64, String, String)>,
    /// `(event type, count)`.
    pub events: Vec<(String, i64)>,
    /// URLs on the DNC list.
    pub dnc: Vec<String>,
    /// The agent's sent messages: `(chat, at, author, kind, draft status when it carried a
    /// draft, the campaign's review mode)`.
    pub reviewed: Vec<AuditedMessage>,
    /// `(chat, when a person last resumed the AI on it)`.
    pub resumed: Vec<(String, Option<Millis>)>,
}

/// A message of the agent as the auditor checks it against review mode and take-overs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditedMessage {
    pub chat_id: String,
    pub at: Millis,
    pub author: String,
    pub kind: String,
    pub draft_status: Option<String>,
    pub review_mode: String,
}

#[async_trait::async_trait]
pub trait EngineStore {
    /// Arms the agent-level work: releases the claims whose lease ran out before `wall` (their
    /// process died), a `login` task for each agent logging in, the two slot tasks of each
    /// running agent (created once), slots of running agents that have work again (new
    /// prospects, resumed campaigns or chats), and a `check` task for each ongoing conversation
    /// not yet watched.
    async fn plan_engine(&self, now: Millis, wall: Millis) -> StoreResult<Planned>;

    /// Running agents whose local day ended (or was never computed).
    async fn agents_to_roll_over(&self, now: Millis) -> StoreResult<Vec<EngineAgent>>;

    /// Claims up to `limit` due tasks in `(due_at, id)` order until `lease_until` (wall clock).
    /// Each claim counts as an
    /// attempt; a due task already claimed `max_attempts` times without finishing (it failed,
    /// or its process died on it) ends `failed` instead. The returned `attempts` are those
    /// before this claim. The settlement of the batch names the claim ([`Settlement::claim`]).
    async fn claim_tasks(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: i64,
        max_attempts: i64,
    ) -> StoreResult<Claimed>;

    /// The earliest due time of a pending task that is not parked.
    async fn next_task_due(&self) -> StoreResult<Option<Millis>>;

    async fn engine_agents(&self, ids: &[String]) -> StoreResult<Vec<EngineAgent>>;
    async fn engine_chats(&self, ids: &[String]) -> StoreResult<Vec<EngineChat>>;
    async fn campaign_contexts(&self, ids: &[String]) -> StoreResult<Vec<CampaignContext>>;
    /// The messages of `chat_ids`, by chat then time.
    async fn histories(&self, chat_ids: &[String]) -> StoreResult<Vec<HistoryMessage>>;

    /// For each of `agents`, its `limit` oldest conversations waiting for an invitation
    /// (status 0, not paused, not in flight) in its active campaigns, in one query.
    async fn invite_candidates(
        &self,
        agents: &[String],
        limit: i64,
    ) -> StoreResult<Vec<EngineChat>>;

    /// For each of `agents`, its `limit` first conversations with a planned message in its
    /// active campaigns, not paused: due replies first, then by due time (future ones
    /// included, to know when to wake up); in one query.
    async fn message_candidates(
        &self,
        agents: &[String],
        now: Millis,
        limit: i64,
    ) -> StoreResult<Vec<EngineChat>>;

    /// The provider's id of the sent invitation of each of `chats` that has one.
    async fn invitation_ids(&self, chats: &[String]) -> StoreResult<HashMap<String, String>>;

    /// Invitations each agent sent after `since`.
    async fn invitations_since(
        &self,
        agents: &[String],
        since: Millis,
    ) -> StoreResult<HashMap<String, i64>>;

    /// Records each send as `sending` (and takes its chat out of the queues) when its
    /// conversation may still be contacted; commits before returning. One flag per send.
    async fn begin_sends(&self, sends: &[NewSend]) -> StoreResult<Vec<bool>>;

    /// Applies a settlement in one transaction.
    async fn settle(&self, settlement: &Settlement) -> StoreResult<Settled>;

    /// Sends still `sending` whose lease ran out before `wall`, oldest first.
    async fn unsettled_sends(&self, wall: Millis, limit: i64) -> StoreResult<Vec<PendingSend>>;

    /// Marks `completed` those of the campaigns (all active ones when `None`) that are active,
    /// have conversations and no work left: no conversation waiting for an invitation or a
    /// message, no pending task, no unfinished import. Returns their ids.
    async fn complete_idle_campaigns(
        &self,
        campaigns: Option<&[String]>,
        now: Millis,
    ) -> StoreResult<Vec<String>>;

    /// Queues the verification code (already sealed) of an agent of `team` waiting for one
    /// (`auth_needed` with an `auth` alert); [`StoreError::InvalidStatus`] otherwise.
    async fn queue_verification_code(
        &self,
        team: &str,
        agent: &str,
        sealed_code: &str,
        now: Millis,
    ) -> StoreResult<()>;

    /// The raw log of a team's outreach, for the auditor.
    async fn audit_data(&self, team: &str) -> StoreResult<AuditData>;
}

/// A chat's state inside [`EngineStore::settle`], read under the write lock.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ChatStateRow {
    id: String,
    team_id: String,
    campaign_id: String,
    agent_id: String,
    prospect_id: String,
    status: i64,
    qualification: String,
    score: Option<i64>,
    has_responded: bool,
    messages_sent: i64,
    last_message_at: Option<i64>,
    last_response_at: Option<i64>,
    qualified_at: Option<i64>,
    invited_at: Option<i64>,
    accepted_at: Option<i64>,
    enriched_at: Option<i64>,
    next_message_at: Option<i64>,
    next_message_kind: Option<String>,
    followups_sent: i64,
    replies_seen_at: Option<i64>,
    draft_id: Option<String>,
    score_reason: Option<String>,
    withdrawn_at: Option<i64>,
}

impl ChatStateRow {
    fn tally(&self) -> ChatTally {
        let qualification =
            Qualification::parse(&self.qualification).unwrap_or(Qualification::InProgress);
        ChatTally::of(
            self.status,
            qualification,
            self.has_responded,
            self.messages_sent,
        )
    }

    fn finished(&self) -> bool {
        status::is_finished(self.status)
    }

    fn clear_next(&mut self) {
        self.next_message_at = None;
        self.next_message_kind = None;
    }

    fn set_next(&mut self, at: Millis, kind: MessageKind) {
        self.next_message_at = Some(at);
        self.next_message_kind = Some(kind.as_str().to_owned());
    }
}

macro_rules! chat_state_columns {
    () => {
        "SELECT ch.id, ch.team_id, ch.campaign_id, c.agent_id, ch.prospect_id, ch.status, \
         ch.qualification, ch.score, ch.has_responded, ch.messages_sent, ch.last_message_at, \
         ch.last_response_at, ch.qualified_at, ch.invited_at, ch.accepted_at, ch.enriched_at, \
         ch.next_message_at, ch.next_message_kind, ch.followups_sent, ch.replies_seen_at, \
         ch.draft_id, ch.score_reason, ch.withdrawn_at \
         FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id WHERE ch.id IN ("
    };
}

/// One chat being settled.
struct ChatWork {
    row: ChatStateRow,
    before: ChatTally,
    changed: bool,
    was_finished: bool,
}

/// A message to insert.
struct MessageInsert {
    team_id: String,
    chat_id: String,
    campaign_id: String,
    role: Role,
    content: String,
    at: Millis,
    /// The agent's messages: who wrote it, with what.
    origin: Option<Origin>,
}

/// An event to insert into the outbox.
struct EventInsert {
    team_id: String,
    event: EventType,
    data: Value,
    at: Millis,
    campaign_id: String,
    chat_id: String,
}

/// An entry of the action log.
struct ActionInsert {
    team_id: String,
    agent_id: String,
    chat_id: String,
    kind: &'static str,
    at: Millis,
}

/// What an agent did in a settlement.
#[derive(Default)]
struct UsageDelta {
    invitations: i64,
    messages: i64,
    last_invitation_at: Option<Millis>,
    last_message_at: Option<Millis>,
}

/// Everything the chat ops of a settlement produce besides the chat rows.
#[derive(Default)]
struct Effects {
    messages: Vec<MessageInsert>,
    events: Vec<EventInsert>,
    actions: Vec<ActionInsert>,
    usage: BTreeMap<String, UsageDelta>,
    profiles: Vec<(String, String, ProspectProfile, Millis)>,
    /// Message slots to pull: agent → earliest new work.
    pulls: BTreeMap<String, Millis>,
    finished: BTreeSet<String>,
    touched_campaigns: BTreeSet<String>,
    received: u64,
    drafts: Vec<NewDraft>,
    /// Drafts that went out: `(id, at)`.
    drafts_sent: Vec<(String, Millis)>,
    /// Drafts whose conversation changed first.
    superseded: Vec<String>,
}

impl Effects {
    /// An event with the catalogue's `data` (§4.2) plus `extra` keys.
    fn event(
        &mut self,
        chat: &ChatStateRow,
        event: EventType,
        at: Millis,
        extra: &[(&str, Value)],
    ) {
        let mut data = json!({
            "agentId": chat.agent_id,
            "campaignId": chat.campaign_id,
            "chatId": chat.id,
            "prospectId": chat.prospect_id,
            "timestamp": iso8601(at),
        });
        if let Value::Object(map) = &mut data {
            for (key, value) in extra {
                map.insert((*key).to_owned(), value.clone());
            }
        }
        self.events.push(EventInsert {
            team_id: chat.team_id.clone(),
            event,
            data,
            at,
            campaign_id: chat.campaign_id.clone(),
            chat_id: chat.id.clone(),
        });
    }

    fn message(
        &mut self,
        chat: &ChatStateRow,
        role: Role,
        content: &str,
        at: Millis,
        origin: Option<&Origin>,
    ) {
        self.messages.push(MessageInsert {
            team_id: chat.team_id.clone(),
            chat_id: chat.id.clone(),
            campaign_id: chat.campaign_id.clone(),
            role,
            content: content.to_owned(),
            at,
            origin: origin.cloned(),
        });
    }

    fn action(&mut self, chat: &ChatStateRow, kind: &'static str, at: Millis) {
        self.actions.push(ActionInsert {
            team_id: chat.team_id.clone(),
            agent_id: chat.agent_id.clone(),
            chat_id: chat.id.clone(),
            kind,
            at,
        });
        let usage = self.usage.entry(chat.agent_id.clone()).or_default();
        if kind == action::INVITATION {
            usage.invitations += 1;
            usage.last_invitation_at = Some(at);
        } else {
            usage.messages += 1;
            usage.last_message_at = Some(at);
        }
    }

    fn pull(&mut self, agent: &str, at: Millis) {
        let entry = self.pulls.entry(agent.to_owned()).or_insert(at);
        *entry = (*entry).min(at);
    }
}

/// Applies one chat op to its (locked) row. `won` holds the sends this settlement moved out of
/// `sending`: an effect of a send applies only then.
fn apply_chat_op(work: &mut ChatWork, op: &ChatOp, won: &HashSet<String>, fx: &mut Effects) {
    let row = &mut work.row;
    match op {
        ChatOp::Invited { send_id, at, .. } => {
            if !won.contains(send_id) {
                return;
            }
            fx.action(row, action::INVITATION, *at);
            fx.event(row, EventType::InvitationSent, *at, &[]);
            if row.status == status::NOT_STARTED {
                row.status = status::INVITATION_SENT;
            }
            row.invited_at = Some(*at);
        }
        ChatOp::InviteReleased { .. } => {
            if row.status == status::NOT_STARTED {
                row.invited_at = None;
            }
        }
        ChatOp::Refused { status_code, .. } => {
            if !row.finished() {
                row.status = *status_code;
                row.clear_next();
            }
        }
        ChatOp::Skipped { .. } => {
            if !row.finished() {
                row.status = status::SKIPPED;
                row.clear_next();
            }
        }
        ChatOp::Connected { at, .. } => {
            if row.status == status::NOT_STARTED {
                row.status = status::INVITATION_ACCEPTED;
                row.accepted_at = Some(*at);
            }
        }
        ChatOp::Accepted { at, .. } => {
            if row.status == status::INVITATION_SENT {
                row.status = status::INVITATION_ACCEPTED;
                row.accepted_at = Some(*at);
                fx.event(row, EventType::InvitationAccepted, *at, &[]);
            }
        }
        ChatOp::Enriched {
            profile,
            at,
            first_message_at,
            ..
        } => {
            fx.profiles.push((
                row.team_id.clone(),
                row.prospect_id.clone(),
                profile.clone(),
                *at,
            ));
            row.enriched_at = Some(*at);
            if let Some(due) = first_message_at
                && row.status == status::INVITATION_ACCEPTED
                && row.next_message_at.is_none()
                && row.messages_sent == 0
            {
                row.set_next(*due, MessageKind::First);
                fx.pull(&row.agent_id, *due);
            }
        }
        ChatOp::MessageSent {
            send_id,
            kind,
            text,
            at,
            next,
            origin,
            ..
        } => {
            if !won.contains(send_id) {
                return;
            }
            if let Some(draft) = &origin.draft_id {
                fx.drafts_sent.push((draft.clone(), *at));
                if row.draft_id.as_ref() == Some(draft) {
                    row.draft_id = None;
                }
            }
            fx.message(row, Role::Assistant, text, *at, Some(origin));
            fx.action(row, action::MESSAGE, *at);
            fx.event(
                row,
                EventType::MessageSent,
                *at,
                &[("message", json!(text))],
            );
            row.status = status_after_message(row.status, Role::Assistant);
            row.messages_sent += 1;
            row.last_message_at = Some(*at);
            if *kind == Some(MessageKind::FollowUp) {
                row.followups_sent += 1;
            }
            if row.finished() {
                row.clear_next();
            } else if row.next_message_at.is_none()
                && let Some(due) = next
            {
                row.set_next(*due, MessageKind::FollowUp);
                fx.pull(&row.agent_id, *due);
            }
        }
        ChatOp::Withdrawn { at, .. } => {
            if row.status != status::INVITATION_SENT {
                return;
            }
            row.withdrawn_at = Some(*at);
        }
        ChatOp::Drafted { draft, .. } => {
            if row.finished() || row.draft_id.is_some() {
                return;
            }
            row.draft_id = Some(draft.id.clone());
            row.clear_next();
            fx.drafts.push(draft.clone());
        }
        ChatOp::MessageReleased { due, kind, .. } => {
            if !row.finished() && row.next_message_at.is_none() {
                row.set_next(*due, *kind);
                fx.pull(&row.agent_id, *due);
            }
        }
        ChatOp::Received {
            messages,
            reply_at,
            seen_until,
            ..
        } => {
            let seen = row.replies_seen_at.unwrap_or(Millis::MIN);
            let mut fresh = 0;
            for (text, at) in messages.iter().filter(|(_, at)| *at > seen) {
                fx.message(row, Role::User, text, *at, None);
                fx.event(
                    row,
                    EventType::MessageReceived,
                    *at,
                    &[("message", json!(text))],
                );
                row.status = status_after_message(row.status, Role::User);
                row.has_responded = true;
                row.last_response_at = Some(row.last_response_at.map_or(*at, |last| last.max(*at)));
                fresh += 1;
            }
            fx.received += fresh;
            row.replies_seen_at = Some(seen.max(*seen_until));
            if fresh > 0
                && let Some(draft) = row.draft_id.take()
            {
                // What the draft answered is no longer the last word.
                fx.superseded.push(draft);
            }
            if fresh > 0 && !row.finished() {
                match reply_at {
                    Some(due) => {
                        row.set_next(*due, MessageKind::Reply);
                        fx.pull(&row.agent_id, *due);
                    }
                    None => row.clear_next(),
                }
            }
        }
        ChatOp::DropMessage { .. } => row.clear_next(),
        ChatOp::Postpone { due, .. } => {
            if !row.finished() && row.next_message_at.is_some() {
                row.next_message_at = Some(*due);
                fx.pull(&row.agent_id, *due);
            }
        }
        ChatOp::Judged {
            score,
            reason,
            qualification,
            at,
            ..
        } => {
            if row.finished() {
                return;
            }
            let before = Qualification::parse(&row.qualification);
            row.score = Some(*score);
            row.score_reason.clone_from(reason);
            row.qualification = qualification.as_str().to_owned();
            let event = match qualification {
                Qualification::Qualified => {
                    row.status = status::QUALIFIED;
                    row.qualified_at = Some(*at);
                    Some(EventType::Qualified)
                }
                Qualification::Unqualified => {
                    row.status = status::UNQUALIFIED;
                    Some(EventType::Unqualified)
                }
                Qualification::NeedVerification => Some(EventType::QualificationManual),
                Qualification::InProgress => None,
            };
            if row.finished() {
                row.clear_next();
            }
            if before != Some(*qualification)
                && let Some(event) = event
            {
                let extra = [
                    ("qualification", json!(qualification.as_str())),
                    ("score", json!(score)),
                    ("qualifiedBy", json!(QUALIFIED_BY_AI)),
                ];
                fx.event(row, event, *at, &extra);
            }
        }
    }
    work.changed = true;
}

/// The status after a successful login: a login under way (or waiting for a code) runs; any
/// other status (paused, running) stays.
fn logged_in_status(current: AgentStatus) -> AgentStatus {
    let logging_in = match current {
        AgentStatus::AuthNeeded => current.apply(AgentEvent::Setup).unwrap_or(current),
        other => other,
    };
    if logging_in == AgentStatus::AuthInProgress {
        next_status(logging_in, &[], AgentEvent::LoginSucceeded).unwrap_or(current)
    } else {
        current
    }
}

/// The ids of `items`, for an `IN (...)` list, without duplicates.
fn unique<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = items.into_iter().collect();
    set.into_iter().map(str::to_owned).collect()
}

/// The alerts after adding `alert` (replacing one of the same type and subtype).
fn with_alert(mut alerts: Vec<Alert>, alert: Alert) -> Vec<Alert> {
    alerts.retain(|a| !(a.kind == alert.kind && a.sub_type == alert.sub_type));
    alerts.push(alert);
    alerts
}

/// The local day `day` as stored.
pub fn day_key(day: chrono::NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

/// The local day a stored key names.
pub fn parse_day_key(key: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(key, DAY_FORMAT).ok()
}

/// `impl_engine_store!(Store, "<lock of chats aliased ch>", "<lock of one row>",
/// "<skip locked>", "<greatest>")`: PostgreSQL locks the rows it changes and lets workers skip
/// each other's tasks; SQLite's single writer needs neither. `<greatest>` is the two-argument
/// maximum (`MAX` in SQLite, `GREATEST` in PostgreSQL).
macro_rules! impl_engine_store {
    ($store:ty, $lock_chats:literal, $lock_row:literal, $skip_locked:literal, $greatest:literal) => {
        impl $store {
            /// The rows `head <ids> tail` selects, chunk by chunk of the distinct `ids`: as one
            /// JSON-array row per chunk with [`Self::JSON_ROWS`], else row by row.
            async fn rows_by_ids<R, T>(
                &self,
                head: &'static str,
                tail: &'static str,
                ids: &[String],
            ) -> StoreResult<Vec<T>>
            where
                R: for<'r> sqlx::FromRow<
                        'r,
                        <<$store as crate::Backend>::Db as sqlx::Database>::Row,
                    > + serde::de::DeserializeOwned
                    + Send
                    + Unpin,
                T: TryFrom<R, Error = StoreError>,
            {
                let mut found = Vec::with_capacity(ids.len());
                for chunk in unique(ids.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(head);
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(tail);
                    let rows: Vec<R> = if Self::JSON_ROWS {
                        json_rows(query.build_query_scalar().fetch_one(self.engine_pool()).await?)?
                    } else {
                        query.build_query_as().fetch_all(self.engine_pool()).await?
                    };
                    for row in rows {
                        found.push(T::try_from(row)?);
                    }
                }
                Ok(found)
            }

            /// Stops every unfinished conversation of the prospect with `url` in `team`
            /// (status 7, no planned message, tasks cancelled), inside the caller's
            /// transaction: the DNC hook. Returns how many were stopped.
            pub(crate) async fn stop_chats_on_dnc_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                url: &str,
                now: Millis,
            ) -> StoreResult<u64> {
                let rows = sqlx::query_as::<_, crate::chats::TallyRow>(concat!(
                    "SELECT ch.campaign_id, ch.status, ch.qualification, ch.has_responded, \
                     ch.messages_sent FROM chats ch JOIN prospects p ON p.id = ch.prospect_id \
                     WHERE p.team_id = $1 AND p.url = $2 ORDER BY ch.id",
                    $lock_chats
                ))
                .bind(team)
                .bind(url)
                .fetch_all(&mut **tx)
                .await?;
                let open: Vec<&crate::chats::TallyRow> =
                    rows.iter().filter(|r| !status::is_finished(r.status)).collect();
                if open.is_empty() {
                    return Ok(0);
                }
                let drafted: Vec<String> = sqlx::query_scalar(
                    "SELECT ch.id FROM chats ch JOIN prospects p ON p.id = ch.prospect_id \
                     WHERE p.team_id = $1 AND p.url = $2 AND ch.draft_id IS NOT NULL",
                )
                .bind(team)
                .bind(url)
                .fetch_all(&mut **tx)
                .await?;
                for chat in &drafted {
                    Self::supersede_draft_in(tx, chat, false, now).await?;
                }
                sqlx::query(
                    "UPDATE tasks SET status = 'cancelled', lease_until = NULL, updated_at = $3 \
                     WHERE status IN ('pending', 'running') AND chat_id IN (SELECT ch.id FROM \
                     chats ch JOIN prospects p ON p.id = ch.prospect_id WHERE p.team_id = $1 \
                     AND p.url = $2 AND ch.status NOT IN (5, 6, 7) AND ch.status < 502)",
                )
                .bind(team)
                .bind(url)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "UPDATE chats SET status = 7, next_message_at = NULL, \
                     next_message_kind = NULL, updated_at = $3 WHERE id IN (SELECT ch.id FROM \
                     chats ch JOIN prospects p ON p.id = ch.prospect_id WHERE p.team_id = $1 \
                     AND p.url = $2 AND ch.status NOT IN (5, 6, 7) AND ch.status < 502)",
                )
                .bind(team)
                .bind(url)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                for row in &open {
                    let mut after = (*row).clone();
                    after.status = status::SKIPPED;
                    Self::apply_tally(tx, &row.campaign_id, after.tally().minus(row.tally()))
                        .await?;
                }
                Ok(u64::try_from(open.len()).unwrap_or(u64::MAX))
            }

            /// Moves the ledger rows out of `sending`; returns those this call moved.
            async fn settle_sends_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                sends: &[SendSettle],
                now: Millis,
            ) -> StoreResult<HashSet<String>> {
                let mut won = HashSet::new();
                let mut settled = Vec::with_capacity(sends.len());
                for send in sends {
                    match &send.outcome {
                        SendOutcome::Sent { provider_id } => {
                            settled.push((&send.id, "sent", provider_id.clone(), None, Some(now)));
                        }
                        SendOutcome::Failed { error } => {
                            settled.push((&send.id, "failed", None, Some(error.clone()), None));
                        }
                        SendOutcome::Unknown { lease_until } => {
                            sqlx::query(
                                "UPDATE sends SET lease_until = $2 WHERE id = $1 AND status = 'sending'",
                            )
                            .bind(&send.id)
                            .bind(lease_until)
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                }
                for chunk in settled.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, status, provider_id, error, sent_at) AS (",
                    );
                    query.push_values(chunk, |mut row, (id, status, provider_id, error, sent_at)| {
                        row.push_bind((*id).clone())
                            .push_bind(*status)
                            .push_bind(provider_id.clone())
                            .push_bind(error.clone())
                            .push_bind(*sent_at);
                    });
                    query.push(
                        ") UPDATE sends SET status = v.status, provider_id = v.provider_id, \
                         error = v.error, sent_at = v.sent_at FROM v \
                         WHERE sends.id = v.id AND sends.status = 'sending' RETURNING sends.id",
                    );
                    let moved: Vec<String> = query.build_query_scalar().fetch_all(&mut **tx).await?;
                    won.extend(moved);
                }
                Ok(won)
            }

            /// The rows of `ids`, locked, by id.
            async fn chat_states_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                ids: &[String],
            ) -> StoreResult<Vec<ChatStateRow>> {
                let mut rows = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(INSERT_CHUNK) {
                    let mut query =
                        sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(chat_state_columns!());
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(") ORDER BY ch.id");
                    query.push($lock_chats);
                    rows.extend(query.build_query_as::<ChatStateRow>().fetch_all(&mut **tx).await?);
                }
                Ok(rows)
            }

            /// Writes the changed chat rows and their campaigns' tally deltas.
            async fn write_chats_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                chats: &BTreeMap<String, ChatWork>,
                now: Millis,
            ) -> StoreResult<()> {
                let changed: Vec<&ChatWork> = chats.values().filter(|w| w.changed).collect();
                for chunk in changed.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, status, qualification, score, has_responded, messages_sent, \
                         last_message_at, last_response_at, qualified_at, invited_at, accepted_at, \
                         enriched_at, next_message_at, next_message_kind, followups_sent, \
                         replies_seen_at, draft_id, score_reason, withdrawn_at) AS (",
                    );
                    query.push_values(chunk, |mut values, work| {
                        let row = &work.row;
                        values
                            .push_bind(row.id.clone())
                            .push_bind(row.status)
                            .push_bind(row.qualification.clone())
                            .push_bind(row.score)
                            .push_bind(row.has_responded)
                            .push_bind(row.messages_sent)
                            .push_bind(row.last_message_at)
                            .push_bind(row.last_response_at)
                            .push_bind(row.qualified_at)
                            .push_bind(row.invited_at)
                            .push_bind(row.accepted_at)
                            .push_bind(row.enriched_at)
                            .push_bind(row.next_message_at)
                            .push_bind(row.next_message_kind.clone())
                            .push_bind(row.followups_sent)
                            .push_bind(row.replies_seen_at)
                            .push_bind(row.draft_id.clone())
                            .push_bind(row.score_reason.clone())
                            .push_bind(row.withdrawn_at);
                    });
                    query.push(
                        ") UPDATE chats SET status = v.status, qualification = v.qualification, \
                         score = v.score, has_responded = v.has_responded, \
                         messages_sent = v.messages_sent, last_message_at = v.last_message_at, \
                         last_response_at = v.last_response_at, qualified_at = v.qualified_at, \
                         invited_at = v.invited_at, accepted_at = v.accepted_at, \
                         enriched_at = v.enriched_at, next_message_at = v.next_message_at, \
                         next_message_kind = v.next_message_kind, \
                         followups_sent = v.followups_sent, replies_seen_at = v.replies_seen_at, \
                         draft_id = v.draft_id, score_reason = v.score_reason, \
                         withdrawn_at = v.withdrawn_at, updated_at = ",
                    );
                    query.push_bind(now).push(" FROM v WHERE chats.id = v.id");
                    query.build().execute(&mut **tx).await?;
                }
                let mut deltas: BTreeMap<&str, ChatTally> = BTreeMap::new();
                for work in &changed {
                    let delta = work.row.tally().minus(work.before);
                    if !delta.is_zero() {
                        let sum = deltas.entry(work.row.campaign_id.as_str()).or_default();
                        *sum = ChatTally {
                            prospects: sum.prospects + delta.prospects,
                            answers: sum.answers + delta.answers,
                            messages: sum.messages + delta.messages,
                            qualified: sum.qualified + delta.qualified,
                            closed: sum.closed + delta.closed,
                        };
                    }
                }
                for (campaign, delta) in deltas {
                    Self::apply_tally(tx, campaign, delta).await?;
                }
                Ok(())
            }

            /// Inserts the messages, events and action-log entries of a settlement.
            async fn write_effects_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                fx: &Effects,
                now: Millis,
            ) -> StoreResult<()> {
                for chunk in fx.messages.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "INSERT INTO messages (id, team_id, chat_id, campaign_id, role, content, \
                         created_at, author, model, prompt_id) ",
                    );
                    query.push_values(chunk, |mut values, m| {
                        let origin = m.origin.as_ref();
                        values
                            .push_bind(new_id())
                            .push_bind(m.team_id.clone())
                            .push_bind(m.chat_id.clone())
                            .push_bind(m.campaign_id.clone())
                            .push_bind(m.role.as_str())
                            .push_bind(m.content.clone())
                            .push_bind(m.at)
                            .push_bind(origin.map(|o| o.author.as_str()))
                            .push_bind(origin.and_then(|o| o.model.clone()))
                            .push_bind(origin.and_then(|o| o.prompt_id.clone()));
                    });
                    query.build().execute(&mut **tx).await?;
                }
                Self::insert_drafts_in(tx, &fx.drafts).await?;
                for (draft, at) in &fx.drafts_sent {
                    sqlx::query(
                        "UPDATE drafts SET status = 'sent', sent_at = $2 \
                         WHERE id = $1 AND status = 'approved'",
                    )
                    .bind(draft)
                    .bind(*at)
                    .execute(&mut **tx)
                    .await?;
                }
                for draft in &fx.superseded {
                    sqlx::query(
                        "UPDATE drafts SET status = 'superseded', decided_at = COALESCE(decided_at, $2) \
                         WHERE id = $1 AND status IN ('pending', 'approved')",
                    )
                    .bind(draft)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                for chunk in fx.events.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "INSERT INTO events (id, team_id, event_type, data, occurred_at, \
                         campaign_id, chat_id) ",
                    );
                    query.push_values(chunk, |mut values, e| {
                        values
                            .push_bind(new_id())
                            .push_bind(e.team_id.clone())
                            .push_bind(e.event.as_str())
                            .push_bind(e.data.to_string())
                            .push_bind(e.at)
                            .push_bind(e.campaign_id.clone())
                            .push_bind(e.chat_id.clone());
                    });
                    query.build().execute(&mut **tx).await?;
                }
                for chunk in fx.actions.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "INSERT INTO agent_actions (id, team_id, agent_id, chat_id, kind, at) ",
                    );
                    query.push_values(chunk, |mut values, a| {
                        values
                            .push_bind(new_id())
                            .push_bind(a.team_id.clone())
                            .push_bind(a.agent_id.clone())
                            .push_bind(a.chat_id.clone())
                            .push_bind(a.kind)
                            .push_bind(a.at);
                    });
                    query.build().execute(&mut **tx).await?;
                }
                // The profiles read from LinkedIn: the prospects' names (for the search text)
                // in one query, the updates in one statement; the last profile of a prospect
                // wins.
                let mut profiles: BTreeMap<(&str, &str), (&ProspectProfile, Millis)> = BTreeMap::new();
                for (team, prospect, profile, at) in &fx.profiles {
                    profiles.insert((team.as_str(), prospect.as_str()), (profile, *at));
                }
                let profiles: Vec<((&str, &str), (&ProspectProfile, Millis))> =
                    profiles.into_iter().collect();
                for chunk in profiles.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT team_id, id, name FROM prospects WHERE id IN (",
                    );
                    let mut list = query.separated(", ");
                    for ((_, prospect), _) in chunk {
                        list.push_bind((*prospect).to_owned());
                    }
                    list.push_unseparated(")");
                    let names: Vec<(String, String, String)> =
                        query.build_query_as().fetch_all(&mut **tx).await?;
                    let names: HashMap<(&str, &str), &str> = names
                        .iter()
                        .map(|(team, id, name)| ((team.as_str(), id.as_str()), name.as_str()))
                        .collect();
                    let found: Vec<(&str, &str, &ProspectProfile, Millis, String)> = chunk
                        .iter()
                        .filter_map(|((team, prospect), (profile, at))| {
                            let name = names.get(&(*team, *prospect))?;
                            let text = search_text(
                                name,
                                profile.headline.as_deref(),
                                profile.current_company_name.as_deref(),
                            );
                            Some((*team, *prospect, *profile, *at, text))
                        })
                        .collect();
                    if found.is_empty() {
                        continue;
                    }
                    let mut update = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(team_id, id, headline, about, city, country, email, company, \
                         job_title, website, linkedin_url, search_text, at, provider_id) AS (",
                    );
                    update.push_values(&found, |mut row, (team, prospect, profile, at, text)| {
                        row.push_bind((*team).to_owned())
                            .push_bind((*prospect).to_owned())
                            .push_bind(profile.headline.clone())
                            .push_bind(profile.about.clone())
                            .push_bind(profile.city.clone())
                            .push_bind(profile.country.clone())
                            .push_bind(profile.email.clone())
                            .push_bind(profile.current_company_name.clone())
                            .push_bind(profile.current_job_title.clone())
                            .push_bind(profile.current_company_website.clone())
                            .push_bind(profile.current_company_linkedin_url.clone())
                            .push_bind(text.clone())
                            .push_bind(*at)
                            .push_bind(profile.provider_id.clone());
                    });
                    update.push(
                        ") UPDATE prospects SET headline = v.headline, about = v.about, \
                         city = v.city, country = v.country, \
                         email = COALESCE(v.email, prospects.email), \
                         current_company_name = v.company, current_job_title = v.job_title, \
                         current_company_website = v.website, \
                         current_company_linkedin_url = v.linkedin_url, \
                         search_text = v.search_text, updated_at = v.at, \
                         provider_id = COALESCE(v.provider_id, prospects.provider_id) \
                         FROM v WHERE prospects.team_id = v.team_id AND prospects.id = v.id",
                    );
                    update.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Applies the agent ops, then the usage of the settlement's sends.
            async fn write_agents_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                ops: &[AgentOp],
                usage: &BTreeMap<String, UsageDelta>,
                now: Millis,
            ) -> StoreResult<()> {
                for op in ops {
                    match op {
                        AgentOp::Rollover {
                            agent,
                            day,
                            day_ends_at,
                            invitations_target,
                            messages_target,
                            reset,
                            warmup,
                        } => {
                            if let Some((started, warmup_day)) = warmup {
                                sqlx::query(
                                    "UPDATE agents SET warmup_started = COALESCE(warmup_started, $2), \
                                     warmup_day = $3 WHERE id = $1",
                                )
                                .bind(agent)
                                .bind(started)
                                .bind(warmup_day)
                                .execute(&mut **tx)
                                .await?;
                            }
                            let sql = if *reset {
                                "UPDATE agents SET usage_day = $2, day_ends_at = $3, \
                                 invitations_target = $4, messages_target = $5, \
                                 invitations_today = 0, messages_today = 0 WHERE id = $1"
                            } else {
                                "UPDATE agents SET usage_day = $2, day_ends_at = $3, \
                                 invitations_target = $4, messages_target = $5 WHERE id = $1"
                            };
                            sqlx::query(sql)
                                .bind(agent)
                                .bind(day)
                                .bind(day_ends_at)
                                .bind(invitations_target)
                                .bind(messages_target)
                                .execute(&mut **tx)
                                .await?;
                            sqlx::query(
                                "INSERT INTO agent_days (agent_id, day, invitations_target, \
                                 messages_target) VALUES ($1, $2, $3, $4) ON CONFLICT (agent_id, day) \
                                 DO UPDATE SET invitations_target = excluded.invitations_target, \
                                 messages_target = excluded.messages_target",
                            )
                            .bind(agent)
                            .bind(day)
                            .bind(invitations_target)
                            .bind(messages_target)
                            .execute(&mut **tx)
                            .await?;
                        }
                        AgentOp::LoggedIn { agent, provider_account_id, name, avatar } => {
                            let Some((current, _)) = Self::agent_status_in(tx, agent).await? else {
                                continue;
                            };
                            let status = logged_in_status(current);
                            sqlx::query(
                                "UPDATE agents SET status = $2, provider_account_id = $3, name = $4, \
                                 avatar = COALESCE($5, avatar), alerts = '[]', updated_at = $6 \
                                 WHERE id = $1",
                            )
                            .bind(agent)
                            .bind(status.as_str())
                            .bind(provider_account_id)
                            .bind(name)
                            .bind(avatar)
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                        }
                        AgentOp::NeedsAction { agent, provider_account_id, alert } => {
                            let Some((current, alerts)) = Self::agent_status_in(tx, agent).await? else {
                                continue;
                            };
                            let status = next_status(current, &alerts, AgentEvent::LoginNeedsAction)
                                .unwrap_or(current);
                            sqlx::query(
                                "UPDATE agents SET status = $2, alerts = $3, \
                                 provider_account_id = COALESCE($4, provider_account_id), \
                                 updated_at = $5 WHERE id = $1",
                            )
                            .bind(agent)
                            .bind(status.as_str())
                            .bind(alerts_json(&with_alert(alerts, alert.clone())))
                            .bind(provider_account_id)
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                        }
                        AgentOp::ReplaceAlerts { agent, alert } => {
                            sqlx::query("UPDATE agents SET alerts = $2, updated_at = $3 WHERE id = $1")
                                .bind(agent)
                                .bind(alerts_json(std::slice::from_ref(alert)))
                                .bind(now)
                                .execute(&mut **tx)
                                .await?;
                        }
                        AgentOp::RateLimited { agent } => {
                            sqlx::query(
                                "UPDATE agents SET rate_limited_streak = rate_limited_streak + 1 \
                                 WHERE id = $1",
                            )
                            .bind(agent)
                            .execute(&mut **tx)
                            .await?;
                        }
                        AgentOp::Tripped { agent, alert } => {
                            Self::trip_breaker_in(tx, agent, alert, now).await?;
                        }
                    }
                }
                let usage: Vec<(&String, &UsageDelta)> = usage.iter().collect();
                for chunk in usage.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, invitations, messages, last_invitation_at, last_message_at) AS (",
                    );
                    query.push_values(chunk, |mut row, (agent, delta)| {
                        row.push_bind((*agent).clone())
                            .push_bind(delta.invitations)
                            .push_bind(delta.messages)
                            .push_bind(delta.last_invitation_at)
                            .push_bind(delta.last_message_at);
                    });
                    query.push(
                        ") UPDATE agents SET invitations_today = agents.invitations_today + v.invitations, \
                         messages_today = agents.messages_today + v.messages, \
                         last_invitation_at = COALESCE(v.last_invitation_at, agents.last_invitation_at), \
                         last_message_action_at = COALESCE(v.last_message_at, agents.last_message_action_at), \
                         rate_limited_streak = 0 \
                         FROM v WHERE agents.id = v.id",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// Stops a running agent with a safety alert and records `agent.stopped`.
            async fn trip_breaker_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                agent: &str,
                alert: &Alert,
                now: Millis,
            ) -> StoreResult<()> {
                let Some((current, alerts)) = Self::agent_status_in(tx, agent).await? else {
                    return Ok(());
                };
                if current != AgentStatus::Running {
                    return Ok(());
                }
                let team: String = sqlx::query_scalar("SELECT team_id FROM agents WHERE id = $1")
                    .bind(agent)
                    .fetch_one(&mut **tx)
                    .await?;
                sqlx::query(
                    "UPDATE agents SET status = $2, alerts = $3, rate_limited_streak = 0, \
                     updated_at = $4 WHERE id = $1",
                )
                .bind(agent)
                .bind(AgentStatus::Paused.as_str())
                .bind(alerts_json(&with_alert(alerts, alert.clone())))
                .bind(now)
                .execute(&mut **tx)
                .await?;
                let data = json!({
                    "agentId": agent,
                    "status": AgentStatus::Paused.as_str(),
                    "alert": alert,
                    "timestamp": iso8601(now),
                });
                sqlx::query(
                    "INSERT INTO events (id, team_id, event_type, data, occurred_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(new_id())
                .bind(&team)
                .bind(EventType::AgentStopped.as_str())
                .bind(data.to_string())
                .bind(now)
                .execute(&mut **tx)
                .await?;
                tracing::warn!(agent, alert = %alert.sub_type, "circuit breaker: agent stopped");
                Ok(())
            }

            async fn agent_status_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                agent: &str,
            ) -> StoreResult<Option<(AgentStatus, Vec<Alert>)>> {
                let row: Option<(String, String)> = sqlx::query_as(concat!(
                    "SELECT status, alerts FROM agents WHERE id = $1",
                    $lock_row
                ))
                .bind(agent)
                .fetch_optional(&mut **tx)
                .await?;
                let Some((status, alerts)) = row else { return Ok(None) };
                Ok(Some((stored_status(&status)?, stored_alerts(&alerts)?)))
            }

            /// Applies the task ops — first the ends of claims, then the upserts (which so win
            /// over the end of a claim of the same task), then cancels the tasks of finished chats
            /// and pulls slots — and refreshes the planned times of the agents whose slots moved.
            /// With claim rows, `claimed` holds the due times of the settlement's claim (`None`:
            /// no claim, or one that expired meanwhile: its tasks are left as they are).
            async fn write_tasks_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                ops: &[TaskOp],
                fx: &Effects,
                claimed: Option<&HashMap<String, Millis>>,
                now: Millis,
            ) -> StoreResult<()> {
                let mut slot_agents: BTreeSet<String> = BTreeSet::new();
                let mut note_slot = |id: &str| {
                    if let Some(agent) = id
                        .strip_suffix(":invite_slot")
                        .or_else(|| id.strip_suffix(":message_slot"))
                    {
                        slot_agents.insert(agent.to_owned());
                    }
                };
                let mut reschedules: Vec<(&String, Millis, Option<Millis>)> = Vec::new();
                let mut dones: Vec<&String> = Vec::new();
                let mut retries: Vec<(&String, Millis, &String)> = Vec::new();
                let mut fails: Vec<(&String, &String)> = Vec::new();
                let mut upserts: BTreeMap<&str, &NewTask> = BTreeMap::new();
                let mut pulls: BTreeMap<String, Millis> = BTreeMap::new();
                for op in ops {
                    match op {
                        TaskOp::Upsert(task) => {
                            note_slot(&task.id);
                            upserts.insert(task.id.as_str(), task);
                        }
                        TaskOp::Reschedule { id, due_at, not_before } => {
                            note_slot(id);
                            reschedules.push((id, *due_at, *not_before));
                        }
                        TaskOp::Done { id } => dones.push(id),
                        TaskOp::Retry { id, due_at, error } => retries.push((id, *due_at, error)),
                        TaskOp::Fail { id, error } => fails.push((id, error)),
                        TaskOp::Pull { id, at } => {
                            note_slot(id);
                            let entry = pulls.entry(id.clone()).or_insert(*at);
                            *entry = (*entry).min(*at);
                        }
                    }
                }
                for (agent, at) in &fx.pulls {
                    let entry = pulls.entry(task_id(agent, kind::MESSAGE_SLOT)).or_insert(*at);
                    *entry = (*entry).min(*at);
                    slot_agents.insert(agent.clone());
                }
                if Self::CLAIM_ROWS {
                    let claimed = claimed.cloned().unwrap_or_default();
                    Self::finish_claim_rows_in(tx, &claimed, &reschedules, &dones, &retries, &fails, now)
                        .await?;
                } else {
                    Self::finish_running_in(tx, &reschedules, &dones, &retries, &fails, now).await?;
                }
                let upserts: Vec<&NewTask> = upserts.into_values().collect();
                for chunk in upserts.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "INSERT INTO tasks (id, team_id, agent_id, campaign_id, chat_id, kind, \
                         status, due_at, not_before, attempts, payload, created_at, updated_at) ",
                    );
                    query.push_values(chunk, |mut row, task| {
                        row.push_bind(task.id.clone())
                            .push_bind(task.team_id.clone())
                            .push_bind(task.agent_id.clone())
                            .push_bind(task.campaign_id.clone())
                            .push_bind(task.chat_id.clone())
                            .push_bind(task.kind)
                            .push_bind("pending")
                            .push_bind(task.due_at)
                            .push_bind(task.not_before)
                            .push_bind(0_i64)
                            .push_bind(task.payload.clone())
                            .push_bind(now)
                            .push_bind(now);
                    });
                    query.push(
                        " ON CONFLICT (id) DO UPDATE SET status = 'pending', \
                         due_at = excluded.due_at, not_before = excluded.not_before, attempts = 0, \
                         lease_until = NULL, last_error = NULL, payload = excluded.payload, \
                         updated_at = excluded.updated_at",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                let finished: Vec<&String> = fx.finished.iter().collect();
                for chunk in finished.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "UPDATE tasks SET status = 'cancelled', lease_until = NULL, updated_at = ",
                    );
                    query.push_bind(now);
                    query.push(" WHERE status IN ('pending', 'running') AND chat_id IN (");
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind((*id).clone());
                    }
                    list.push_unseparated(")");
                    query.build().execute(&mut **tx).await?;
                }
                let pulls: Vec<(String, Millis)> = pulls.into_iter().collect();
                for chunk in pulls.chunks(INSERT_CHUNK) {
                    let mut query =
                        sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new("WITH v(id, at) AS (");
                    query.push_values(chunk, |mut row, (id, at)| {
                        row.push_bind(id.clone()).push_bind(*at);
                    });
                    query.push(concat!(
                        ") UPDATE tasks SET due_at = ", $greatest, "(COALESCE(tasks.not_before, 0), v.at), \
                         updated_at = "
                    ));
                    query.push_bind(now).push(concat!(
                        " FROM v WHERE tasks.id = v.id AND tasks.status = 'pending' \
                         AND tasks.due_at > ", $greatest, "(COALESCE(tasks.not_before, 0), v.at)"
                    ));
                    query.build().execute(&mut **tx).await?;
                }
                let agents: Vec<String> = slot_agents.into_iter().collect();
                Self::show_schedules_in(tx, &agents, now).await
            }


            /// Deletes claim row `id`; returns the due times it held (`None`: it expired and was
            /// released meanwhile).
            async fn release_claim_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                id: &str,
            ) -> StoreResult<Option<HashMap<String, Millis>>> {
                let tasks: Option<String> = sqlx::query_scalar("DELETE FROM task_claims WHERE id = $1 RETURNING tasks")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
                tasks
                    .map(|json| {
                        serde_json::from_str(&json)
                            .map_err(|e| StoreError::Corrupt(format!("task claim: {e}")))
                    })
                    .transpose()
            }

            /// Ends claims of tasks marked `running` (PostgreSQL).
            async fn finish_running_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                reschedules: &[(&String, Millis, Option<Millis>)],
                dones: &[&String],
                retries: &[(&String, Millis, &String)],
                fails: &[(&String, &String)],
                now: Millis,
            ) -> StoreResult<()> {
                for chunk in reschedules.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, due_at, not_before) AS (",
                    );
                    query.push_values(chunk, |mut row, (id, due_at, not_before)| {
                        row.push_bind((*id).clone()).push_bind(*due_at).push_bind(*not_before);
                    });
                    query.push(
                        ") UPDATE tasks SET status = 'pending', due_at = v.due_at, \
                         not_before = v.not_before, attempts = 0, lease_until = NULL, \
                         last_error = NULL, updated_at = ",
                    );
                    query.push_bind(now).push(
                        " FROM v WHERE tasks.id = v.id AND tasks.status = 'running'",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                for chunk in dones.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "UPDATE tasks SET status = 'done', lease_until = NULL, updated_at = ",
                    );
                    query.push_bind(now).push(" WHERE status = 'running' AND id IN (");
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind((*id).clone());
                    }
                    list.push_unseparated(")");
                    query.build().execute(&mut **tx).await?;
                }
                for (id, due_at, error) in retries {
                    sqlx::query(
                        "UPDATE tasks SET status = 'pending', due_at = $2, last_error = $3, \
                         lease_until = NULL, updated_at = $4 WHERE id = $1 AND status = 'running'",
                    )
                    .bind(*id)
                    .bind(due_at)
                    .bind(*error)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                for (id, error) in fails {
                    sqlx::query(
                        "UPDATE tasks SET status = 'failed', last_error = $2, lease_until = NULL, \
                         updated_at = $3 WHERE id = $1 AND status = 'running'",
                    )
                    .bind(*id)
                    .bind(*error)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Ends claims held by a claim row (SQLite): the tasks stay `pending`, so only a
            /// task whose due time is still the claimed one is finished (a task re-armed or
            /// cancelled meanwhile keeps its new state). Only the columns that change are set.
            async fn finish_claim_rows_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                claimed: &HashMap<String, Millis>,
                reschedules: &[(&String, Millis, Option<Millis>)],
                dones: &[&String],
                retries: &[(&String, Millis, &String)],
                fails: &[(&String, &String)],
                now: Millis,
            ) -> StoreResult<()> {
                let reschedules: Vec<(&String, Millis, Option<Millis>, Millis)> = reschedules
                    .iter()
                    .filter_map(|(id, due_at, not_before)| {
                        claimed.get(*id).map(|was| (*id, *due_at, *not_before, *was))
                    })
                    .collect();
                for chunk in reschedules.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, due_at, not_before, claimed) AS (",
                    );
                    query.push_values(chunk, |mut row, (id, due_at, not_before, was)| {
                        row.push_bind((*id).clone())
                            .push_bind(*due_at)
                            .push_bind(*not_before)
                            .push_bind(*was);
                    });
                    query.push(
                        ") UPDATE tasks SET due_at = v.due_at, not_before = v.not_before, \
                         attempts = 0, last_error = NULL, updated_at = ",
                    );
                    query.push_bind(now).push(
                        " FROM v WHERE tasks.id = v.id AND tasks.status = 'pending' \
                         AND tasks.due_at = v.claimed",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                let dones: Vec<(&String, Millis)> = dones
                    .iter()
                    .filter_map(|id| claimed.get(*id).map(|was| (*id, *was)))
                    .collect();
                for chunk in dones.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, claimed) AS (",
                    );
                    query.push_values(chunk, |mut row, (id, was)| {
                        row.push_bind((*id).clone()).push_bind(*was);
                    });
                    query.push(") UPDATE tasks SET status = 'done', updated_at = ");
                    query.push_bind(now).push(
                        " FROM v WHERE tasks.id = v.id AND tasks.status = 'pending' \
                         AND tasks.due_at = v.claimed",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                for (id, due_at, error) in retries {
                    let Some(was) = claimed.get(*id) else { continue };
                    // The claim did not count the attempt: the retry does.
                    sqlx::query(
                        "UPDATE tasks SET due_at = $2, last_error = $3, attempts = attempts + 1, \
                         updated_at = $4 WHERE id = $1 AND status = 'pending' AND due_at = $5",
                    )
                    .bind(*id)
                    .bind(due_at)
                    .bind(*error)
                    .bind(now)
                    .bind(was)
                    .execute(&mut **tx)
                    .await?;
                }
                for (id, error) in fails {
                    let Some(was) = claimed.get(*id) else { continue };
                    sqlx::query(
                        "UPDATE tasks SET status = 'failed', last_error = $2, updated_at = $3 \
                         WHERE id = $1 AND status = 'pending' AND due_at = $4",
                    )
                    .bind(*id)
                    .bind(*error)
                    .bind(now)
                    .bind(was)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Copies the agents' slot times to `next_invitation`, `next_message`, `next_task`,
            /// in one statement; an agent whose times did not change is not rewritten.
            async fn show_schedules_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                agents: &[String],
                now: Millis,
            ) -> StoreResult<()> {
                for chunk in agents.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH s(id, invitation, message) AS (SELECT a.id, \
                         (SELECT t.due_at FROM tasks t WHERE t.id = a.id || ':invite_slot' \
                         AND t.status IN ('pending', 'running') AND t.due_at < ",
                    );
                    query.push_bind(PARKED).push(
                        "), (SELECT t.due_at FROM tasks t WHERE t.id = a.id || ':message_slot' \
                         AND t.status IN ('pending', 'running') AND t.due_at < ",
                    );
                    query.push_bind(PARKED).push(") FROM agents a WHERE a.id IN (");
                    let mut list = query.separated(", ");
                    for agent in chunk {
                        list.push_bind(agent.clone());
                    }
                    list.push_unseparated(
                        ")) UPDATE agents SET next_invitation = s.invitation, \
                         next_message = s.message, next_task = CASE WHEN s.message IS NULL \
                         OR s.invitation < s.message THEN COALESCE(s.invitation, s.message) \
                         ELSE s.message END, updated_at = ",
                    );
                    query.push_bind(now).push(
                        " FROM s WHERE agents.id = s.id \
                         AND (agents.next_invitation IS DISTINCT FROM s.invitation \
                         OR agents.next_message IS DISTINCT FROM s.message)",
                    );
                    query.build().execute(&mut **tx).await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl EngineStore for $store {
            async fn plan_engine(&self, now: Millis, wall: Millis) -> StoreResult<Planned> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE tasks SET status = 'pending', lease_until = NULL \
                     WHERE status = 'running' AND lease_until <= $1",
                )
                .bind(wall)
                .execute(&mut *tx)
                .await?;
                if Self::CLAIM_ROWS {
                    // The process of an expired claim died on it (or overran): its tasks
                    // count the attempt and are free again.
                    sqlx::query(
                        concat!(
                            "UPDATE tasks SET attempts = attempts + 1 WHERE status = 'pending' \
                             AND id IN (",
                            claimed_ids!(),
                            " WHERE c.lease_until <= $1)"
                        ),
                    )
                    .bind(wall)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM task_claims WHERE lease_until <= $1")
                        .bind(wall)
                        .execute(&mut *tx)
                        .await?;
                }
                let logins = sqlx::query(
                    "INSERT INTO tasks (id, team_id, agent_id, kind, status, due_at, attempts, \
                     created_at, updated_at) SELECT a.id || ':login', a.team_id, a.id, 'login', \
                     'pending', $1, 0, $1, $1 FROM agents a WHERE a.status = 'auth_in_progress' \
                     ON CONFLICT (id) DO UPDATE SET status = 'pending', due_at = excluded.due_at, \
                     attempts = 0, lease_until = NULL, last_error = NULL, \
                     updated_at = excluded.updated_at \
                     WHERE tasks.status IN ('done', 'failed', 'cancelled')",
                )
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let mut slots_created = 0;
                for slot in [kind::INVITE_SLOT, kind::MESSAGE_SLOT] {
                    slots_created += sqlx::query(
                        "INSERT INTO tasks (id, team_id, agent_id, kind, status, due_at, attempts, \
                         created_at, updated_at) SELECT a.id || ':' || $2, a.team_id, a.id, $2, \
                         'pending', $1, 0, $1, $1 FROM agents a WHERE a.status = 'running' \
                         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.id || ':' || $2)",
                    )
                    .bind(now)
                    .bind(slot)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                let invite_rearmed = sqlx::query(
                    "UPDATE tasks SET due_at = $1, updated_at = $1 WHERE due_at = $2 \
                     AND status = 'pending' AND kind = 'invite_slot' \
                     AND EXISTS (SELECT 1 FROM agents a WHERE a.id = tasks.agent_id \
                     AND a.status = 'running') \
                     AND EXISTS (SELECT 1 FROM campaigns c JOIN chats ch ON ch.campaign_id = c.id \
                     WHERE c.agent_id = tasks.agent_id AND c.status = 'active' AND ch.status = 0 \
                     AND NOT ch.paused AND ch.invited_at IS NULL)",
                )
                .bind(now)
                .bind(PARKED)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // A message slot waits for its work (or its spread); work that became due while
                // it slept (a resumed conversation or campaign) brings it forward.
                let message_rearmed = sqlx::query(concat!(
                    "UPDATE tasks SET due_at = ", $greatest, "(COALESCE(not_before, 0), $1), \
                     updated_at = $1 WHERE status = 'pending' AND kind = 'message_slot' \
                     AND due_at > ", $greatest, "(COALESCE(not_before, 0), $1) \
                     AND EXISTS (SELECT 1 FROM agents a WHERE a.id = tasks.agent_id \
                     AND a.status = 'running') \
                     AND EXISTS (SELECT 1 FROM campaigns c JOIN chats ch ON ch.campaign_id = c.id \
                     WHERE c.agent_id = tasks.agent_id AND c.status = 'active' \
                     AND ch.next_message_at <= $1 AND NOT ch.paused)"
                ))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let watched = sqlx::query(
                    "INSERT INTO tasks (id, team_id, agent_id, campaign_id, chat_id, kind, status, \
                     due_at, attempts, created_at, updated_at) SELECT ch.id || ':check', \
                     ch.team_id, c.agent_id, ch.campaign_id, ch.id, 'check', 'pending', $1, 0, $1, \
                     $1 FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
                     WHERE ch.ongoing AND ch.replies_seen_at IS NULL \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query(
                    "UPDATE chats SET replies_seen_at = $1 WHERE ongoing AND replies_seen_at IS NULL",
                )
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if slots_created + invite_rearmed + message_rearmed > 0 {
                    let agents: Vec<String> = sqlx::query_scalar(
                        "SELECT DISTINCT agent_id FROM tasks WHERE kind IN ('invite_slot', \
                         'message_slot') AND status = 'pending' AND updated_at = $1 \
                         AND agent_id IS NOT NULL",
                    )
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await?;
                    Self::show_schedules_in(&mut tx, &agents, now).await?;
                }
                tx.commit().await?;
                Ok(Planned {
                    logins,
                    slots_created,
                    slots_rearmed: invite_rearmed + message_rearmed,
                    watched,
                })
            }

            async fn agents_to_roll_over(&self, now: Millis) -> StoreResult<Vec<EngineAgent>> {
                sqlx::query_as::<_, EngineAgentRow>(concat!(
                    select_engine_agents!(),
                    " WHERE status = 'running' AND (day_ends_at IS NULL OR day_ends_at <= $1) \
                     ORDER BY id"
                ))
                .bind(now)
                .fetch_all(self.engine_pool())
                .await?
                .into_iter()
                .map(EngineAgent::try_from)
                .collect()
            }

            async fn claim_tasks(
                &self,
                now: Millis,
                lease_until: Millis,
                limit: i64,
                max_attempts: i64,
            ) -> StoreResult<Claimed> {
                let mut tx = self.begin_write().await?;
                let select = if Self::CLAIM_ROWS {
                    concat!(
                        "SELECT id, team_id, agent_id, campaign_id, chat_id, kind, due_at, \
                         not_before, attempts, payload FROM tasks WHERE status = 'pending' \
                         AND due_at <= $1 AND id NOT IN (",
                        claimed_ids!(),
                        ") ORDER BY due_at, id LIMIT $2"
                    )
                } else {
                    concat!(
                        "SELECT id, team_id, agent_id, campaign_id, chat_id, kind, due_at, not_before, \
                         attempts, payload FROM tasks WHERE status = 'pending' AND due_at <= $1 \
                         ORDER BY due_at, id LIMIT $2",
                        $skip_locked
                    )
                };
                let tasks = sqlx::query_as::<_, Task>(select)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                let (tasks, exhausted): (Vec<Task>, Vec<Task>) =
                    tasks.into_iter().partition(|t| t.attempts < max_attempts);
                for task in &exhausted {
                    tracing::warn!(task = %task.id, attempts = task.attempts, "task abandoned");
                    sqlx::query(
                        "UPDATE tasks SET status = 'failed', lease_until = NULL, updated_at = $2, \
                         last_error = COALESCE(last_error, 'abandoned: claimed too often without finishing') \
                         WHERE id = $1",
                    )
                    .bind(&task.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut claim = None;
                if Self::CLAIM_ROWS {
                    if !tasks.is_empty() {
                        let due: serde_json::Map<String, Value> =
                            tasks.iter().map(|t| (t.id.clone(), Value::from(t.due_at))).collect();
                        let id = new_id();
                        sqlx::query(
                            "INSERT INTO task_claims (id, tasks, lease_until, created_at) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(&id)
                        .bind(Value::Object(due).to_string())
                        .bind(lease_until)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        claim = Some(id);
                    }
                } else {
                    for chunk in tasks.chunks(INSERT_CHUNK) {
                        let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                            "UPDATE tasks SET status = 'running', attempts = attempts + 1, lease_until = ",
                        );
                        query.push_bind(lease_until).push(" WHERE id IN (");
                        let mut list = query.separated(", ");
                        for task in chunk {
                            list.push_bind(task.id.clone());
                        }
                        list.push_unseparated(")");
                        query.build().execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                Ok(Claimed { id: claim, tasks })
            }

            async fn next_task_due(&self) -> StoreResult<Option<Millis>> {
                let sql = if Self::CLAIM_ROWS {
                    concat!(
                        "SELECT MIN(due_at) FROM tasks WHERE status = 'pending' AND due_at < $1 \
                         AND id NOT IN (",
                        claimed_ids!(),
                        ")"
                    )
                } else {
                    "SELECT MIN(due_at) FROM tasks WHERE status = 'pending' AND due_at < $1"
                };
                Ok(sqlx::query_scalar(sql)
                .bind(PARKED)
                .fetch_one(self.engine_pool())
                .await?)
            }

            async fn engine_agents(&self, ids: &[String]) -> StoreResult<Vec<EngineAgent>> {
                let (head, tail) = if Self::JSON_ROWS {
                    (
                        concat!(
                            "SELECT json_group_array(",
                            engine_agent_object!(),
                            " ORDER BY id) FROM agents WHERE id IN ("
                        ),
                        ")",
                    )
                } else {
                    (concat!(select_engine_agents!(), " WHERE id IN ("), ") ORDER BY id")
                };
                self.rows_by_ids::<EngineAgentRow, EngineAgent>(head, tail, ids).await
            }

            async fn engine_chats(&self, ids: &[String]) -> StoreResult<Vec<EngineChat>> {
                let (head, tail) = if Self::JSON_ROWS {
                    (
                        concat!(
                            "SELECT json_group_array(",
                            engine_chat_object!(),
                            " ORDER BY ch.id)",
                            engine_chats_from!(),
                            " WHERE ch.id IN ("
                        ),
                        ")",
                    )
                } else {
                    (concat!(select_engine_chats!(), " WHERE ch.id IN ("), ") ORDER BY ch.id")
                };
                self.rows_by_ids::<EngineChatRow, EngineChat>(head, tail, ids).await
            }

            async fn campaign_contexts(&self, ids: &[String]) -> StoreResult<Vec<CampaignContext>> {
                let mut contexts = Vec::with_capacity(ids.len());
                for chunk in unique(ids.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT c.id, c.team_id, c.status, c.agent_id, a.name AS agent_name, \
                         c.qualification_automatic, c.qualification_verification, c.variables, \
                         pr.context, pr.first_message, pr.follow_ups, pr.follow_up_enabled, \
                         pr.comment, pr.model, pd.name AS product_name, \
                         pd.description AS product_description, c.prompt_id, c.review_mode \
                         FROM campaigns c \
                         JOIN agents a ON a.id = c.agent_id JOIN prompts pr ON pr.id = c.prompt_id \
                         JOIN products pd ON pd.id = c.product_id WHERE c.id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(") ORDER BY c.id");
                    for row in query
                        .build_query_as::<CampaignContextRow>()
                        .fetch_all(self.engine_pool())
                        .await?
                    {
                        contexts.push(CampaignContext::try_from(row)?);
                    }
                }
                Ok(contexts)
            }

            async fn histories(&self, chat_ids: &[String]) -> StoreResult<Vec<HistoryMessage>> {
                let mut messages = Vec::new();
                for chunk in unique(chat_ids.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT chat_id, role, content, created_at FROM messages WHERE chat_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(") ORDER BY chat_id, created_at, id");
                    for row in query.build_query_as::<HistoryRow>().fetch_all(self.engine_pool()).await? {
                        let role = Role::parse(&row.role)
                            .ok_or_else(|| StoreError::Corrupt(format!("role {}", row.role)))?;
                        messages.push(HistoryMessage {
                            chat_id: row.chat_id,
                            role,
                            content: row.content,
                            at: row.created_at,
                        });
                    }
                }
                Ok(messages)
            }

            async fn invite_candidates(
                &self,
                agents: &[String],
                limit: i64,
            ) -> StoreResult<Vec<EngineChat>> {
                // The oldest chats of each active campaign of the agents (an index range each,
                // read backwards: no sort), then joined (the prospect, the DNC check) for those
                // few only; an agent with several campaigns keeps its `limit` oldest of them.
                let (head, tail) = if Self::JSON_ROWS {
                    (
                        concat!(
                            "SELECT json_group_array(",
                            engine_chat_object!(),
                            " ORDER BY c.agent_id, ch.created_at, ch.id)",
                            engine_chats_from!(),
                            " WHERE ch.id IN ("
                        ),
                        ")",
                    )
                } else {
                    (
                        concat!(select_engine_chats!(), " WHERE ch.id IN ("),
                        ") ORDER BY c.agent_id, ch.created_at, ch.id",
                    )
                };
                let mut chats = Vec::new();
                for chunk in unique(agents.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(head);
                    query.push(
                        "SELECT w.id FROM campaigns k JOIN chats w ON w.id IN (SELECT o.id \
                         FROM chats o WHERE o.campaign_id = k.id AND o.status = 0 \
                         AND NOT o.paused AND o.invited_at IS NULL \
                         ORDER BY o.created_at, o.id LIMIT ",
                    );
                    query.push_bind(limit).push(") WHERE k.status = 'active' AND k.agent_id IN (");
                    let mut list = query.separated(", ");
                    for agent in chunk {
                        list.push_bind(agent.clone());
                    }
                    list.push_unseparated(")");
                    query.push(tail);
                    let rows: Vec<EngineChatRow> = if Self::JSON_ROWS {
                        json_rows(query.build_query_scalar().fetch_one(self.engine_pool()).await?)?
                    } else {
                        query.build_query_as().fetch_all(self.engine_pool()).await?
                    };
                    let mut taken: HashMap<String, i64> = HashMap::new();
                    for row in rows {
                        let count = taken.entry(row.agent_id.clone()).or_default();
                        if *count < limit {
                            *count += 1;
                            chats.push(EngineChat::try_from(row)?);
                        }
                    }
                }
                Ok(chats)
            }

            async fn message_candidates(
                &self,
                agents: &[String],
                now: Millis,
                limit: i64,
            ) -> StoreResult<Vec<EngineChat>> {
                /// Due replies first, then by due time.
                const ORDER: &str = " THEN 0 ELSE 1 END, ch.next_message_at, ch.id";
                let mut chats = Vec::new();
                for chunk in unique(agents.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = if Self::JSON_ROWS {
                        let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(concat!(
                            "SELECT json_group_array(",
                            engine_chat_object!(),
                            " ORDER BY c.agent_id, CASE WHEN ch.next_message_kind = 'reply' \
                             AND ch.next_message_at <= "
                        ));
                        query.push_bind(now).push(ORDER).push(concat!(
                            ")",
                            engine_chats_from!(),
                            " WHERE ch.id IN ("
                        ));
                        query
                    } else {
                        sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(concat!(
                            select_engine_chats!(),
                            " WHERE ch.id IN ("
                        ))
                    };
                    query.push(
                        "SELECT ranked.id FROM (SELECT w.id, ROW_NUMBER() OVER \
                         (PARTITION BY k.agent_id ORDER BY CASE WHEN w.next_message_kind = 'reply' \
                         AND w.next_message_at <= ",
                    );
                    query.push_bind(now).push(
                        " THEN 0 ELSE 1 END, w.next_message_at, w.id) AS rank \
                         FROM chats w JOIN campaigns k ON k.id = w.campaign_id \
                         WHERE k.status = 'active' AND w.next_message_at IS NOT NULL \
                         AND NOT w.paused AND k.agent_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for agent in chunk {
                        list.push_bind(agent.clone());
                    }
                    list.push_unseparated(")) ranked WHERE ranked.rank <= ");
                    query.push_bind(limit).push(")");
                    let rows: Vec<EngineChatRow> = if Self::JSON_ROWS {
                        json_rows(query.build_query_scalar().fetch_one(self.engine_pool()).await?)?
                    } else {
                        query.push(
                            " ORDER BY c.agent_id, CASE WHEN ch.next_message_kind = 'reply' \
                             AND ch.next_message_at <= ",
                        );
                        query.push_bind(now).push(ORDER);
                        query.build_query_as().fetch_all(self.engine_pool()).await?
                    };
                    for row in rows {
                        chats.push(EngineChat::try_from(row)?);
                    }
                }
                Ok(chats)
            }

            async fn invitations_since(
                &self,
                agents: &[String],
                since: Millis,
            ) -> StoreResult<HashMap<String, i64>> {
                let mut counts = HashMap::new();
                for chunk in unique(agents.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT agent_id, COUNT(*) FROM agent_actions WHERE kind = 'invitation' AND at > ",
                    );
                    query.push_bind(since).push(" AND agent_id IN (");
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(") GROUP BY agent_id");
                    let rows: Vec<(String, i64)> =
                        query.build_query_as().fetch_all(self.engine_pool()).await?;
                    counts.extend(rows);
                }
                Ok(counts)
            }

            async fn invitation_ids(&self, chats: &[String]) -> StoreResult<HashMap<String, String>> {
                let mut found = HashMap::new();
                for chunk in unique(chats.iter().map(String::as_str)).chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT chat_id, provider_id FROM sends WHERE kind = 'invitation' \
                         AND status = 'sent' AND provider_id IS NOT NULL AND chat_id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(")");
                    let rows: Vec<(String, String)> =
                        query.build_query_as().fetch_all(self.engine_pool()).await?;
                    found.extend(rows);
                }
                Ok(found)
            }

            async fn begin_sends(&self, sends: &[NewSend]) -> StoreResult<Vec<bool>> {
                if sends.is_empty() {
                    return Ok(Vec::new());
                }
                #[derive(sqlx::FromRow)]
                struct Guard {
                    id: String,
                    status: i64,
                    paused: bool,
                    invited_at: Option<i64>,
                    next_message_at: Option<i64>,
                    next_message_kind: Option<String>,
                    campaign_status: String,
                    agent_status: String,
                    on_dnc: bool,
                    draft_id: Option<String>,
                    draft_status: Option<String>,
                }
                let mut tx = self.begin_write().await?;
                // A person's message has a deterministic ledger id: one already recorded was
                // made (or is being reconciled) and is never made again.
                let manual: Vec<String> = sends
                    .iter()
                    .filter(|s| s.kind == SendKind::Manual)
                    .map(|s| s.id.clone())
                    .collect();
                let mut recorded_before: HashSet<String> = HashSet::new();
                for chunk in manual.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT id FROM sends WHERE id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(")");
                    let found: Vec<String> = query.build_query_scalar().fetch_all(&mut *tx).await?;
                    recorded_before.extend(found);
                }
                let ids = unique(sends.iter().map(|s| s.chat_id.as_str()));
                let mut guards: HashMap<String, Guard> = HashMap::with_capacity(ids.len());
                for chunk in ids.chunks(INSERT_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "SELECT ch.id, ch.status, ch.paused, ch.invited_at, ch.next_message_at, \
                         ch.next_message_kind, c.status AS campaign_status, a.status AS agent_status, \
                         EXISTS (SELECT 1 FROM dnc_entries d WHERE d.team_id = ch.team_id \
                         AND d.url = p.url) AS on_dnc, ch.draft_id, \
                         (SELECT dr.status FROM drafts dr WHERE dr.id = ch.draft_id) AS draft_status \
                         FROM chats ch \
                         JOIN campaigns c ON c.id = ch.campaign_id JOIN agents a ON a.id = c.agent_id \
                         JOIN prospects p ON p.id = ch.prospect_id WHERE ch.id IN (",
                    );
                    let mut list = query.separated(", ");
                    for id in chunk {
                        list.push_bind(id.clone());
                    }
                    list.push_unseparated(") ORDER BY ch.id");
                    query.push($lock_chats);
                    for guard in query.build_query_as::<Guard>().fetch_all(&mut *tx).await? {
                        guards.insert(guard.id.clone(), guard);
                    }
                }
                let mut allowed = Vec::with_capacity(sends.len());
                let mut recorded: Vec<(&NewSend, Option<i64>, Option<String>)> = Vec::new();
                for send in sends {
                    let Some(guard) = guards.get_mut(&send.chat_id) else {
                        allowed.push(false);
                        continue;
                    };
                    let running = guard.agent_status == AgentStatus::Running.as_str();
                    let contactable = guard.campaign_status == CampaignStatus::Active.as_str()
                        && running
                        && !guard.on_dnc
                        && !guard.paused
                        && !status::is_finished(guard.status);
                    // The draft a send carries is still the conversation's, and approved.
                    let draft_holds = match &send.origin.draft_id {
                        Some(draft) => {
                            guard.draft_id.as_ref() == Some(draft)
                                && guard.draft_status.as_deref() == Some("approved")
                        }
                        None => true,
                    };
                    let ok = match send.kind {
                        SendKind::Invitation => {
                            contactable
                                && guard.status == status::NOT_STARTED
                                && guard.invited_at.is_none()
                        }
                        SendKind::Message(_) => {
                            contactable
                                && draft_holds
                                && guard.next_message_at.is_some_and(|due| due <= send.at)
                        }
                        // A person may write in a paused or finished conversation, never to
                        // someone on the DNC list or whom LinkedIn refused.
                        SendKind::Manual => {
                            running
                                && !guard.on_dnc
                                && guard.status != status::SKIPPED
                                && guard.status < status::INVITES_DISABLED
                                && !recorded_before.contains(&send.id)
                        }
                    };
                    allowed.push(ok);
                    if !ok {
                        continue;
                    }
                    // The chat leaves its queue while the send is in flight.
                    match send.kind {
                        SendKind::Invitation => {
                            guard.invited_at = Some(send.at);
                            recorded.push((send, None, None));
                        }
                        SendKind::Message(_) => {
                            let restore = (guard.next_message_at.take(), guard.next_message_kind.take());
                            recorded.push((send, restore.0, restore.1));
                        }
                        SendKind::Manual => recorded.push((send, None, None)),
                    }
                }
                for chunk in recorded.chunks(INSERT_CHUNK) {
                    let mut insert = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "INSERT INTO sends (id, team_id, agent_id, chat_id, kind, text, status, \
                         restore_at, restore_kind, lease_until, created_at, author, model, \
                         prompt_id, draft_id) ",
                    );
                    insert.push_values(chunk, |mut row, (send, restore_at, restore_kind)| {
                        row.push_bind(send.id.clone())
                            .push_bind(send.team_id.clone())
                            .push_bind(send.agent_id.clone())
                            .push_bind(send.chat_id.clone())
                            .push_bind(send.kind.as_str())
                            .push_bind(send.text.clone())
                            .push_bind("sending")
                            .push_bind(*restore_at)
                            .push_bind(restore_kind.clone())
                            .push_bind(send.lease_until)
                            .push_bind(send.at)
                            .push_bind(send.origin.author.as_str())
                            .push_bind(send.origin.model.clone())
                            .push_bind(send.origin.prompt_id.clone())
                            .push_bind(send.origin.draft_id.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                    let mut update = sqlx::QueryBuilder::<<$store as crate::Backend>::Db>::new(
                        "WITH v(id, invited_at, in_flight) AS (",
                    );
                    update.push_values(chunk, |mut row, (send, _, _)| {
                        let invitation = send.kind == SendKind::Invitation;
                        let in_flight = matches!(send.kind, SendKind::Message(_));
                        row.push_bind(send.chat_id.clone())
                            .push_bind(invitation.then_some(send.at))
                            .push_bind(in_flight);
                    });
                    update.push(
                        ") UPDATE chats SET invited_at = COALESCE(v.invited_at, chats.invited_at), \
                         next_message_at = CASE WHEN v.in_flight THEN NULL ELSE chats.next_message_at END, \
                         next_message_kind = CASE WHEN v.in_flight THEN NULL ELSE chats.next_message_kind END \
                         FROM v WHERE chats.id = v.id",
                    );
                    update.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(allowed)
            }

            async fn settle(&self, settlement: &Settlement) -> StoreResult<Settled> {
                let now = settlement.now;
                let mut tx = self.begin_write().await?;
                let won = Self::settle_sends_in(&mut tx, &settlement.sends, now).await?;
                let ids = unique(settlement.chats.iter().map(ChatOp::chat));
                let mut chats: BTreeMap<String, ChatWork> = BTreeMap::new();
                for row in Self::chat_states_in(&mut tx, &ids).await? {
                    let before = row.tally();
                    let was_finished = row.finished();
                    chats.insert(row.id.clone(), ChatWork { row, before, changed: false, was_finished });
                }
                let mut fx = Effects::default();
                let mut settled = Settled::default();
                for op in &settlement.chats {
                    if let Some(work) = chats.get_mut(op.chat()) {
                        apply_chat_op(work, op, &won, &mut fx);
                    }
                }
                for work in chats.values() {
                    if work.row.finished() && !work.was_finished {
                        fx.finished.insert(work.row.id.clone());
                        fx.touched_campaigns.insert(work.row.campaign_id.clone());
                    }
                }
                settled.invitations = fx.actions.iter().filter(|a| a.kind == action::INVITATION).count() as u64;
                settled.messages = fx.actions.iter().filter(|a| a.kind == action::MESSAGE).count() as u64;
                settled.received = fx.received;
                Self::write_chats_in(&mut tx, &chats, now).await?;
                Self::write_effects_in(&mut tx, &fx, now).await?;
                Self::write_agents_in(&mut tx, &settlement.agents, &fx.usage, now).await?;
                let claimed = match (&settlement.claim, Self::CLAIM_ROWS) {
                    (Some(claim), true) => Self::release_claim_in(&mut tx, claim).await?,
                    _ => None,
                };
                Self::write_tasks_in(&mut tx, &settlement.tasks, &fx, claimed.as_ref(), now).await?;
                tx.commit().await?;
                settled.touched_campaigns = std::mem::take(&mut fx.touched_campaigns);
                Ok(settled)
            }

            async fn unsettled_sends(&self, wall: Millis, limit: i64) -> StoreResult<Vec<PendingSend>> {
                let rows = sqlx::query_as::<_, PendingSendRow>(
                    "SELECT s.id, s.team_id, s.agent_id, s.chat_id, s.kind, s.text, s.created_at, \
                     s.restore_at, s.restore_kind, p.url, s.author, s.model, s.prompt_id, \
                     s.draft_id FROM sends s \
                     JOIN chats ch ON ch.id = s.chat_id JOIN prospects p ON p.id = ch.prospect_id \
                     WHERE s.status = 'sending' AND s.lease_until <= $1 \
                     ORDER BY s.created_at, s.id LIMIT $2",
                )
                .bind(wall)
                .bind(limit)
                .fetch_all(self.engine_pool())
                .await?;
                rows.into_iter()
                    .map(|row| {
                        let kind = SendKind::parse(&row.kind)
                            .ok_or_else(|| StoreError::Corrupt(format!("send kind {}", row.kind)))?;
                        let restore = match (row.restore_at, row.restore_kind.as_deref().and_then(MessageKind::parse)) {
                            (Some(at), Some(kind)) => Some((at, kind)),
                            _ => None,
                        };
                        let author = Author::parse(&row.author)
                            .ok_or_else(|| StoreError::Corrupt(format!("send author {}", row.author)))?;
                        Ok(PendingSend {
                            origin: Origin {
                                author,
                                model: row.model,
                                prompt_id: row.prompt_id,
                                draft_id: row.draft_id,
                            },
                            id: row.id,
                            team_id: row.team_id,
                            agent_id: row.agent_id,
                            chat_id: row.chat_id,
                            kind,
                            text: row.text,
                            at: row.created_at,
                            restore,
                            url: row.url,
                        })
                    })
                    .collect()
            }

            async fn complete_idle_campaigns(
                &self,
                campaigns: Option<&[String]>,
                now: Millis,
            ) -> StoreResult<Vec<String>> {
                let candidates: Vec<String> = match campaigns {
                    Some(ids) => unique(ids.iter().map(String::as_str)),
                    None => sqlx::query_scalar("SELECT id FROM campaigns WHERE status = 'active' ORDER BY id")
                        .fetch_all(self.engine_pool())
                        .await?,
                };
                let mut completed = Vec::new();
                for id in candidates {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE campaigns SET status = 'completed', completed_at = $2, updated_at = $2 \
                         WHERE id = $1 AND status = 'active' AND prospects_count > 0 \
                         AND NOT EXISTS (SELECT 1 FROM chats ch WHERE ch.campaign_id = $1 \
                         AND (ch.status = 0 OR ch.next_message_at IS NOT NULL OR ch.draft_id IS NOT NULL)) \
                         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = $1 \
                         AND t.status IN ('pending', 'running')) \
                         AND NOT EXISTS (SELECT 1 FROM sends s JOIN chats ch ON ch.id = s.chat_id \
                         WHERE ch.campaign_id = $1 AND s.status = 'sending') \
                         AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.campaign_id = $1 \
                         AND i.status IN ('queued', 'processing'))",
                    )
                    .bind(&id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    tx.commit().await?;
                    if done == 1 {
                        completed.push(id);
                    }
                }
                Ok(completed)
            }

            async fn queue_verification_code(
                &self,
                team: &str,
                agent: &str,
                sealed_code: &str,
                now: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let row: Option<(String, String)> = sqlx::query_as(concat!(
                    "SELECT status, alerts FROM agents WHERE team_id = $1 AND id = $2",
                    $lock_row
                ))
                .bind(team)
                .bind(agent)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((status, alerts)) = row else {
                    return Err(StoreError::NotFound);
                };
                let status: AgentStatus = status.parse().map_err(
                    |e: outbound_core::agent::UnknownAgentStatus| StoreError::Corrupt(e.to_string()),
                )?;
                let alerts: Vec<Alert> = serde_json::from_str(&alerts)
                    .map_err(|e| StoreError::Corrupt(format!("agent alerts: {e}")))?;
                if status != AgentStatus::AuthNeeded || !alerts.iter().any(|a| a.kind == "auth") {
                    return Err(StoreError::InvalidStatus(status));
                }
                sqlx::query(
                    "INSERT INTO tasks (id, team_id, agent_id, kind, status, due_at, attempts, \
                     payload, created_at, updated_at) VALUES ($1, $2, $3, 'submit_code', 'pending', \
                     $4, 0, $5, $4, $4) ON CONFLICT (id) DO UPDATE SET status = 'pending', \
                     due_at = excluded.due_at, attempts = 0, lease_until = NULL, last_error = NULL, \
                     payload = excluded.payload, updated_at = excluded.updated_at",
                )
                .bind(task_id(agent, kind::SUBMIT_CODE))
                .bind(team)
                .bind(agent)
                .bind(now)
                .bind(sealed_code)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit_data(&self, team: &str) -> StoreResult<AuditData> {
                let agents = sqlx::query_as::<_, EngineAgentRow>(concat!(
                    select_engine_agents!(),
                    " WHERE team_id = $1 ORDER BY id"
                ))
                .bind(team)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(EngineAgent::try_from)
                .collect::<StoreResult<Vec<_>>>()?;
                let days = sqlx::query_as(
                    "SELECT d.agent_id, d.day, d.invitations_target, d.messages_target \
                     FROM agent_days d JOIN agents a ON a.id = d.agent_id WHERE a.team_id = $1 \
                     ORDER BY d.agent_id, d.day",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let actions = sqlx::query_as(
                    "SELECT agent_id, chat_id, kind, at FROM agent_actions WHERE team_id = $1 \
                     ORDER BY agent_id, at, id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let sends = sqlx::query_as(
                    "SELECT id, chat_id, kind, text, status, created_at FROM sends \
                     WHERE team_id = $1 ORDER BY chat_id, created_at, id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let messages = sqlx::query_as(
                    "SELECT chat_id, role, content, created_at FROM messages WHERE team_id = $1 \
                     ORDER BY chat_id, created_at, id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let chats = sqlx::query_as(
                    "SELECT ch.id, p.url, ch.status, ch.qualification, c.agent_id FROM chats ch \
                     JOIN prospects p ON p.id = ch.prospect_id \
                     JOIN campaigns c ON c.id = ch.campaign_id WHERE ch.team_id = $1 ORDER BY ch.id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let events = sqlx::query_as(
                    "SELECT event_type, COUNT(*) FROM events WHERE team_id = $1 \
                     GROUP BY event_type ORDER BY event_type",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let dnc = sqlx::query_scalar("SELECT url FROM dnc_entries WHERE team_id = $1 ORDER BY url")
                    .bind(team)
                    .fetch_all(&self.pool)
                    .await?;
                let reviewed = sqlx::query_as(
                    "SELECT s.chat_id, COALESCE(s.sent_at, s.created_at) AS at, s.author, s.kind, \
                     d.status AS draft_status, c.review_mode FROM sends s \
                     JOIN chats ch ON ch.id = s.chat_id JOIN campaigns c ON c.id = ch.campaign_id \
                     LEFT JOIN drafts d ON d.id = s.draft_id \
                     WHERE s.team_id = $1 AND s.status = 'sent' AND s.kind <> 'invitation' \
                     ORDER BY s.chat_id, s.created_at, s.id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let resumed = sqlx::query_as(
                    "SELECT id, resumed_at FROM chats WHERE team_id = $1 ORDER BY id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                Ok(AuditData { agents, days, actions, sends, messages, chats, events, dnc, reviewed, resumed })
            }
        }
    };
}

impl_engine_store!(crate::sqlite::SqliteStore, "", "", "", "MAX");
impl_engine_store!(
    crate::postgres::PgStore,
    " FOR UPDATE OF ch",
    " FOR UPDATE",
    " FOR UPDATE SKIP LOCKED",
    "GREATEST"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [
            MessageKind::First,
            MessageKind::FollowUp,
            MessageKind::Reply,
        ] {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                SendKind::parse(kind.as_str()),
                Some(SendKind::Message(kind))
            );
        }
        assert_eq!(SendKind::parse("invitation"), Some(SendKind::Invitation));
        assert_eq!(SendKind::parse("nope"), None);
        assert_eq!(task_id("abc", kind::CHECK), "abc:check");
    }

    #[test]
    fn alerts_replace_their_own_kind() {
        let alert = |sub: &str, message: &str| Alert {
            kind: "auth".into(),
            sub_type: sub.into(),
            message: message.into(),
            severity: outbound_core::agent::Severity::Warning,
        };
        let alerts = with_alert(
            vec![alert("2fa_required", "old")],
            alert("2fa_required", "new"),
        );
        assert_eq!(alerts, vec![alert("2fa_required", "new")]);
        let alerts = with_alert(alerts, alert("session_expired", "x"));
        assert_eq!(alerts.len(), 2);
    }
}
