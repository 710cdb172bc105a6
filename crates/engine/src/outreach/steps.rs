//! The steps of the outreach engine: one handler per task kind, run in task order over one
//! batch, then the batch's sends, then one settlement.
//!
//! Rules:
//! - a handler decides from the state loaded for the batch and queues its effects; it never
//!   writes (the store's `settle` applies them in one transaction at the end);
//! - a slot that sends queues a [`PlannedSend`]; the sends are recorded `sending` together
//!   (`begin_sends`), then made one by one, and their outcome decides the effects and when the
//!   slot runs again; a send whose outcome is unknown stays `sending` for the reconciler;
//! - reads from LinkedIn that fail are retried with backoff; refusals that end a conversation
//!   (502–505) end it; an expired session puts the agent in `auth_needed` with an alert;
//! - a message that the campaign's review mode holds is recorded as a draft instead of planned;
//!   an approved draft is sent as approved (its ledger row names it, so it goes at most once),
//!   and a reply that arrives first supersedes it;
//! - the circuit breaker: a restriction, or [`BREAKER_RATE_LIMITS`] rate limits in a row, stops
//!   the agent at once (`paused` with a safety alert), and no send of that agent left in the
//!   batch is made;
//! - a person's message (`manual_message`) goes out now, working hours or not, never to the DNC
//!   list, with its message id as ledger id.

use outbound_core::agent::{AgentStatus, Alert, SAFETY_ALERT, Severity, warmup_range};
use outbound_core::conversation::{Qualification, status};
use outbound_core::review::{Author, DraftStatus};
use outbound_core::schedule::{BadWindow, WorkingWindow};
use outbound_core::time::Millis;
use outbound_linkedin::{
    Account, CheckpointKind, ConnectorError, InvitationState, LoginOutcome, Profile, SendProbe,
    SentRef,
};
use outbound_llm::Purpose;
use outbound_store::chats::{ProspectProfile, Role};
use outbound_store::drafts::{Draft, NewDraft};
use outbound_store::engine::{
    AgentOp, CampaignContext, ChatOp, Claimed, EngineAgent, EngineChat, HistoryMessage,
    MessageKind, NewSend, NewTask, Origin, PARKED, PendingSend, SendKind, SendOutcome, SendSettle,
    Settled, Settlement, Task, TaskOp, day_key, kind, parse_day_key, task_id,
};
use std::collections::{BTreeSet, HashMap};

use super::Inner;
use super::rules::{self, instant};
use super::writing;
use crate::webhooks::EngineResult;

/// Alert type of every login problem.
const AUTH_ALERT: &str = "auth";

fn alert(sub_type: &str, message: &str, severity: Severity) -> Alert {
    Alert {
        kind: AUTH_ALERT.to_owned(),
        sub_type: sub_type.to_owned(),
        message: message.to_owned(),
        severity,
    }
}

fn checkpoint_alert(kind: &CheckpointKind) -> Alert {
    match kind {
        CheckpointKind::TwoFactor => alert(
            "2fa_required",
            "Enter the LinkedIn verification code (POST /v1/agents/{id}/verification-code)",
            Severity::Warning,
        ),
        CheckpointKind::Email => alert(
            "email_code_required",
            "Enter the code LinkedIn sent by e-mail (POST /v1/agents/{id}/verification-code)",
            Severity::Warning,
        ),
        CheckpointKind::Captcha => alert(
            "captcha_required",
            "LinkedIn asks for a captcha: log in once from a usual device, then set the agent up again",
            Severity::Error,
        ),
        CheckpointKind::Other(name) => alert(
            "checkpoint",
            &format!("LinkedIn asks for a verification step ({name})"),
            Severity::Warning,
        ),
    }
}

fn session_alert() -> Alert {
    alert(
        "session_expired",
        "The LinkedIn session expired: set the agent up again",
        Severity::Error,
    )
}

fn credentials_alert(detail: &str) -> Alert {
    alert(
        "invalid_credentials",
        &format!("LinkedIn refused the login: {detail}. Set the agent up again"),
        Severity::Error,
    )
}

/// LinkedIn's rate limits in a row after which the circuit breaker stops an agent.
pub const BREAKER_RATE_LIMITS: i64 = 5;

fn safety_alert(sub_type: &str, message: &str) -> Alert {
    Alert {
        kind: SAFETY_ALERT.to_owned(),
        sub_type: sub_type.to_owned(),
        message: message.to_owned(),
        severity: Severity::Error,
    }
}

/// The breaker's alert for `error`, when it must stop the agent (`streak`: rate limits in a
/// row, this one included).
fn breaker_alert(error: &ConnectorError, streak: i64) -> Option<Alert> {
    match error {
        ConnectorError::Restricted(detail) => Some(safety_alert(
            "restricted",
            &format!(
                "LinkedIn restricted the account ({detail}). The agent stopped: check the account \
                 on LinkedIn, then resume the agent"
            ),
        )),
        ConnectorError::RateLimited { .. } if streak >= BREAKER_RATE_LIMITS => Some(safety_alert(
            "rate_limited",
            &format!(
                "LinkedIn refused {streak} actions in a row as too many. The agent stopped: \
                 lower its limits, then resume it"
            ),
        )),
        _ => None,
    }
}

/// What a connector error means for the task at hand.
enum Failure {
    /// The conversation ends with this status (502–505).
    EndChat(i64),
    /// The agent must log in again.
    Session,
    /// Try again later (after this long, when LinkedIn said).
    Later(Option<Millis>),
    /// Unknown whether it happened (a send) / a temporary failure (a read).
    Unknown(String),
    /// A permanent refusal.
    Refused(String),
    /// The circuit breaker stopped the agent.
    Stopped,
}

fn failure(error: &ConnectorError) -> Failure {
    if let Some(code) = error.chat_status() {
        return Failure::EndChat(code);
    }
    match error {
        ConnectorError::SessionExpired => Failure::Session,
        ConnectorError::Restricted(_) => Failure::Stopped,
        ConnectorError::RateLimited { retry_after } => Failure::Later(
            retry_after.map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)),
        ),
        ConnectorError::Transient(message) => Failure::Unknown(message.clone()),
        other => Failure::Refused(other.to_string()),
    }
}

fn prospect_profile(profile: Profile) -> ProspectProfile {
    ProspectProfile {
        headline: profile.headline,
        about: profile.about,
        city: profile.city,
        country: profile.country,
        email: None,
        current_company_name: profile.current_company_name,
        current_job_title: profile.current_job_title,
        current_company_website: profile.current_company_website,
        current_company_linkedin_url: profile.current_company_linkedin_url,
        provider_id: Some(profile.provider_id).filter(|id| !id.is_empty()),
    }
}

fn sent_refs(history: &[HistoryMessage]) -> Vec<SentRef> {
    history
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| SentRef {
            at: m.at,
            text: m.content.clone(),
        })
        .collect()
}

fn window_of(agent: &EngineAgent) -> Result<WorkingWindow, BadWindow> {
    WorkingWindow::from_hours(&agent.working_hours, agent.timezone_name.as_deref())
}

/// A task of a conversation.
fn chat_task(chat: &EngineChat, kind: &'static str, due_at: Millis) -> TaskOp {
    TaskOp::Upsert(NewTask {
        id: task_id(&chat.id, kind),
        team_id: chat.team_id.clone(),
        agent_id: Some(chat.agent_id.clone()),
        campaign_id: Some(chat.campaign_id.clone()),
        chat_id: Some(chat.id.clone()),
        kind,
        due_at,
        not_before: None,
        payload: None,
    })
}

/// A slot task of an agent.
fn slot_task(agent: &EngineAgent, kind: &'static str, due_at: Millis) -> TaskOp {
    TaskOp::Upsert(NewTask {
        id: task_id(&agent.id, kind),
        team_id: agent.team_id.clone(),
        agent_id: Some(agent.id.clone()),
        campaign_id: None,
        chat_id: None,
        kind,
        due_at,
        not_before: None,
        payload: None,
    })
}

/// When the follow-up after a message of `kind` sent at `at` is due, if one is planned.
fn next_followup(
    context: &CampaignContext,
    chat: &EngineChat,
    kind: MessageKind,
    at: Millis,
) -> Option<Millis> {
    if chat.has_responded || !context.prompt.follow_up_enabled {
        return None;
    }
    let index = match kind {
        MessageKind::First => 0,
        MessageKind::FollowUp => usize::try_from(chat.followups_sent + 1).ok()?,
        MessageKind::Reply => return None,
    };
    let delay = context.prompt.follow_ups.get(index)?.delay;
    Some(at + delay.max(1) * rules::DAY)
}

