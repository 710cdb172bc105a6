//! A whole outreach run on a simulated clock: `outbound simulate` and the engine's tests.
//!
//! Rules:
//! - everything goes through the real paths: agents are set up and logged in by the engine,
//!   prospects arrive through the import path, the engine runs on the sandbox connector and the
//!   template model; only the clock is simulated;
//! - the run is a pure function of its [`SimulationConfig`] (seed included): the clock jumps
//!   from one due task to the next in one-minute ticks, interventions happen at fixed simulated
//!   times, and nothing reads the wall clock to decide anything, so the same seed gives the same
//!   [`Report`];
//! - to make the auditor's counters meaningful, the run also intervenes from outside like a
//!   user would: some people are on the DNC list before the import, more are added while their
//!   conversations run, some conversations are paused (half of them resumed two days later),
//!   and one agent is paused for two days; the auditor gets the record of all that.

use async_trait::async_trait;
use outbound_core::agent::AgentEvent;
use outbound_core::plan::Plan;
use outbound_core::prompt::{FollowUp, PromptType, SectionsPatch};
use outbound_core::review::DraftStatus;
use outbound_core::review::ReviewMode;
use outbound_core::secrets::SecretBox;
use outbound_core::time::Millis;
use outbound_linkedin::{
    Account, ConnectorError, Incoming, InvitationState, LinkedInConnector, LoginOutcome, Profile,
    SandboxConnector, SearchHit, SendProbe, Sent, SentRef,
};
use outbound_store::Store;
use outbound_store::StoreError;
use outbound_store::agents::{AgentChange, AgentSettingsPatch, WorkingHoursPatch};
use outbound_store::campaigns::NewCampaign;
use outbound_store::chats::{ChatFilter, ChatPage};
use outbound_store::drafts::DraftFilter;
use outbound_store::imports::{NewImportRow, source};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::audit::{Funnel, Interventions, Violations, audit};
use super::rules::{DAY, HOUR, MINUTE};
use super::{Engine, EngineConfig, ModelRegistry};
use crate::clock::{Clock, SimulatedClock};
use crate::webhooks::{EngineError, EngineResult};

/// 2026-06-01T00:00:00Z, a Monday: where simulated time starts.
pub const DEFAULT_START: Millis = 1_780_272_000_000;
/// The clock moves in steps of at least this much: what is due within a tick runs together.
const TICK: Millis = MINUTE;
/// Every this many prospects, one is on the DNC list before the import.
const DNC_BEFORE_IMPORT: u32 = 200;
/// Every this many prospects, one is imported as an ongoing conversation.
const ONGOING_EVERY: u32 = 100;
/// Rows per import step.
const IMPORT_BATCH: i64 = 1000;
/// Campaigns looked at by one intervention: one in this many.
const INTERVENTION_SPREAD: usize = 5;
/// Conversations listed per campaign to pick one to intervene on.
const PICK_LIMIT: i64 = 20;
/// Password of the simulated LinkedIn accounts.
const PASSWORD: &str = "simulated-password";
/// Pending drafts the simulated reviewer reads per page.
const REVIEW_PAGE: i64 = 500;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationConfig {
    pub days: u32,
    pub agents: u32,
    pub prospects: u32,
    pub seed: u64,
    /// Simulated start time.
    pub start: Millis,
    /// Tasks per engine batch.
    pub batch: usize,
    /// The review mode of every campaign.
    pub review_mode: ReviewMode,
    /// A simulated person approves each draft this long after it was written (`None`: nobody
    /// does, and drafts expire).
    pub auto_approve_after: Option<Millis>,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            days: 30,
            agents: 5,
            prospects: 500,
            seed: 7,
            start: DEFAULT_START,
            batch: 500,
            review_mode: ReviewMode::Off,
            auto_approve_after: None,
        }
    }
}

/// The outcome of a run: the funnel, the auditor's violations and the size of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub funnel: Funnel,
    pub violations: Violations,
    pub days: u32,
    pub agents: u32,
    pub prospects: u32,
    pub seed: u64,
    pub campaigns_completed: u64,
    /// Tasks the engine ran.
    pub engine_tasks: u64,
    /// Calls to the (simulated) LinkedIn connector.
    pub connector_calls: u64,
    /// Drafts the simulated person approved (`--review-mode`).
    pub drafts_approved: u64,
}