/// What a send is, for its effects.
struct SendFacts<'a> {
    id: &'a str,
    kind: SendKind,
    text: &'a str,
    at: Millis,
    origin: &'a Origin,
}

/// The effects of a send that happened, live or found by reconciliation.
fn sent_effects(
    out: &mut Settlement,
    chat: &EngineChat,
    context: Option<&CampaignContext>,
    send: &SendFacts<'_>,
) {
    let SendFacts {
        id: send_id,
        kind,
        text,
        at,
        origin,
    } = *send;
    match kind {
        SendKind::Invitation => {
            out.chats.push(ChatOp::Invited {
                chat: chat.id.clone(),
                send_id: send_id.to_owned(),
                at,
            });
            out.tasks
                .push(chat_task(chat, kind::CHECK, at + rules::CHECK_INVITATION.0));
        }
        SendKind::Message(message) => {
            let next = context.and_then(|c| next_followup(c, chat, message, at));
            out.chats.push(ChatOp::MessageSent {
                chat: chat.id.clone(),
                send_id: send_id.to_owned(),
                kind: Some(message),
                text: text.to_owned(),
                at,
                next,
                origin: origin.clone(),
            });
            out.tasks
                .push(chat_task(chat, kind::CHECK, at + rules::CHECK_REPLIES.0));
            if message == MessageKind::Reply {
                out.tasks.push(chat_task(chat, kind::QUALIFY, at));
            }
        }
        SendKind::Manual => {
            // A person's message plans nothing: the AI is paused on the conversation; its
            // replies are still read (and shown).
            out.chats.push(ChatOp::MessageSent {
                chat: chat.id.clone(),
                send_id: send_id.to_owned(),
                kind: None,
                text: text.to_owned(),
                at,
                next: None,
                origin: origin.clone(),
            });
            out.tasks
                .push(chat_task(chat, kind::CHECK, at + rules::CHECK_REPLIES.0));
        }
    }
}

/// Gives the chat of a send that certainly did not happen back to its queue.
fn release(
    out: &mut Settlement,
    chat: &str,
    kind: SendKind,
    restore: Option<(Millis, MessageKind)>,
) {
    match (kind, restore) {
        (SendKind::Invitation, _) => out.chats.push(ChatOp::InviteReleased {
            chat: chat.to_owned(),
        }),
        (SendKind::Message(_), Some((due, kind))) => out.chats.push(ChatOp::MessageReleased {
            chat: chat.to_owned(),
            due,
            kind,
        }),
        (SendKind::Message(_), None) | (SendKind::Manual, _) => {}
    }
}

/// The agent's account, with its password opened.
fn account_of(inner: &Inner, agent: &EngineAgent) -> Result<Account, String> {
    let login = agent
        .login
        .clone()
        .ok_or_else(|| "the agent has no LinkedIn login".to_owned())?;
    let sealed = agent
        .password_sealed
        .as_deref()
        .ok_or_else(|| "the agent has no LinkedIn password".to_owned())?;
    let password = inner
        .secrets
        .open(sealed)
        .map_err(|e| format!("the stored password cannot be read ({e})"))?;
    Ok(Account {
        id: agent.id.clone(),
        provider_account_id: agent.provider_account_id.clone(),
        login,
        password,
        country: agent.country.clone().unwrap_or_default(),
    })
}

/// The start of a new local day of `agent` at `now` (or the end of its day recomputed), with
/// targets drawn from the engine's RNG; `None` when nothing changes.
pub(crate) fn rollover(inner: &Inner, agent: &EngineAgent, now: Millis) -> Option<AgentOp> {
    let window = match window_of(agent) {
        Ok(window) => window,
        Err(error) => {
            tracing::warn!(agent = %agent.id, %error, "agent without usable working hours");
            return None;
        }
    };
    rollover_in(inner, agent, &window, now)
}

fn rollover_in(
    inner: &Inner,
    agent: &EngineAgent,
    window: &WorkingWindow,
    now: Millis,
) -> Option<AgentOp> {
    let day = rules::local_day(window, now);
    let key = day_key(day.date);
    if agent.usage_day.as_deref() == Some(key.as_str()) {
        if agent.day_ends_at == Some(day.ends_at) {
            return None;
        }
        return Some(AgentOp::Rollover {
            agent: agent.id.clone(),
            day: key,
            day_ends_at: day.ends_at,
            invitations_target: agent.invitations_target,
            messages_target: agent.messages_target,
            reset: false,
            warmup: None,
        });
    }
    let limits = agent.limits;
    let configured = (limits.invitations_min, limits.invitations_max);
    let warmup = agent.settings.warmup.then(|| {
        let started = agent.warmup_started.clone().unwrap_or_else(|| key.clone());
        let first = parse_day_key(&started).unwrap_or(day.date);
        let warmup_day = (day.date - first).num_days().max(0) + 1;
        (started, warmup_day)
    });
    let invitation_range = match &warmup {
        Some((_, warmup_day)) => {
            warmup_range(u32::try_from(*warmup_day).unwrap_or(u32::MAX), configured)
        }
        None => configured,
    };
    let (invitations, messages) = rules::targets(
        invitation_range,
        (limits.messages_min, limits.messages_max),
        (inner.unit(), inner.unit()),
    );
    Some(AgentOp::Rollover {
        agent: agent.id.clone(),
        day: key,
        day_ends_at: day.ends_at,
        invitations_target: invitations,
        messages_target: messages,
        reset: true,
        warmup,
    })
}

/// What an agent slot needs, kept for the batch.
struct AgentState {
    agent: EngineAgent,
    account: Option<Result<Account, String>>,
    /// Invitations of the last seven and thirty days.
    weekly: i64,
    monthly: i64,
}

/// A send a slot decided on.
struct PlannedSend {
    send: NewSend,
    account: Account,
    chat: EngineChat,
    context: Option<CampaignContext>,
    slot: String,
    /// When the slot runs again after the send (its spread), and after a failure.
    after_sent: Millis,
    after_failed: Millis,
    /// `slot` is a one-off task (a person's message), finished by the send's outcome.
    one_off: bool,
}

struct Batch<'e> {
    inner: &'e Inner,
    now: Millis,
    agents: HashMap<String, AgentState>,
    chats: HashMap<String, EngineChat>,
    contexts: HashMap<String, Option<CampaignContext>>,
    histories: HashMap<String, Vec<HistoryMessage>>,
    /// The conversations each slot of the batch may act on, loaded together.
    invitees: HashMap<String, Vec<EngineChat>>,
    due_messages: HashMap<String, Vec<EngineChat>>,
    /// The open drafts of the due messages.
    drafts: HashMap<String, Draft>,
    out: Settlement,
    sends: Vec<PlannedSend>,
    touched: BTreeSet<String>,
}

/// Runs the claimed tasks as one batch and settles it (with its claim).
pub(crate) async fn run_batch(
    inner: &Inner,
    now: Millis,
    claimed: Claimed,
) -> EngineResult<Settled> {
    let tasks = &claimed.tasks;
    let mut batch = Batch::load(inner, now, tasks).await?;
    batch.out.claim = claimed.id;
    for task in tasks {
        batch.run(task).await?;
    }
    batch.finish().await
}

impl<'e> Batch<'e> {
    async fn load(inner: &'e Inner, now: Millis, tasks: &[Task]) -> EngineResult<Batch<'e>> {
        let store = &inner.store;
        let chat_ids: Vec<String> = tasks.iter().filter_map(|t| t.chat_id.clone()).collect();
        let chats: HashMap<String, EngineChat> = if chat_ids.is_empty() {
            HashMap::new()
        } else {
            store
                .engine_chats(&chat_ids)
                .await?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect()
        };
        let agent_ids: Vec<String> = tasks
            .iter()
            .filter_map(|t| t.agent_id.clone())
            .chain(chats.values().map(|c| c.agent_id.clone()))
            .collect();
        let inviting: Vec<String> = tasks
            .iter()
            .filter(|t| t.kind == kind::INVITE_SLOT)
            .filter_map(|t| t.agent_id.clone())
            .collect();
        let (weekly, monthly) = if inviting.is_empty() {
            (HashMap::new(), HashMap::new())
        } else {
            (
                store
                    .invitations_since(&inviting, now - rules::WEEK)
                    .await?,
                store
                    .invitations_since(&inviting, now - outbound_store::agents::MONTH)
                    .await?,
            )
        };
        let agents = store
            .engine_agents(&agent_ids)
            .await?
            .into_iter()
            .map(|agent| {
                let state = AgentState {
                    weekly: weekly.get(&agent.id).copied().unwrap_or(0),
                    monthly: monthly.get(&agent.id).copied().unwrap_or(0),
                    account: None,
                    agent,
                };
                (state.agent.id.clone(), state)
            })
            .collect();
        let slot_agents = |slot: &str| -> Vec<String> {
            tasks
                .iter()
                .filter(|t| t.kind == slot)
                .filter_map(|t| t.agent_id.clone())
                .collect()
        };
        let limit = inner.config.candidates;
        let mut invitees: HashMap<String, Vec<EngineChat>> = HashMap::new();
        if !inviting.is_empty() {
            for chat in store.invite_candidates(&inviting, limit).await? {
                invitees
                    .entry(chat.agent_id.clone())
                    .or_default()
                    .push(chat);
            }
        }
        let messaging = slot_agents(kind::MESSAGE_SLOT);
        let mut due_messages: HashMap<String, Vec<EngineChat>> = HashMap::new();
        if !messaging.is_empty() {
            for chat in store.message_candidates(&messaging, now, limit).await? {
                due_messages
                    .entry(chat.agent_id.clone())
                    .or_default()
                    .push(chat);
            }
        }
        // The due messages are written with their history and campaign: loaded here with
        // those of the checks and qualifications, not one query per message.
        let due: Vec<&EngineChat> = due_messages
            .values()
            .flatten()
            .filter(|c| c.next_message_at.is_some_and(|at| at <= now))
            .collect();
        let history_ids: BTreeSet<String> = tasks
            .iter()
            .filter(|t| t.kind == kind::CHECK || t.kind == kind::QUALIFY)
            .filter_map(|t| t.chat_id.as_ref())
            .filter(|id| {
                chats
                    .get(*id)
                    .is_some_and(|c| c.status >= status::CONTACTED)
            })
            .cloned()
            .chain(due.iter().map(|c| c.id.clone()))
            .collect();
        let mut histories: HashMap<String, Vec<HistoryMessage>> = HashMap::new();
        if !history_ids.is_empty() {
            let ids: Vec<String> = history_ids.into_iter().collect();
            for message in store.histories(&ids).await? {
                histories
                    .entry(message.chat_id.clone())
                    .or_default()
                    .push(message);
            }
            // A conversation without messages has an empty history, known as such.
            for id in ids {
                histories.entry(id).or_default();
            }
        }
        let campaign_ids: BTreeSet<String> = tasks
            .iter()
            .filter(|t| t.kind == kind::QUALIFY)
            .filter_map(|t| t.chat_id.as_ref())
            .filter_map(|id| chats.get(id).map(|c| c.campaign_id.clone()))
            .chain(due.iter().map(|c| c.campaign_id.clone()))
            .collect();
        let draft_ids: Vec<String> = due.iter().filter_map(|c| c.draft_id.clone()).collect();
        let drafts: HashMap<String, Draft> = store
            .drafts_by_ids(&draft_ids)
            .await?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        let mut contexts = HashMap::new();
        if !campaign_ids.is_empty() {
            let ids: Vec<String> = campaign_ids.into_iter().collect();
            for context in store.campaign_contexts(&ids).await? {
                contexts.insert(context.id.clone(), Some(context));
            }
            // A campaign gone meanwhile has no context, known as such.
            for id in ids {
                contexts.entry(id).or_insert(None);
            }
        }
        Ok(Batch {
            inner,
            now,
            agents,
            chats,
            contexts,
            histories,
            invitees,
            due_messages,
            drafts,
            out: Settlement::new(now),
            sends: Vec::new(),
            touched: BTreeSet::new(),
        })
    }

    async fn run(&mut self, task: &Task) -> EngineResult<()> {
        match task.kind.as_str() {
            kind::INVITE_SLOT => self.invite_slot(task).await,
            kind::MESSAGE_SLOT => self.message_slot(task).await,
            kind::CHECK => self.check(task).await,
            kind::ENRICH => self.enrich(task).await,
            kind::QUALIFY => self.qualify(task).await,
            kind::LOGIN => self.login(task).await,
            kind::SUBMIT_CODE => self.submit_code(task).await,
            kind::MANUAL_MESSAGE => self.manual_message(task).await,
            other => {
                self.fail(task, format!("unknown task kind `{other}`"));
                Ok(())
            }
        }
    }

    // ---- task outcomes ----------------------------------------------------------------------

    fn reschedule(&mut self, task: &Task, due_at: Millis, not_before: Option<Millis>) {
        self.out.tasks.push(TaskOp::Reschedule {
            id: task.id.clone(),
            due_at,
            not_before,
        });
    }

    /// A slot with nothing to do: new work pulls it forward.
    fn park(&mut self, task: &Task) {
        self.reschedule(task, PARKED, task.not_before);
    }

    fn done(&mut self, task: &Task) {
        if let Some(campaign) = &task.campaign_id {
            self.touched.insert(campaign.clone());
        }
        self.out.tasks.push(TaskOp::Done {
            id: task.id.clone(),
        });
    }

    fn fail(&mut self, task: &Task, error: String) {
        tracing::warn!(task = %task.id, %error, "task failed");
        if let Some(campaign) = &task.campaign_id {
            self.touched.insert(campaign.clone());
        }
        self.out.tasks.push(TaskOp::Fail {
            id: task.id.clone(),
            error,
        });
    }

    /// Tries the task again later, or ends it `failed` after the last attempt.
    fn retry(&mut self, task: &Task, error: String) {
        if task.attempts + 1 >= self.inner.config.max_attempts {
            self.fail(task, error);
        } else {
            tracing::debug!(task = %task.id, %error, "task retried");
            self.out.tasks.push(TaskOp::Retry {
                id: task.id.clone(),
                due_at: self.now + rules::retry_delay(task.attempts),
                error,
            });
        }
    }

    fn chat_op(&mut self, op: ChatOp) {
        self.out.chats.push(op);
    }

    // ---- agents -----------------------------------------------------------------------------

    fn account(&mut self, agent_id: &str) -> Result<Account, String> {
        let inner = self.inner;
        let state = self
            .agents
            .get_mut(agent_id)
            .ok_or_else(|| "the agent is gone".to_owned())?;
        if let Some(account) = &state.account {
            return account.clone();
        }
        let account = account_of(inner, &state.agent);
        state.account = Some(account.clone());
        account
    }

    /// The agent needs the user: `auth_needed` with `alert` (once per batch).
    fn needs_action(&mut self, agent_id: &str, provider_account_id: Option<String>, alert: Alert) {
        if let Some(state) = self.agents.get_mut(agent_id) {
            if state.agent.status == AgentStatus::AuthNeeded && provider_account_id.is_none() {
                return;
            }
            state.agent.status = AgentStatus::AuthNeeded;
            if provider_account_id.is_some() {
                state
                    .agent
                    .provider_account_id
                    .clone_from(&provider_account_id);
                state.account = None;
            }
        }
        self.out.agents.push(AgentOp::NeedsAction {
            agent: agent_id.to_owned(),
            provider_account_id,
            alert,
        });
    }

    /// What `error` means, after the circuit breaker looked at it: a restriction, or too many
    /// rate limits in a row, stops the agent (`Failure::Stopped`).
    fn classify(&mut self, agent_id: &str, error: &ConnectorError) -> Failure {
        let mut streak = 0;
        if matches!(error, ConnectorError::RateLimited { .. }) {
            if let Some(state) = self.agents.get_mut(agent_id) {
                state.agent.rate_limited_streak += 1;
                streak = state.agent.rate_limited_streak;
            }
            self.out.agents.push(AgentOp::RateLimited {
                agent: agent_id.to_owned(),
            });
        }
        match breaker_alert(error, streak) {
            Some(alert) => {
                self.trip(agent_id, alert);
                Failure::Stopped
            }
            None => failure(error),
        }
    }

    /// Stops a running agent at once (in memory, so the rest of the batch leaves it alone,
    /// and in the settlement).
    fn trip(&mut self, agent_id: &str, alert: Alert) {
        if let Some(state) = self.agents.get_mut(agent_id) {
            if state.agent.status != AgentStatus::Running {
                return;
            }
            state.agent.status = AgentStatus::Paused;
            state.agent.rate_limited_streak = 0;
        }
        self.out.agents.push(AgentOp::Tripped {
            agent: agent_id.to_owned(),
            alert,
        });
    }

    fn is_running(&self, agent_id: &str) -> bool {
        self.agents
            .get(agent_id)
            .is_some_and(|s| s.agent.status == AgentStatus::Running)
    }

    /// Starts the agent's new local day if it began (in memory and in the settlement).
    fn roll_over(&mut self, agent_id: &str, window: &WorkingWindow) {
        let Some(state) = self.agents.get_mut(agent_id) else {
            return;
        };
        let Some(op) = rollover_in(self.inner, &state.agent, window, self.now) else {
            return;
        };
        if let AgentOp::Rollover {
            day,
            day_ends_at,
            invitations_target,
            messages_target,
            reset,
            ..
        } = &op
        {
            let agent = &mut state.agent;
            agent.usage_day = Some(day.clone());
            agent.day_ends_at = Some(*day_ends_at);
            agent.invitations_target = *invitations_target;
            agent.messages_target = *messages_target;
            if *reset {
                agent.invitations_today = 0;
                agent.messages_today = 0;
            }
        }
        self.out.agents.push(op);
    }

    /// The working window of a slot's running agent, its day rolled over; `None` (the task
    /// handled) when the agent is gone, not running or without usable hours.
    fn slot_window(&mut self, task: &Task) -> Option<(EngineAgent, WorkingWindow)> {
        let Some(agent_id) = task.agent_id.clone() else {
            self.fail(task, "a slot without an agent".into());
            return None;
        };
        let Some(state) = self.agents.get(&agent_id) else {
            self.done(task);
            return None;
        };
        if state.agent.status != AgentStatus::Running {
            self.park(task);
            return None;
        }
        let window = match window_of(&state.agent) {
            Ok(window) => window,
            Err(error) => {
                tracing::warn!(agent = %agent_id, %error, "agent without usable working hours");
                self.park(task);
                return None;
            }
        };
        self.roll_over(&agent_id, &window);
        let agent = self.agents.get(&agent_id)?.agent.clone();
        Some((agent, window))
    }

    /// Wakes the slot a little after the window's next opening at or after `from`.
    fn wake_at_opening(&mut self, task: &Task, window: &WorkingWindow, from: Millis) {
        match rules::wake_at_opening(window, from, self.inner.unit()) {
            Some(at) => self.reschedule(task, at, None),
            None => self.park(task),
        }
    }

    /// The open window at `now` as `(open, close)` in milliseconds, if any.
    fn open_window(&self, window: &WorkingWindow) -> Option<(Millis, Millis)> {
        window
            .current(instant(self.now))
            .map(|(open, close)| (open.timestamp_millis(), close.timestamp_millis()))
    }

    /// When the slot runs after an action with `remaining` actions left today.
    fn next_slot(
        &self,
        window: &WorkingWindow,
        agent: &EngineAgent,
        close: Millis,
        remaining: i64,
    ) -> Millis {
        let day_end = agent.day_ends_at.unwrap_or(self.now + rules::DAY);
        let units = (self.inner.unit(), self.inner.unit());
        rules::next_slot(
            window,
            self.now,
            close,
            remaining,
            day_end,
            self.inner.config.min_spacing,
            units,
        )
        .unwrap_or(PARKED)
    }

    fn first_message_at(&self, agent: &EngineAgent) -> Option<Millis> {
        (!agent.settings.invitations_only).then(|| {
            self.now + rules::pick(self.inner.config.first_message_delay, self.inner.unit())
        })
    }

    fn reply_due(&self, received_at: Millis) -> Millis {
        let delay = rules::pick(self.inner.config.reply_delay, self.inner.unit());
        (received_at + delay).max(self.now)
    }

    // ---- loading on demand ------------------------------------------------------------------

    async fn context(&mut self, campaign_id: &str) -> EngineResult<Option<CampaignContext>> {
        if let Some(context) = self.contexts.get(campaign_id) {
            return Ok(context.clone());
        }
        let context = self
            .inner
            .store
            .campaign_contexts(&[campaign_id.to_owned()])
            .await?
            .into_iter()
            .next();
        self.contexts
            .insert(campaign_id.to_owned(), context.clone());
        Ok(context)
    }

    async fn history(&mut self, chat_id: &str) -> EngineResult<Vec<HistoryMessage>> {
        if let Some(history) = self.histories.get(chat_id) {
            return Ok(history.clone());
        }
        let history = self.inner.store.histories(&[chat_id.to_owned()]).await?;
        self.histories.insert(chat_id.to_owned(), history.clone());
        Ok(history)
    }

    // ---- slots ------------------------------------------------------------------------------

    async fn invite_slot(&mut self, task: &Task) -> EngineResult<()> {
        let Some((agent, window)) = self.slot_window(task) else {
            return Ok(());
        };
        let now = self.now;
        let Some((_, close)) = self.open_window(&window) else {
            self.wake_at_opening(task, &window, now);
            return Ok(());
        };
        let (weekly, monthly) = self
            .agents
            .get(&agent.id)
            .map_or((0, 0), |s| (s.weekly, s.monthly));
        if agent.invitations_today >= agent.invitations_target
            || weekly >= agent.weekly_invitation_cap
            || monthly >= agent.monthly_invitation_cap
        {
            let day_end = agent.day_ends_at.unwrap_or(now + rules::DAY);
            self.wake_at_opening(task, &window, day_end);
            return Ok(());
        }
        let spacing = self.inner.config.min_spacing;
        if let Some(last) = agent.last_invitation_at
            && now < last + spacing
        {
            self.reschedule(task, last + spacing, None);
            return Ok(());
        }
        let candidates = self.invitees.remove(&agent.id).unwrap_or_default();
        if candidates.is_empty() {
            self.park(task);
            return Ok(());
        }
        let account = match self.account(&agent.id) {
            Ok(account) => account,
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error));
                self.park(task);
                return Ok(());
            }
        };
        for chat in candidates {
            if chat.on_dnc {
                self.chat_op(ChatOp::Skipped { chat: chat.id });
                continue;
            }
            self.inner.count_call();
            match self.inner.connector.profile(&account, &chat.url).await {
                Ok(profile) if profile.connected => {
                    if agent.settings.skip_in_network {
                        self.chat_op(ChatOp::Skipped { chat: chat.id });
                    } else {
                        self.chat_op(ChatOp::Connected {
                            chat: chat.id.clone(),
                            at: now,
                        });
                        let first_message_at = self.first_message_at(&agent);
                        self.chat_op(ChatOp::Enriched {
                            chat: chat.id,
                            profile: prospect_profile(profile),
                            at: now,
                            first_message_at,
                        });
                    }
                }
                Ok(_) => {
                    let remaining = agent.invitations_target - agent.invitations_today - 1;
                    let after_sent = self.next_slot(&window, &agent, close, remaining);
                    self.plan_send(
                        task,
                        &agent,
                        account,
                        chat,
                        SendKind::Invitation,
                        String::new(),
                        None,
                        after_sent,
                        ai_origin(None),
                    );
                    return Ok(());
                }
                Err(error) => match self.classify(&agent.id, &error) {
                    Failure::EndChat(code) => self.chat_op(ChatOp::Refused {
                        chat: chat.id,
                        status_code: code,
                    }),
                    Failure::Stopped => {
                        self.park(task);
                        return Ok(());
                    }
                    Failure::Refused(reason) => {
                        tracing::warn!(chat = %chat.id, %reason, "profile refused: unreachable");
                        self.chat_op(ChatOp::Refused {
                            chat: chat.id,
                            status_code: status::UNREACHABLE,
                        });
                    }
                    Failure::Session => {
                        self.needs_action(&agent.id, None, session_alert());
                        self.park(task);
                        return Ok(());
                    }
                    Failure::Later(after) => {
                        let after = after.unwrap_or_else(|| rules::retry_delay(0));
                        self.reschedule(task, now + after, None);
                        return Ok(());
                    }
                    Failure::Unknown(reason) => {
                        tracing::debug!(agent = %agent.id, %reason, "profile lookup failed");
                        self.reschedule(task, now + rules::retry_delay(0), None);
                        return Ok(());
                    }
                },
            }
        }
        // Every candidate was settled without an invitation; more may be waiting.
        self.reschedule(task, now + spacing, None);
        Ok(())
    }

    async fn message_slot(&mut self, task: &Task) -> EngineResult<()> {
        let Some((agent, window)) = self.slot_window(task) else {
            return Ok(());
        };
        let now = self.now;
        let Some((_, close)) = self.open_window(&window) else {
            self.wake_at_opening(task, &window, now);
            return Ok(());
        };
        if agent.messages_today >= agent.messages_target {
            let day_end = agent.day_ends_at.unwrap_or(now + rules::DAY);
            self.wake_at_opening(task, &window, day_end);
            return Ok(());
        }
        let spacing = self.inner.config.min_spacing;
        if let Some(last) = agent.last_message_action_at
            && now < last + spacing
        {
            self.reschedule(task, last + spacing, task.not_before);
            return Ok(());
        }
        let candidates = self.due_messages.remove(&agent.id).unwrap_or_default();
        let (due, later): (Vec<EngineChat>, Vec<EngineChat>) = candidates
            .into_iter()
            .partition(|c| c.next_message_at.is_some_and(|at| at <= now));
        if due.is_empty() {
            match later.iter().filter_map(|c| c.next_message_at).min() {
                Some(at) => {
                    let at = at.max(task.not_before.unwrap_or(at));
                    self.reschedule(task, at, task.not_before);
                }
                None => self.park(task),
            }
            return Ok(());
        }
        let account = match self.account(&agent.id) {
            Ok(account) => account,
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error));
                self.park(task);
                return Ok(());
            }
        };
        for chat in due {
            if chat.on_dnc {
                self.chat_op(ChatOp::Skipped { chat: chat.id });
                continue;
            }
            if agent.settings.invitations_only || status::is_finished(chat.status) {
                self.chat_op(ChatOp::DropMessage { chat: chat.id });
                continue;
            }
            match self.prepare_message(&agent, &account, chat).await? {
                Prepared::Send(ready) => {
                    let remaining = agent.messages_target - agent.messages_today - 1;
                    let after_sent = self.next_slot(&window, &agent, close, remaining);
                    let Ready {
                        chat,
                        kind,
                        text,
                        context,
                        origin,
                    } = *ready;
                    self.plan_send(
                        task,
                        &agent,
                        account,
                        chat,
                        SendKind::Message(kind),
                        text,
                        Some(context),
                        after_sent,
                        origin,
                    );
                    return Ok(());
                }
                Prepared::Skip => {}
                Prepared::Stop(due) => {
                    match due {
                        Some(at) => self.reschedule(task, at, task.not_before),
                        None => self.park(task),
                    }
                    return Ok(());
                }
            }
        }
        // Nothing was sent; what is left is due again soon.
        self.reschedule(task, now + spacing, task.not_before);
        Ok(())
    }

    /// Looks for fresh replies, then writes the due message of `chat`.
    async fn prepare_message(
        &mut self,
        agent: &EngineAgent,
        account: &Account,
        mut chat: EngineChat,
    ) -> EngineResult<Prepared> {
        let now = self.now;
        let kind = chat.next_message_kind.unwrap_or(MessageKind::First);
        let Some(context) = self.context(&chat.campaign_id).await? else {
            self.chat_op(ChatOp::DropMessage { chat: chat.id });
            return Ok(Prepared::Skip);
        };
        let mut history = self.history(&chat.id).await?;
        if kind != MessageKind::First || chat.ongoing || chat.messages_sent > 0 {
            // A follow-up is cancelled, and a reply completed, by what the prospect wrote since.
            let sent = sent_refs(&history);
            let since = chat.replies_seen_at.unwrap_or(0);
            self.inner.count_call();
            match self
                .inner
                .connector
                .replies(account, &chat.url, since, now, &sent)
                .await
            {
                Ok(incoming) if !incoming.is_empty() => {
                    let messages: Vec<(String, Millis)> =
                        incoming.iter().map(|m| (m.text.clone(), m.at)).collect();
                    let last = messages.last().map_or(now, |(_, at)| *at);
                    history.extend(messages.iter().map(|(text, at)| HistoryMessage {
                        chat_id: chat.id.clone(),
                        role: Role::User,
                        content: text.clone(),
                        at: *at,
                    }));
                    chat.has_responded = true;
                    chat.replies_seen_at = Some(now);
                    // An approved draft answered what came before: it is superseded, and the
                    // AI answers again.
                    if kind != MessageKind::Reply || chat.draft_id.is_some() {
                        let reply_at = Some(self.reply_due(last));
                        self.chat_op(ChatOp::Received {
                            chat: chat.id,
                            messages,
                            reply_at,
                            seen_until: now,
                        });
                        return Ok(Prepared::Skip);
                    }
                    // This reply answers them too.
                    self.chat_op(ChatOp::Received {
                        chat: chat.id.clone(),
                        messages,
                        reply_at: None,
                        seen_until: now,
                    });
                }
                Ok(_) => {}
                Err(error) => match self.classify(&agent.id, &error) {
                    Failure::EndChat(code) => {
                        self.chat_op(ChatOp::Refused {
                            chat: chat.id,
                            status_code: code,
                        });
                        return Ok(Prepared::Skip);
                    }
                    Failure::Stopped => return Ok(Prepared::Stop(None)),
                    Failure::Session => {
                        self.needs_action(&agent.id, None, session_alert());
                        return Ok(Prepared::Stop(None));
                    }
                    Failure::Later(after) => {
                        return Ok(Prepared::Stop(Some(
                            now + after.unwrap_or_else(|| rules::retry_delay(0)),
                        )));
                    }
                    Failure::Unknown(_) | Failure::Refused(_) => {
                        return Ok(Prepared::Stop(Some(now + rules::retry_delay(0))));
                    }
                },
            }
        }
        if let Some(draft) = chat.draft_id.as_ref().and_then(|id| self.drafts.get(id)) {
            if draft.status != DraftStatus::Approved {
                // Only an approved draft plans a message; this one is not for sending.
                self.chat_op(ChatOp::DropMessage { chat: chat.id });
                return Ok(Prepared::Skip);
            }
            let text = draft.final_text().to_owned();
            let origin = Origin {
                author: Author::Ai,
                model: draft.model.clone(),
                prompt_id: draft.prompt_id.clone(),
                draft_id: Some(draft.id.clone()),
            };
            return Ok(Prepared::Send(Box::new(Ready {
                chat,
                kind,
                text,
                context,
                origin,
            })));
        }
        let purpose = match kind {
            MessageKind::First => Purpose::FirstMessage,
            MessageKind::FollowUp => {
                Purpose::FollowUp(u8::try_from(chat.followups_sent + 1).unwrap_or(u8::MAX))
            }
            MessageKind::Reply => Purpose::Reply,
        };
        let request = match writing::generation_request(purpose, &context, &chat, &history) {
            Ok(request) => request,
            Err(missing) => {
                tracing::warn!(chat = %chat.id, %missing, "message not written: prompt variables undefined");
                self.chat_op(ChatOp::Postpone {
                    chat: chat.id,
                    due: now + rules::DAY,
                });
                return Ok(Prepared::Skip);
            }
        };
        let written = match self.inner.models.model(&context.model) {
            Ok(model) => model.generate(&request).await,
            Err(error) => Err(error),
        };
        match written {
            Ok(generation) if !generation.text.trim().is_empty() => {
                let text = generation.text.trim().to_owned();
                if context.review_mode.holds(kind.draft_kind()) {
                    self.hold_for_review(&chat, &context, kind, text);
                    return Ok(Prepared::Skip);
                }
                let origin = ai_origin(Some(&context));
                Ok(Prepared::Send(Box::new(Ready {
                    chat,
                    kind,
                    text,
                    context,
                    origin,
                })))
            }
            Ok(_) => {
                tracing::warn!(chat = %chat.id, "the model wrote nothing: message dropped");
                self.chat_op(ChatOp::DropMessage { chat: chat.id });
                Ok(Prepared::Skip)
            }
            Err(error) => {
                tracing::warn!(chat = %chat.id, %error, "message not written: model failed");
                self.chat_op(ChatOp::Postpone {
                    chat: chat.id,
                    due: now + rules::retry_delay(0),
                });
                Ok(Prepared::Skip)
            }
        }
    }

    /// Records what the AI wrote as a draft waiting for a person (review mode).
    fn hold_for_review(
        &mut self,
        chat: &EngineChat,
        context: &CampaignContext,
        kind: MessageKind,
        text: String,
    ) {
        let draft = NewDraft {
            id: outbound_core::ids::new_id(),
            team_id: chat.team_id.clone(),
            chat_id: chat.id.clone(),
            campaign_id: chat.campaign_id.clone(),
            agent_id: chat.agent_id.clone(),
            prospect_id: chat.prospect_id.clone(),
            kind: kind.draft_kind(),
            text,
            model: Some(context.model.clone()),
            prompt_id: Some(context.prompt_id.clone()),
            created_at: self.now,
            expires_at: self.now.saturating_add(self.inner.config.draft_ttl),
        };
        self.chat_op(ChatOp::Drafted {
            chat: chat.id.clone(),
            draft,
        });
    }

    #[expect(clippy::too_many_arguments, reason = "one send, described once")]
    fn plan_send(
        &mut self,
        task: &Task,
        agent: &EngineAgent,
        account: Account,
        chat: EngineChat,
        kind: SendKind,
        text: String,
        context: Option<CampaignContext>,
        after_sent: Millis,
        origin: Origin,
    ) {
        let send = NewSend {
            id: outbound_core::ids::new_id(),
            team_id: chat.team_id.clone(),
            agent_id: agent.id.clone(),
            chat_id: chat.id.clone(),
            kind,
            text,
            at: self.now,
            lease_until: send_lease_until(self.inner),
            origin,
        };
        self.sends.push(PlannedSend {
            send,
            account,
            chat,
            context,
            slot: task.id.clone(),
            after_sent,
            after_failed: self.now + self.inner.config.min_spacing,
            one_off: false,
        });
    }

    // ---- conversation tasks -----------------------------------------------------------------

    /// The conversation of a task, as loaded for the batch.
    fn task_chat(&self, task: &Task) -> Option<EngineChat> {
        task.chat_id
            .as_ref()
            .and_then(|id| self.chats.get(id))
            .cloned()
    }

    /// The chat of a conversation task and its running agent; `None` when the task is handled
    /// (chat gone or finished: done; agent not running: later).
    fn chat_and_agent(&mut self, task: &Task) -> Option<(EngineChat, EngineAgent, Account)> {
        let Some(chat) = self.task_chat(task) else {
            self.done(task);
            return None;
        };
        if status::is_finished(chat.status) {
            self.done(task);
            return None;
        }
        let Some(agent) = self.agents.get(&chat.agent_id).map(|s| s.agent.clone()) else {
            self.done(task);
            return None;
        };
        if agent.status != AgentStatus::Running {
            self.reschedule(task, self.now + rules::IDLE_RECHECK, None);
            return None;
        }
        match self.account(&agent.id) {
            Ok(account) => Some((chat, agent, account)),
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error));
                self.reschedule(task, self.now + rules::IDLE_RECHECK, None);
                None
            }
        }
    }

    /// A failed read of LinkedIn for a conversation task.
    fn read_failed(&mut self, task: &Task, chat: &EngineChat, error: &ConnectorError) {
        match self.classify(&chat.agent_id, error) {
            Failure::Stopped => self.reschedule(task, self.now + rules::IDLE_RECHECK, None),
            Failure::EndChat(code) => {
                self.chat_op(ChatOp::Refused {
                    chat: chat.id.clone(),
                    status_code: code,
                });
                self.done(task);
            }
            Failure::Session => {
                self.needs_action(&chat.agent_id, None, session_alert());
                self.reschedule(task, self.now + rules::IDLE_RECHECK, None);
            }
            Failure::Later(after) => {
                let after = after.unwrap_or_else(|| rules::retry_delay(task.attempts));
                self.reschedule(task, self.now + after, None);
            }
            Failure::Unknown(reason) => self.retry(task, reason),
            Failure::Refused(reason) => {
                tracing::warn!(chat = %chat.id, %reason, "LinkedIn refused: unreachable");
                self.chat_op(ChatOp::Refused {
                    chat: chat.id.clone(),
                    status_code: status::UNREACHABLE,
                });
                self.done(task);
            }
        }
    }

    async fn check(&mut self, task: &Task) -> EngineResult<()> {
        let Some((chat, agent, account)) = self.chat_and_agent(task) else {
            return Ok(());
        };
        let now = self.now;
        if let Ok(window) = window_of(&agent)
            && !window.contains(instant(now))
        {
            // What a check finds is acted on in working hours: look then.
            self.wake_at_opening(task, &window, now);
            return Ok(());
        }
        match chat.status {
            status::INVITATION_SENT => {
                let invited_at = chat.invited_at.unwrap_or(now);
                self.inner.count_call();
                let state = self
                    .inner
                    .connector
                    .invitation_state(&account, &chat.url, invited_at, now)
                    .await;
                match state {
                    Ok(InvitationState::Accepted { at }) => {
                        self.chat_op(ChatOp::Accepted {
                            chat: chat.id.clone(),
                            at: at.min(now),
                        });
                        self.out.tasks.push(chat_task(&chat, kind::ENRICH, now));
                        self.done(task);
                    }
                    Ok(InvitationState::Pending) => {
                        let withdraw_at =
                            invited_at.saturating_add(self.inner.config.withdraw_after);
                        if now >= withdraw_at {
                            self.withdraw(task, &chat, &account).await?;
                        } else {
                            let next = rules::next_invitation_check(invited_at, now)
                                .map_or(withdraw_at, |at| at.min(withdraw_at));
                            self.reschedule(task, next, None);
                        }
                    }
                    Ok(InvitationState::Declined) => self.done(task),
                    Err(error) => self.read_failed(task, &chat, &error),
                }
            }
            status::CONTACTED | status::REPLIED => {
                let history = self.histories.get(&chat.id).cloned().unwrap_or_default();
                let sent = sent_refs(&history);
                let since = chat.replies_seen_at.unwrap_or(0);
                self.inner.count_call();
                let replies = self
                    .inner
                    .connector
                    .replies(&account, &chat.url, since, now, &sent)
                    .await;
                match replies {
                    Ok(incoming) => {
                        let last_in = incoming.iter().map(|m| m.at).max();
                        if let Some(last) = last_in {
                            let answer = !chat.paused && !agent.settings.invitations_only;
                            let reply_at = answer.then(|| self.reply_due(last));
                            self.chat_op(ChatOp::Received {
                                chat: chat.id.clone(),
                                messages: incoming.into_iter().map(|m| (m.text, m.at)).collect(),
                                reply_at,
                                seen_until: now,
                            });
                            if !answer {
                                self.out.tasks.push(chat_task(&chat, kind::QUALIFY, now));
                            }
                        }
                        // An ongoing conversation without messages is quiet since it was
                        // first watched.
                        let last_activity = [chat.last_message_at, chat.last_response_at, last_in]
                            .into_iter()
                            .flatten()
                            .max()
                            .or(chat.replies_seen_at)
                            .unwrap_or(now);
                        let followup_planned = last_in.is_none()
                            && chat.next_message_kind == Some(MessageKind::FollowUp)
                            && chat.next_message_at.is_some();
                        match rules::next_reply_check(last_activity, now, followup_planned) {
                            Some(at) => self.reschedule(task, at, None),
                            None => self.done(task),
                        }
                    }
                    Err(error) => self.read_failed(task, &chat, &error),
                }
            }
            _ => self.done(task),
        }
        Ok(())
    }

    /// Withdraws an invitation left unanswered too long, so that the account's pending
    /// invitations stay few; a backend that cannot withdraw just stops watching it.
    async fn withdraw(
        &mut self,
        task: &Task,
        chat: &EngineChat,
        account: &Account,
    ) -> EngineResult<()> {
        let ids = self
            .inner
            .store
            .invitation_ids(std::slice::from_ref(&chat.id))
            .await?;
        self.inner.count_call();
        let withdrawn = self
            .inner
            .connector
            .withdraw_invitation(account, &chat.url, ids.get(&chat.id).map(String::as_str))
            .await;
        match withdrawn {
            Ok(()) => {
                self.chat_op(ChatOp::Withdrawn {
                    chat: chat.id.clone(),
                    at: self.now,
                });
                self.done(task);
            }
            Err(ConnectorError::Rejected(reason)) => {
                tracing::debug!(chat = %chat.id, %reason, "invitation not withdrawn");
                self.done(task);
            }
            Err(error) => self.read_failed(task, chat, &error),
        }
        Ok(())
    }

    async fn enrich(&mut self, task: &Task) -> EngineResult<()> {
        let Some((chat, agent, account)) = self.chat_and_agent(task) else {
            return Ok(());
        };
        if chat.status != status::INVITATION_ACCEPTED {
            self.done(task);
            return Ok(());
        }
        self.inner.count_call();
        match self.inner.connector.profile(&account, &chat.url).await {
            Ok(profile) => {
                let first_message_at = self.first_message_at(&agent);
                self.chat_op(ChatOp::Enriched {
                    chat: chat.id.clone(),
                    profile: prospect_profile(profile),
                    at: self.now,
                    first_message_at,
                });
                self.done(task);
            }
            Err(error) => self.read_failed(task, &chat, &error),
        }
        Ok(())
    }

    async fn qualify(&mut self, task: &Task) -> EngineResult<()> {
        let Some(chat) = self.task_chat(task) else {
            self.done(task);
            return Ok(());
        };
        if status::is_finished(chat.status) {
            self.done(task);
            return Ok(());
        }
        let history = self.histories.get(&chat.id).cloned().unwrap_or_default();
        if !history.iter().any(|m| m.role == Role::User) {
            self.done(task);
            return Ok(());
        }
        let Some(context) = self.context(&chat.campaign_id).await? else {
            self.done(task);
            return Ok(());
        };
        let request = match writing::qualification_request(&context, &chat, &history) {
            Ok(request) => request,
            Err(missing) => {
                self.fail(task, format!("prompt variables undefined: {missing}"));
                return Ok(());
            }
        };
        let verdict = match self.inner.models.model(&context.model) {
            Ok(model) => model.qualify(&request).await,
            Err(error) => Err(error),
        };
        match verdict {
            Ok(verdict) => {
                let score = i64::from(verdict.score);
                let qualification = Qualification::for_score(
                    score,
                    context.qualification_automatic,
                    context.qualification_verification,
                );
                let reason = Some(verdict.reason.trim().to_owned()).filter(|r| !r.is_empty());
                self.chat_op(ChatOp::Judged {
                    chat: chat.id.clone(),
                    score,
                    reason,
                    qualification,
                    at: self.now,
                });
                self.done(task);
            }
            Err(error) => self.retry(task, error.to_string()),
        }
        Ok(())
    }

    /// Sends a person's message (a take-over) through the agent now, inside or outside working
    /// hours; it counts in the day's messages. Its ledger id is the message id, so a task run
    /// again after a crash never sends it twice.
    async fn manual_message(&mut self, task: &Task) -> EngineResult<()> {
        let payload: Option<ManualPayload> = task
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok());
        let Some(payload) = payload else {
            self.fail(task, "a person's message without its text".into());
            return Ok(());
        };
        let Some(chat) = self.task_chat(task) else {
            self.done(task);
            return Ok(());
        };
        let Some(agent) = self.agents.get(&chat.agent_id).map(|s| s.agent.clone()) else {
            self.fail(task, "the agent is gone".into());
            return Ok(());
        };
        if agent.status != AgentStatus::Running {
            self.reschedule(task, self.now + rules::IDLE_RECHECK, None);
            return Ok(());
        }
        let account = match self.account(&agent.id) {
            Ok(account) => account,
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error));
                self.reschedule(task, self.now + rules::IDLE_RECHECK, None);
                return Ok(());
            }
        };
        let send = NewSend {
            id: payload.id,
            team_id: chat.team_id.clone(),
            agent_id: agent.id.clone(),
            chat_id: chat.id.clone(),
            kind: SendKind::Manual,
            text: payload.text,
            at: self.now,
            lease_until: send_lease_until(self.inner),
            origin: Origin::person(),
        };
        self.sends.push(PlannedSend {
            send,
            account,
            chat,
            context: None,
            slot: task.id.clone(),
            after_sent: self.now,
            after_failed: self.now,
            one_off: true,
        });
        Ok(())
    }

    // ---- logins -----------------------------------------------------------------------------

    /// The agent of a login task if it is in `expected`; `None` when the task is handled.
    fn login_agent(
        &mut self,
        task: &Task,
        expected: AgentStatus,
    ) -> Option<(EngineAgent, Result<Account, String>)> {
        let agent_id = task.agent_id.clone()?;
        let Some(agent) = self.agents.get(&agent_id).map(|s| s.agent.clone()) else {
            self.done(task);
            return None;
        };
        if agent.status != expected {
            self.done(task);
            return None;
        }
        let account = self.account(&agent.id);
        Some((agent, account))
    }

    /// What a login (or a code) led to.
    fn logged(&mut self, task: &Task, agent: &EngineAgent, outcome: LoginOutcome) {
        match outcome {
            LoginOutcome::LoggedIn {
                provider_account_id,
                name,
                avatar,
            } => {
                // Later tasks of this batch see the logged-in account.
                if let Some(state) = self.agents.get_mut(&agent.id) {
                    state.agent.status = AgentStatus::Running;
                    state.agent.provider_account_id = Some(provider_account_id.clone());
                    state.account = None;
                }
                self.out.agents.push(AgentOp::LoggedIn {
                    agent: agent.id.clone(),
                    provider_account_id,
                    name,
                    avatar,
                });
                self.out
                    .tasks
                    .push(slot_task(agent, kind::INVITE_SLOT, self.now));
                self.out
                    .tasks
                    .push(slot_task(agent, kind::MESSAGE_SLOT, self.now));
            }
            LoginOutcome::Checkpoint {
                kind,
                provider_account_id,
            } => self.needs_action(
                &agent.id,
                Some(provider_account_id),
                checkpoint_alert(&kind),
            ),
        }
        self.done(task);
    }

    async fn login(&mut self, task: &Task) -> EngineResult<()> {
        let Some((agent, account)) = self.login_agent(task, AgentStatus::AuthInProgress) else {
            return Ok(());
        };
        let account = match account {
            Ok(account) => account,
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error));
                self.done(task);
                return Ok(());
            }
        };
        self.inner.count_call();
        match self.inner.connector.login(&account).await {
            Ok(outcome) => self.logged(task, &agent, outcome),
            Err(error)
                if error.is_retryable() && task.attempts + 1 < self.inner.config.max_attempts =>
            {
                self.retry(task, error.to_string());
            }
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error.to_string()));
                self.done(task);
            }
        }
        Ok(())
    }

    async fn submit_code(&mut self, task: &Task) -> EngineResult<()> {
        let Some((agent, account)) = self.login_agent(task, AgentStatus::AuthNeeded) else {
            return Ok(());
        };
        let code = task
            .payload
            .as_deref()
            .map(|sealed| self.inner.secrets.open(sealed));
        let (Ok(account), Some(Ok(code))) = (account, code) else {
            self.fail(
                task,
                "the verification code or the credentials cannot be read".into(),
            );
            return Ok(());
        };
        self.inner.count_call();
        match self.inner.connector.submit_code(&account, &code).await {
            Ok(outcome) => self.logged(task, &agent, outcome),
            Err(error)
                if error.is_retryable() && task.attempts + 1 < self.inner.config.max_attempts =>
            {
                self.retry(task, error.to_string());
            }
            Err(ConnectorError::Rejected(reason)) => {
                self.out.agents.push(AgentOp::ReplaceAlerts {
                    agent: agent.id.clone(),
                    alert: alert(
                        "2fa_required",
                        &format!(
                            "LinkedIn refused the verification code ({reason}): enter the new code"
                        ),
                        Severity::Warning,
                    ),
                });
                self.done(task);
            }
            Err(error) => {
                self.needs_action(&agent.id, None, credentials_alert(&error.to_string()));
                self.done(task);
            }
        }
        Ok(())
    }

    // ---- the batch's sends ------------------------------------------------------------------

    async fn finish(mut self) -> EngineResult<Settled> {
        let planned = std::mem::take(&mut self.sends);
        if !planned.is_empty() {
            let sends: Vec<NewSend> = planned.iter().map(|p| p.send.clone()).collect();
            let allowed = self.inner.store.begin_sends(&sends).await?;
            for (send, allowed) in planned.into_iter().zip(allowed) {
                if allowed && !self.is_running(&send.send.agent_id) {
                    // The breaker stopped the agent after this send was recorded: it is not
                    // made, and certainly did not happen.
                    self.unmade(&send);
                } else if allowed {
                    self.send(send).await;
                } else {
                    // The conversation changed meanwhile (paused, DNC, finished, campaign
                    // paused): nothing was sent; a reply planned before stays planned.
                    if let (SendKind::Message(kind), Some(due)) =
                        (send.send.kind, send.chat.next_message_at)
                    {
                        self.chat_op(ChatOp::MessageReleased {
                            chat: send.chat.id.clone(),
                            due,
                            kind,
                        });
                    }
                    let refused = "not sent: the conversation may not be contacted \
                                   (Do-Not-Contact list, LinkedIn refused, or the agent stopped)";
                    self.after_send(&send, After::Failed(refused.to_owned()));
                }
            }
        }
        let mut settled = self.inner.store.settle(&self.out).await?;
        settled.touched_campaigns.extend(self.touched);
        Ok(settled)
    }

    fn reschedule_slot(&mut self, slot: &str, due_at: Millis, not_before: Option<Millis>) {
        self.out.tasks.push(TaskOp::Reschedule {
            id: slot.to_owned(),
            due_at,
            not_before,
        });
    }

    /// Settles a recorded send that is not made (its agent stopped meanwhile).
    fn unmade(&mut self, planned: &PlannedSend) {
        self.out.sends.push(SendSettle {
            id: planned.send.id.clone(),
            outcome: SendOutcome::Failed {
                error: "not sent: the agent was stopped by the circuit breaker".into(),
            },
        });
        let chat = &planned.chat;
        let restore = match (chat.next_message_at, chat.next_message_kind) {
            (Some(at), Some(kind)) => Some((at, kind)),
            _ => None,
        };
        release(&mut self.out, &chat.id, planned.send.kind, restore);
        self.after_send(planned, After::Parked);
    }

    /// What becomes of the task that planned a send, after it.
    fn after_send(&mut self, planned: &PlannedSend, after: After) {
        let id = planned.slot.clone();
        if planned.one_off {
            let op = match after {
                After::Sent | After::Unknown => TaskOp::Done { id },
                After::Failed(error) => TaskOp::Fail { id, error },
                After::Later(at) => TaskOp::Reschedule {
                    id,
                    due_at: at,
                    not_before: None,
                },
                After::Parked => TaskOp::Reschedule {
                    id,
                    due_at: self.now + rules::IDLE_RECHECK,
                    not_before: None,
                },
            };
            self.out.tasks.push(op);
            return;
        }
        match after {
            After::Sent => {
                self.reschedule_slot(&id, planned.after_sent, Some(planned.after_sent));
            }
            After::Failed(_) | After::Unknown => {
                self.reschedule_slot(&id, planned.after_failed, None);
            }
            After::Later(at) => self.reschedule_slot(&id, at, None),
            After::Parked => self.reschedule_slot(&id, PARKED, None),
        }
    }

    async fn send(&mut self, planned: PlannedSend) {
        let now = self.now;
        let send = &planned.send;
        let connector = &self.inner.connector;
        self.inner.count_call();
        let result = match send.kind {
            SendKind::Invitation => {
                connector
                    .invite(&planned.account, &planned.chat.url, None, now)
                    .await
            }
            SendKind::Message(_) | SendKind::Manual => {
                connector
                    .send_message(
                        &planned.account,
                        &planned.chat.url,
                        &send.text,
                        &send.id,
                        now,
                    )
                    .await
            }
        };
        match result {
            Ok(sent) => {
                self.out.sends.push(SendSettle {
                    id: send.id.clone(),
                    outcome: SendOutcome::Sent {
                        provider_id: Some(sent.provider_id),
                    },
                });
                let facts = SendFacts {
                    id: &send.id,
                    kind: send.kind,
                    text: &send.text,
                    at: now,
                    origin: &send.origin,
                };
                sent_effects(
                    &mut self.out,
                    &planned.chat,
                    planned.context.as_ref(),
                    &facts,
                );
                self.after_send(&planned, After::Sent);
            }
            Err(error) => self.send_failed(&planned, &error),
        }
    }

    fn send_failed(&mut self, planned: &PlannedSend, error: &ConnectorError) {
        let send = &planned.send;
        let chat = &planned.chat;
        let restore = match (chat.next_message_at, chat.next_message_kind) {
            (Some(at), Some(kind)) => Some((at, kind)),
            _ => None,
        };
        let settle_failed = |out: &mut Settlement| {
            out.sends.push(SendSettle {
                id: send.id.clone(),
                outcome: SendOutcome::Failed {
                    error: error.to_string(),
                },
            });
        };
        match self.classify(&send.agent_id, error) {
            Failure::Stopped => {
                settle_failed(&mut self.out);
                release(&mut self.out, &chat.id, send.kind, restore);
                self.after_send(planned, After::Parked);
            }
            Failure::EndChat(code) => {
                settle_failed(&mut self.out);
                self.chat_op(ChatOp::Refused {
                    chat: chat.id.clone(),
                    status_code: code,
                });
                self.after_send(planned, After::Failed(error.to_string()));
            }
            Failure::Refused(reason) => {
                tracing::warn!(chat = %chat.id, %reason, "send refused");
                settle_failed(&mut self.out);
                match send.kind {
                    SendKind::Invitation => self.chat_op(ChatOp::Refused {
                        chat: chat.id.clone(),
                        status_code: status::UNREACHABLE,
                    }),
                    SendKind::Message(_) => self.chat_op(ChatOp::DropMessage {
                        chat: chat.id.clone(),
                    }),
                    SendKind::Manual => {}
                }
                self.after_send(planned, After::Failed(reason));
            }
            Failure::Session => {
                settle_failed(&mut self.out);
                release(&mut self.out, &chat.id, send.kind, restore);
                self.needs_action(&send.agent_id, None, session_alert());
                self.after_send(planned, After::Parked);
            }
            Failure::Later(after) => {
                settle_failed(&mut self.out);
                release(&mut self.out, &chat.id, send.kind, restore);
                let after = after.unwrap_or_else(|| rules::retry_delay(0));
                self.after_send(planned, After::Later(self.now + after));
            }
            Failure::Unknown(reason) => {
                // It may have happened: the ledger row stays `sending` for the reconciler.
                tracing::warn!(chat = %chat.id, %reason, "send outcome unknown: left to reconciliation");
                self.after_send(planned, After::Unknown);
            }
        }
    }
}