/// Where a run is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Simulated days elapsed.
    pub day: u32,
    pub days: u32,
    pub tasks: u64,
}

/// A sandbox that counts how often each send was delivered, for the auditor.
struct Recorder {
    inner: SandboxConnector,
    deliveries: Mutex<HashMap<String, u32>>,
}

impl Recorder {
    fn note(&self, key: String) {
        if let Ok(mut deliveries) = self.deliveries.lock() {
            *deliveries.entry(key).or_default() += 1;
        }
    }

    /// The sends delivered more than once, with their count.
    fn repeated(&self) -> Vec<(String, u32)> {
        let Ok(deliveries) = self.deliveries.lock() else {
            return Vec::new();
        };
        let mut repeated: Vec<(String, u32)> = deliveries
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        repeated.sort();
        repeated
    }
}

#[async_trait]
impl LinkedInConnector for Recorder {
    async fn login(&self, account: &Account) -> Result<LoginOutcome, ConnectorError> {
        self.inner.login(account).await
    }

    async fn submit_code(
        &self,
        account: &Account,
        code: &str,
    ) -> Result<LoginOutcome, ConnectorError> {
        self.inner.submit_code(account, code).await
    }

    async fn profile(
        &self,
        account: &Account,
        profile_url: &str,
    ) -> Result<Profile, ConnectorError> {
        self.inner.profile(account, profile_url).await
    }

    async fn invite(
        &self,
        account: &Account,
        profile_url: &str,
        note: Option<&str>,
        at: Millis,
    ) -> Result<Sent, ConnectorError> {
        let sent = self.inner.invite(account, profile_url, note, at).await?;
        self.note(format!("invitation {} {profile_url}", account.id));
        Ok(sent)
    }

    async fn invitation_state(
        &self,
        account: &Account,
        profile_url: &str,
        invited_at: Millis,
        now: Millis,
    ) -> Result<InvitationState, ConnectorError> {
        self.inner
            .invitation_state(account, profile_url, invited_at, now)
            .await
    }

    async fn send_message(
        &self,
        account: &Account,
        profile_url: &str,
        text: &str,
        idempotency_key: &str,
        at: Millis,
    ) -> Result<Sent, ConnectorError> {
        let sent = self
            .inner
            .send_message(account, profile_url, text, idempotency_key, at)
            .await?;
        self.note(format!("message {idempotency_key}"));
        Ok(sent)
    }

    async fn replies(
        &self,
        account: &Account,
        profile_url: &str,
        since: Millis,
        now: Millis,
        sent: &[SentRef],
    ) -> Result<Vec<Incoming>, ConnectorError> {
        self.inner
            .replies(account, profile_url, since, now, sent)
            .await
    }

    async fn find_sent(
        &self,
        account: &Account,
        profile_url: &str,
        probe: SendProbe<'_>,
    ) -> Result<Option<Sent>, ConnectorError> {
        self.inner.find_sent(account, profile_url, probe).await
    }

    async fn search_sales_navigator(
        &self,
        account: &Account,
        search_url: &str,
        count: u32,
    ) -> Result<Vec<SearchHit>, ConnectorError> {
        self.inner
            .search_sales_navigator(account, search_url, count)
            .await
    }
}

/// Something the simulated user does at a simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intervention {
    /// Puts the person of one running conversation per picked campaign on the DNC list.
    Dnc {
        day: u32,
    },
    /// Pauses one conversation per picked campaign.
    PauseChats {
        day: u32,
    },
    /// Resumes the conversations paused on `day` (every second one).
    ResumeChats {
        day: u32,
    },
    /// A person takes over one answered conversation per picked campaign (their own message;
    /// the AI pauses there).
    TakeOver {
        day: u32,
    },
    /// Hands the conversations taken over on `day` back to the AI.
    HandBack {
        day: u32,
    },
    PauseAgent,
    ResumeAgent,
}