/// The wall-clock time until which a send recorded now is left to this process.
fn send_lease_until(inner: &Inner) -> Millis {
    let lease = Millis::try_from(inner.config.send_lease.as_millis()).unwrap_or(Millis::MAX);
    outbound_core::time::now_millis().saturating_add(lease)
}

/// A message ready to send.
struct Ready {
    chat: EngineChat,
    kind: MessageKind,
    text: String,
    context: CampaignContext,
    origin: Origin,
}

/// An AI send written with `context`'s model and prompt (none for an invitation).
fn ai_origin(context: Option<&CampaignContext>) -> Origin {
    Origin {
        author: Author::Ai,
        model: context.map(|c| c.model.clone()),
        prompt_id: context.map(|c| c.prompt_id.clone()),
        draft_id: None,
    }
}

/// The payload of a `manual_message` task.
#[derive(serde::Deserialize)]
struct ManualPayload {
    id: String,
    text: String,
}

/// What the task that planned a send does after it.
enum After {
    Sent,
    /// It certainly did not happen, for good.
    Failed(String),
    /// Try again at this time.
    Later(Millis),
    /// The agent needs a person first.
    Parked,
    /// Whether it happened is left to the reconciler.
    Unknown,
}

/// What a due message came to.
enum Prepared {
    /// Send it.
    Send(Box<Ready>),
    /// Nothing to send for this conversation now; look at the next one.
    Skip,
    /// Stop the slot (LinkedIn trouble): again at this time, or parked.
    Stop(Option<Millis>),
}