/// The interventions of a run, by time.
fn schedule(config: &SimulationConfig) -> Vec<(Millis, Intervention)> {
    let mut events = Vec::new();
    for day in 0..config.days {
        let midnight = config.start + i64::from(day) * DAY;
        if day % 3 == 2 {
            events.push((midnight + 12 * HOUR, Intervention::Dnc { day }));
        }
        if day % 5 == 3 {
            events.push((midnight + 11 * HOUR, Intervention::TakeOver { day }));
            if day + 3 < config.days {
                events.push((
                    midnight + 3 * DAY + 11 * HOUR,
                    Intervention::HandBack { day },
                ));
            }
        }
        if day % 4 == 1 {
            events.push((midnight + 10 * HOUR, Intervention::PauseChats { day }));
            if day + 2 < config.days {
                events.push((
                    midnight + 2 * DAY + 10 * HOUR,
                    Intervention::ResumeChats { day },
                ));
            }
        }
    }
    if config.agents >= 2 && config.days > 7 {
        events.push((config.start + 5 * DAY + 8 * HOUR, Intervention::PauseAgent));
        events.push((config.start + 7 * DAY + 8 * HOUR, Intervention::ResumeAgent));
    }
    events.sort_by_key(|(at, _)| *at);
    events
}

/// The working hours, zone and settings of simulated agent `i`: a mix of offsets, IANA zones
/// (with daylight saving), Saturday work, a window past midnight and `skipInNetwork`.
fn agent_settings(i: u32) -> AgentSettingsPatch {
    let (timezone, timezone_name) = match i % 5 {
        0 => (Some(0), None),
        1 => (None, Some(("Europe/Paris".to_owned(), 2))),
        2 => (None, Some(("America/New_York".to_owned(), -4))),
        3 => (Some(3), None),
        _ => (None, Some(("Asia/Tokyo".to_owned(), 9))),
    };
    let (start, stop) = match i % 10 {
        9 => ("20:00", "01:00"),
        3 | 6 => ("08:30", "17:30"),
        _ => ("09:00", "18:00"),
    };
    let days = if i % 7 == 6 {
        "1:1:1:1:1:1:0"
    } else {
        "1:1:1:1:1:0:0"
    };
    AgentSettingsPatch {
        working_hours: Some(WorkingHoursPatch {
            days: Some(days.to_owned()),
            start: Some(start.to_owned()),
            stop: Some(stop.to_owned()),
            timezone,
            timezone_name,
        }),
        limits: None,
        skip_in_network: Some(i % 4 == 3),
        invitations_only: None,
        warmup: None,
        weekly_invitation_cap: None,
        monthly_invitation_cap: None,
    }
}

fn prompt_sections() -> SectionsPatch {
    SectionsPatch {
        context: Some(
            "You are {{agentName}}, reaching out on LinkedIn about {{offeringDescription}} \
             The prospect: {{prospectDescription}} Qualify finance teams that want to close \
             their books faster; be brief and friendly, never pushy."
                .to_owned(),
        ),
        first_message: Some(
            "Hi {{prospectName}}, thanks for connecting! We help finance teams close their \
             books twice as fast. Would a short chat be useful?"
                .to_owned(),
        ),
        follow_ups: Some(vec![
            FollowUp {
                prompt: "Hi {{prospectName}}, bumping this in case it got buried: happy to \
                         share a two-minute overview."
                    .to_owned(),
                delay: 3,
            },
            FollowUp {
                prompt: "{{prospectName}}, teams like yours save about a day per month-end \
                         with us. Worth a look?"
                    .to_owned(),
                delay: 4,
            },
            FollowUp {
                prompt: "Last note from me, {{prospectName}}: if the timing is wrong, no \
                         worries at all."
                    .to_owned(),
                delay: 5,
            },
        ]),
        follow_up_enabled: Some(true),
        comment: None,
    }
}

/// A prepared run.
pub struct Simulation {
    store: Arc<dyn Store>,
    engine: Engine,
    clock: SimulatedClock,
    connector: Arc<Recorder>,
    team: String,
    agents: Vec<String>,
    campaigns: Vec<String>,
    imports: Vec<String>,
    config: SimulationConfig,
    outside: Interventions,
    /// Conversations paused on a day, to resume later.
    paused: BTreeMap<u32, Vec<String>>,
    /// Conversations a simulated person took over on a day, to hand back later.
    taken_over: BTreeMap<u32, Vec<String>>,
    /// Drafts the simulated reviewer approved, and when the next one is due.
    approved: u64,
    next_approval: Option<Millis>,
}

impl Simulation {
    /// Creates the team, agents, product, prompt, campaigns and prospects of `config` in
    /// `store` (a fresh, migrated database), through the same paths the API uses.
    pub async fn prepare(
        store: Arc<dyn Store>,
        config: SimulationConfig,
    ) -> EngineResult<Simulation> {
        let secrets = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key())
            .map_err(|_| EngineError::Config("cannot create the simulation's master key"))?;
        let secrets = Arc::new(secrets);
        let team = store.create_team("Simulation", Plan::Unlimited).await?.id;
        let product = store
            .create_product(
                &team,
                "Ledger AI",
                "Ledger AI closes the books of finance teams twice as fast. It reconciles bank \
                 feeds, flags anomalies and drafts the month-end report.",
                None,
            )
            .await?;
        let prompt = store
            .create_prompt(&team, "Finance outreach", PromptType::Messages, "template")
            .await?;
        store
            .update_prompt(&team, &prompt.id, prompt_sections())
            .await?;
        let mut agents = Vec::new();
        let mut campaigns = Vec::new();
        for i in 0..config.agents {
            let agent = store.create_agent(&team, None).await?;
            store
                .update_agent_settings(&team, &agent.id, agent_settings(i))
                .await?;
            let change = AgentChange::Credentials {
                login: format!("agent{i}@sim.example"),
                country: "FR".to_owned(),
                password_sealed: secrets.seal(PASSWORD),
            };
            store
                .transition_agent(&team, &agent.id, AgentEvent::Setup, change)
                .await?;
            let campaign = store
                .create_campaign(
                    &team,
                    &NewCampaign {
                        name: format!("Finance teams {i}"),
                        product_id: product.id.clone(),
                        prompt_id: prompt.id.clone(),
                        agent_id: agent.id.clone(),
                        qualification_automatic: 70,
                        qualification_verification: 50,
                        variables: BTreeMap::new(),
                        prevent_auto_start: false,
                        review_mode: config.review_mode,
                    },
                    None,
                )
                .await?;
            agents.push(agent.id);
            campaigns.push(campaign.id);
        }
        let mut outside = Interventions::default();
        let url = |n: u32| format!("https://www.linkedin.com/in/sim{}-p{n}", config.seed);
        for n in (0..config.prospects).filter(|n| n % DNC_BEFORE_IMPORT == DNC_BEFORE_IMPORT - 1) {
            let normalised = outbound_core::dnc::normalize_linkedin_url(&url(n))
                .ok_or(EngineError::Config("a simulated URL is not a LinkedIn URL"))?;
            store.add_dnc(&team, &normalised).await?;
            outside.dnc.push((normalised, config.start));
        }
        let mut imports = Vec::new();
        if config.agents > 0 {
            let mut rows: Vec<Vec<NewImportRow>> = vec![Vec::new(); campaigns.len()];
            for n in 0..config.prospects {
                let slot = usize::try_from(n % config.agents).unwrap_or(0);
                rows[slot].push(NewImportRow {
                    name: format!("Prospect {n}"),
                    url: url(n),
                    custom_data: String::new(),
                    ongoing: n % ONGOING_EVERY == ONGOING_EVERY / 2,
                });
            }
            for (campaign, rows) in campaigns.iter().zip(rows) {
                if !rows.is_empty() {
                    imports.push(
                        store
                            .create_import(&team, campaign, source::BATCH, &rows)
                            .await?,
                    );
                }
            }
            while store.process_imports(IMPORT_BATCH).await? > 0 {}
        }
        let connector = Arc::new(Recorder {
            inner: SandboxConnector::with_defaults(config.seed),
            deliveries: Mutex::new(HashMap::new()),
        });
        let engine = Engine::new(
            Arc::clone(&store),
            Arc::clone(&connector) as Arc<dyn LinkedInConnector>,
            ModelRegistry::offline(),
            secrets,
            EngineConfig {
                seed: config.seed,
                batch: config.batch,
                plan_interval: HOUR,
                ..EngineConfig::default()
            },
        );
        Ok(Simulation {
            store,
            engine,
            clock: SimulatedClock::new(config.start),
            connector,
            team,
            agents,
            campaigns,
            imports,
            config,
            outside,
            paused: BTreeMap::new(),
            taken_over: BTreeMap::new(),
            approved: 0,
            next_approval: None,
        })
    }

    /// Runs the simulated days, calling `progress` as time goes, and audits the result.
    pub async fn run(mut self, mut progress: impl FnMut(Progress)) -> EngineResult<Report> {
        let start = self.config.start;
        let end = start + i64::from(self.config.days) * DAY;
        let events = schedule(&self.config);
        let mut next_event = 0;
        self.engine.plan(start).await?;
        loop {
            let task = self
                .engine
                .next_due()
                .await?
                .map(|at| at.max(self.clock.now()) + TICK);
            let event = events.get(next_event).map(|(at, _)| *at);
            let approval = self.next_approval;
            let Some(target) = [task, event, approval].into_iter().flatten().min() else {
                break;
            };
            if target >= end {
                break;
            }
            self.clock.set(target);
            let now = self.clock.now();
            while let Some((at, intervention)) = events.get(next_event).copied() {
                if at > now {
                    break;
                }
                self.intervene(intervention, now).await?;
                next_event += 1;
            }
            self.approve_due(now).await?;
            self.engine.run_all_due(now).await?;
            let day = u32::try_from((now - start) / DAY).unwrap_or(self.config.days);
            progress(Progress {
                day,
                days: self.config.days,
                tasks: self.engine.stats().tasks,
            });
        }
        self.clock.set(end);
        self.finish(end).await
    }

    async fn intervene(&mut self, intervention: Intervention, now: Millis) -> EngineResult<()> {
        match intervention {
            Intervention::Dnc { day } => {
                for url in self.pick(day, &[3, 2, 1], true).await? {
                    if self.store.add_dnc(&self.team, &url).await.is_ok() {
                        self.outside.dnc.push((url, now));
                    }
                }
            }
            Intervention::PauseChats { day } => {
                let chats = self.pick(day + 2, &[3, 2, 4], false).await?;
                for chat in &chats {
                    self.store
                        .set_chat_paused(&self.team, chat, true, now)
                        .await?;
                    self.outside.chat_pauses.push((chat.clone(), now, None));
                }
                self.paused.insert(day, chats);
            }
            Intervention::TakeOver { day } => {
                let chats = self.pick(day + 4, &[4, 3], false).await?;
                for chat in &chats {
                    let text = format!("Hello, a colleague of your contact here (day {day}).");
                    match self
                        .store
                        .queue_person_message(&self.team, chat, &text, now)
                        .await
                    {
                        Ok(_) | Err(StoreError::ProspectOnDnc) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
                self.taken_over.insert(day, chats);
            }
            Intervention::HandBack { day } => {
                for chat in self.taken_over.remove(&day).unwrap_or_default() {
                    self.store
                        .set_chat_paused(&self.team, &chat, false, now)
                        .await?;
                }
                self.engine.plan(now).await?;
            }
            Intervention::ResumeChats { day } => {
                let chats = self.paused.remove(&day).unwrap_or_default();
                for chat in chats.iter().step_by(2) {
                    self.store
                        .set_chat_paused(&self.team, chat, false, now)
                        .await?;
                    if let Some(pause) = self
                        .outside
                        .chat_pauses
                        .iter_mut()
                        .find(|(paused, _, until)| paused == chat && until.is_none())
                    {
                        pause.2 = Some(now);
                    }
                }
                self.engine.plan(now).await?;
            }
            Intervention::PauseAgent => {
                if let Some(agent) = self.agents.get(1) {
                    self.store
                        .transition_agent(
                            &self.team,
                            agent,
                            AgentEvent::Pause,
                            AgentChange::Nothing,
                        )
                        .await?;
                    self.outside.agent_pauses.push((agent.clone(), now, None));
                }
            }
            Intervention::ResumeAgent => {
                if let Some(agent) = self.agents.get(1) {
                    self.store
                        .transition_agent(
                            &self.team,
                            agent,
                            AgentEvent::Resume,
                            AgentChange::Nothing,
                        )
                        .await?;
                    if let Some(pause) =
                        self.outside.agent_pauses.iter_mut().find(|p| p.0 == *agent)
                    {
                        pause.2 = Some(now);
                    }
                    self.engine.plan(now).await?;
                }
            }
        }
        Ok(())
    }

    /// One conversation (its prospect URL when `urls`, else its id) in each of the campaigns
    /// picked for `day`: the first one, in list order, with a status among `statuses`.
    async fn pick(&self, day: u32, statuses: &[i64], urls: bool) -> EngineResult<Vec<String>> {
        let mut picked = Vec::new();
        let offset = usize::try_from(day).unwrap_or(0) % INTERVENTION_SPREAD;
        for campaign in self
            .campaigns
            .iter()
            .skip(offset)
            .step_by(INTERVENTION_SPREAD)
        {
            for status in statuses {
                let filter = ChatFilter {
                    status: Some(*status),
                    paused: Some(false),
                    has_responded: None,
                };
                let chats = self
                    .store
                    .list_campaign_chats(
                        &self.team,
                        campaign,
                        &filter,
                        &ChatPage::Offset(0),
                        PICK_LIMIT,
                    )
                    .await?;
                if let Some(chat) = chats.into_iter().next() {
                    picked.push(if urls { chat.prospect.url } else { chat.id });
                    break;
                }
            }
        }
        Ok(picked)
    }

    /// The simulated reviewer: approves, as written, every pending draft written at least
    /// `auto_approve_after` ago, and notes when the next one is due.
    async fn approve_due(&mut self, now: Millis) -> EngineResult<()> {
        let Some(delay) = self.config.auto_approve_after else {
            return Ok(());
        };
        if self.config.review_mode == ReviewMode::Off {
            return Ok(());
        }
        let filter = DraftFilter {
            status: Some(DraftStatus::Pending),
            ..DraftFilter::default()
        };
        let mut next = None;
        let mut offset = 0;
        loop {
            let page = self
                .store
                .list_drafts(&self.team, &filter, &ChatPage::Offset(offset), REVIEW_PAGE)
                .await?;
            for draft in &page {
                let due = draft.created_at + delay;
                if due <= now {
                    match self
                        .store
                        .approve_draft(&self.team, &draft.id, None, now)
                        .await
                    {
                        Ok(_) => self.approved += 1,
                        // Superseded or expired meanwhile: nothing to approve.
                        Err(StoreError::DraftNotPending(_)) => {}
                        Err(error) => return Err(error.into()),
                    }
                } else {
                    next = Some(next.map_or(due, |n: Millis| n.min(due)));
                }
            }
            if i64::try_from(page.len()).unwrap_or(0) < REVIEW_PAGE {
                break;
            }
            offset += REVIEW_PAGE;
        }
        self.next_approval = next;
        Ok(())
    }

    async fn finish(self, end: Millis) -> EngineResult<Report> {
        let data = self.store.audit_data(&self.team).await?;
        let mut outside = self.outside;
        outside.deliveries = self.connector.repeated();
        let (mut funnel, violations) = audit(&data, &outside);
        for list in &self.imports {
            let import = self.store.get_import(&self.team, list).await?;
            funnel.skipped_dnc += u64::try_from(import.skipped_dnc).unwrap_or(0);
        }
        let campaigns = self
            .store
            .list_campaigns(
                &self.team,
                &outbound_store::campaigns::ListWindow::default(),
            )
            .await?;
        let completed = campaigns
            .iter()
            .filter(|c| c.status == outbound_core::conversation::CampaignStatus::Completed)
            .count();
        let stats = self.engine.stats();
        tracing::debug!(end, ?stats, "simulation finished");
        Ok(Report {
            funnel,
            violations,
            days: self.config.days,
            agents: self.config.agents,
            prospects: self.config.prospects,
            seed: self.config.seed,
            campaigns_completed: u64::try_from(completed).unwrap_or(0),
            engine_tasks: stats.tasks,
            connector_calls: stats.connector_calls,
            drafts_approved: self.approved,
        })
    }
}