/// Settles interrupted sends by asking the connector whether they happened.
pub(crate) async fn reconcile(
    inner: &Inner,
    now: Millis,
    pending: &[PendingSend],
) -> EngineResult<usize> {
    let store = &inner.store;
    let agent_ids: Vec<String> = pending.iter().map(|s| s.agent_id.clone()).collect();
    let chat_ids: Vec<String> = pending.iter().map(|s| s.chat_id.clone()).collect();
    let agents: HashMap<String, EngineAgent> = store
        .engine_agents(&agent_ids)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let chats: HashMap<String, EngineChat> = store
        .engine_chats(&chat_ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let campaign_ids: Vec<String> = chats.values().map(|c| c.campaign_id.clone()).collect();
    let contexts: HashMap<String, CampaignContext> = store
        .campaign_contexts(&campaign_ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let wall = outbound_core::time::now_millis();
    let lease = Millis::try_from(inner.config.send_lease.as_millis()).unwrap_or(Millis::MAX);
    let mut out = Settlement::new(now);
    let mut settled = 0;
    for send in pending {
        let account = agents
            .get(&send.agent_id)
            .ok_or_else(|| "the agent is gone".to_owned())
            .and_then(|agent| account_of(inner, agent));
        let probe = match send.kind {
            SendKind::Invitation => SendProbe::Invitation,
            SendKind::Message(_) | SendKind::Manual => SendProbe::Message {
                text: &send.text,
                idempotency_key: &send.id,
                at: send.at,
            },
        };
        let found = match &account {
            Ok(account) => {
                inner.count_call();
                inner
                    .connector
                    .find_sent(account, &send.url, probe)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(error) => Err(error.clone()),
        };
        match found {
            Ok(Some(sent)) => {
                out.sends.push(SendSettle {
                    id: send.id.clone(),
                    outcome: SendOutcome::Sent {
                        provider_id: Some(sent.provider_id),
                    },
                });
                if let Some(chat) = chats.get(&send.chat_id) {
                    let context = contexts.get(&chat.campaign_id);
                    let facts = SendFacts {
                        id: &send.id,
                        kind: send.kind,
                        text: &send.text,
                        at: send.at,
                        origin: &send.origin,
                    };
                    sent_effects(&mut out, chat, context, &facts);
                }
                settled += 1;
            }
            Ok(None) => {
                out.sends.push(SendSettle {
                    id: send.id.clone(),
                    outcome: SendOutcome::Failed {
                        error: "not sent: the process stopped before sending".into(),
                    },
                });
                release(&mut out, &send.chat_id, send.kind, send.restore);
                settled += 1;
            }
            Err(error) => {
                tracing::warn!(send = %send.id, %error, "interrupted send not reconciled yet");
                out.sends.push(SendSettle {
                    id: send.id.clone(),
                    outcome: SendOutcome::Unknown {
                        lease_until: wall.saturating_add(lease),
                    },
                });
            }
        }
    }
    store.settle(&out).await?;
    Ok(settled)
}
