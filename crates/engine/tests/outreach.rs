//! The outreach engine on a simulated clock, on SQLite and (when `OUTBOUND_TEST_POSTGRES_URL`
//! is set) PostgreSQL: whole simulated campaigns audited for violations, and the rules one by
//! one — follow-ups cancelled by a reply, DNC added mid-campaign, pause and resume of agents,
//! campaigns and conversations, `invitationsOnly`, `skipInNetwork`, ongoing conversations,
//! logins with a verification code, completion, sending at most once across a crash, review
//! mode (drafts approved, edited, rejected, superseded, expired), a person's take-over, the
//! warm-up and caps over sixty days, the circuit breaker and withdrawn invitations.

pub mod common;

use async_trait::async_trait;
use common::TestDb;
use outbound_core::agent::{AgentEvent, AgentStatus};
use outbound_core::conversation::{CampaignStatus, Qualification, status};
use outbound_core::dnc::{normalize_linkedin_url, slug_of};
use outbound_core::plan::Plan;
use outbound_core::prompt::{FollowUp, PromptType, SectionsPatch};
use outbound_core::review::{Author, DraftKind, DraftStatus, ReviewMode};
use outbound_core::time::Millis;
use outbound_engine::clock::{Clock, SimulatedClock};
use outbound_engine::outreach::simulation::{DEFAULT_START, Report, Simulation, SimulationConfig};
use outbound_engine::outreach::{Engine, EngineConfig, ModelRegistry};
use outbound_linkedin::sandbox::{DelayRange, InterestMix};
use outbound_linkedin::{
    Account, ConnectorError, Incoming, InvitationState, LinkedInConnector, LoginOutcome, Profile,
    SandboxConfig, SandboxConnector, SearchHit, SendProbe, Sent, SentRef,
};
use outbound_store::Store;
use outbound_store::StoreError;
use outbound_store::agents::{AgentChange, AgentSettingsPatch, LimitsPatch, WorkingHoursPatch};
use outbound_store::campaigns::{CampaignPatch, NewCampaign};
use outbound_store::chats::{Added, ChatDetails, ChatPage, NewConversation, Role};
use outbound_store::drafts::{AfterRejection, Draft, DraftFilter};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// The clock moves at least this much per step.
const TICK: Millis = MINUTE;

fn config(days: u32, agents: u32, prospects: u32, seed: u64) -> SimulationConfig {
    SimulationConfig {
        days,
        agents,
        prospects,
        seed,
        ..SimulationConfig::default()
    }
}

async fn simulate(db: &TestDb, config: SimulationConfig) -> Report {
    let store = db.connect().await;
    let simulation = Simulation::prepare(store, config).await.expect("prepare");
    simulation.run(|_| {}).await.expect("run")
}

both_backends!(
    /// Thirty days of four agents: no rule broken, and every step of the funnel happened.
    async fn thirty_days_break_no_rule(db) {
        let report = simulate(&db, config(30, 4, 240, 11)).await;
        assert_eq!(report.violations.total(), 0, "{:?}", report.violations);
        let f = report.funnel;
        assert!(f.invitations_sent > f.invitations_accepted, "{f:?}");
        assert!(f.invitations_accepted > 0, "{f:?}");
        assert!(f.messages_sent > f.replies_received, "{f:?}");
        assert!(f.followups_sent > 0, "{f:?}");
        assert!(f.replies_received > f.qualified, "{f:?}");
        assert!(f.qualified > 0 && f.unqualified > 0, "{f:?}");
        assert!(f.skipped_dnc > 0, "{f:?}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_report() {
    let mut reports = Vec::new();
    for seed in [5, 5, 6] {
        let db = TestDb::new(common::Backend::Sqlite).await.expect("db");
        reports.push(simulate(&db, config(12, 3, 90, seed)).await);
    }
    assert_eq!(reports[0], reports[1]);
    assert_ne!(reports[0], reports[2], "another seed, another run");
}

/// The offline model reads every reply of the simulated network as the network meant it, so
/// that a sandbox campaign answers a postponement as one and qualifies the interested.
#[test]
fn the_offline_model_reads_the_sandbox_replies_as_meant() {
    use outbound_linkedin::sandbox::Intent as Meant;
    use outbound_llm::{Intent as Read, classify_intent};
    let pairs = [
        (Meant::Interested, Read::Interested),
        (Meant::Question, Read::Question),
        (Meant::NotNow, Read::NotNow),
        (Meant::NotInterested, Read::NotInterested),
        (Meant::OptOut, Read::OptOut),
    ];
    let mut misread = Vec::new();
    for (meant, expected) in pairs {
        for template in meant.templates() {
            let text = template.replace("{first}", "Ana");
            let read = classify_intent(&text);
            if read != expected {
                misread.push(format!("{text:?}: meant {meant:?}, read {read:?}"));
            }
        }
    }
    assert!(
        misread.is_empty(),
        "misread replies:\n{}",
        misread.join("\n")
    );
}

// ---- a small world, driven by hand ---------------------------------------------------------

/// A sandbox wrapper: scripted messages from prospects, a count of deliveries per send, and a
/// crash on demand right after (or right before) a message goes out.
#[derive(Clone)]
struct Wrapped {
    inner: SandboxConnector,
    scripted: Arc<Mutex<HashMap<String, Vec<Incoming>>>>,
    deliveries: Arc<Mutex<HashMap<String, u32>>>,
    crash_after_send: Arc<AtomicBool>,
    crash_before_send: Arc<AtomicBool>,
    /// Every invitation answers "rate limited" while set.
    rate_limit_invites: Arc<AtomicBool>,
    /// The URL of each withdrawn invitation.
    withdrawals: Arc<Mutex<Vec<String>>>,
}

impl Wrapped {
    fn new(config: SandboxConfig) -> Self {
        Self {
            inner: SandboxConnector::new(1, config).expect("sandbox"),
            scripted: Arc::default(),
            deliveries: Arc::default(),
            crash_after_send: Arc::default(),
            crash_before_send: Arc::default(),
            rate_limit_invites: Arc::default(),
            withdrawals: Arc::default(),
        }
    }

    fn script(&self, url: &str, text: &str, at: Millis) {
        let slug = slug_of(url).expect("slug");
        let mut scripted = self.scripted.lock().expect("lock");
        let list = scripted.entry(slug).or_default();
        list.push(Incoming {
            id: format!("scripted-{}", list.len()),
            text: text.to_owned(),
            at,
        });
    }

    fn deliveries(&self) -> HashMap<String, u32> {
        self.deliveries.lock().expect("lock").clone()
    }
}

#[async_trait]
impl LinkedInConnector for Wrapped {
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

    async fn profile(&self, account: &Account, url: &str) -> Result<Profile, ConnectorError> {
        self.inner.profile(account, url).await
    }

    async fn invite(
        &self,
        account: &Account,
        url: &str,
        note: Option<&str>,
        at: Millis,
    ) -> Result<Sent, ConnectorError> {
        if self.rate_limit_invites.load(Ordering::SeqCst) {
            return Err(ConnectorError::RateLimited {
                retry_after: Some(Duration::from_secs(60)),
            });
        }
        let sent = self.inner.invite(account, url, note, at).await?;
        *self
            .deliveries
            .lock()
            .expect("lock")
            .entry(format!("invite {url}"))
            .or_default() += 1;
        Ok(sent)
    }

    async fn invitation_state(
        &self,
        account: &Account,
        url: &str,
        invited_at: Millis,
        now: Millis,
    ) -> Result<InvitationState, ConnectorError> {
        self.inner
            .invitation_state(account, url, invited_at, now)
            .await
    }

    async fn withdraw_invitation(
        &self,
        account: &Account,
        url: &str,
        invitation_id: Option<&str>,
    ) -> Result<(), ConnectorError> {
        self.inner
            .withdraw_invitation(account, url, invitation_id)
            .await?;
        self.withdrawals.lock().expect("lock").push(url.to_owned());
        Ok(())
    }

    async fn send_message(
        &self,
        account: &Account,
        url: &str,
        text: &str,
        key: &str,
        at: Millis,
    ) -> Result<Sent, ConnectorError> {
        assert!(
            !self.crash_before_send.swap(false, Ordering::SeqCst),
            "simulated crash before the connector call"
        );
        let sent = self.inner.send_message(account, url, text, key, at).await?;
        *self
            .deliveries
            .lock()
            .expect("lock")
            .entry(format!("message {url}"))
            .or_default() += 1;
        assert!(
            !self.crash_after_send.swap(false, Ordering::SeqCst),
            "simulated crash after the connector call"
        );
        Ok(sent)
    }

    async fn replies(
        &self,
        account: &Account,
        url: &str,
        since: Millis,
        now: Millis,
        sent: &[SentRef],
    ) -> Result<Vec<Incoming>, ConnectorError> {
        let mut replies = self.inner.replies(account, url, since, now, sent).await?;
        let slug = slug_of(url).unwrap_or_default();
        if let Some(scripted) = self.scripted.lock().expect("lock").get(&slug) {
            replies.extend(
                scripted
                    .iter()
                    .filter(|m| m.at > since && m.at <= now)
                    .cloned(),
            );
        }
        replies.sort_by_key(|m| m.at);
        Ok(replies)
    }

    async fn find_sent(
        &self,
        account: &Account,
        url: &str,
        probe: SendProbe<'_>,
    ) -> Result<Option<Sent>, ConnectorError> {
        self.inner.find_sent(account, url, probe).await
    }

    async fn search_sales_navigator(
        &self,
        account: &Account,
        url: &str,
        count: u32,
    ) -> Result<Vec<SearchHit>, ConnectorError> {
        self.inner.search_sales_navigator(account, url, count).await
    }
}

/// A network where everyone is reachable, accepts within hours and never answers.
fn quiet_network() -> SandboxConfig {
    SandboxConfig {
        acceptance_rate: 1.0,
        acceptance_delay: DelayRange::new(Duration::from_secs(3600), Duration::from_secs(2 * 3600)),
        reply_rate: 0.0,
        conversation_reply_rate: 0.0,
        already_connected_rate: 0.0,
        unreachable_rate: 0.0,
        invites_disabled_rate: 0.0,
        ..SandboxConfig::default()
    }
}

/// Interested people answering the first message after `delay`.
fn answering_network(delay: Duration) -> SandboxConfig {
    SandboxConfig {
        reply_rate: 1.0,
        followup_reply_factor: 0.0,
        conversation_reply_rate: 0.0,
        reply_delay: DelayRange::new(delay, delay),
        interest: InterestMix {
            interested: 1.0,
            question: 0.0,
            not_now: 0.0,
            not_interested: 0.0,
            opt_out: 0.0,
        },
        ..quiet_network()
    }
}

fn prompt() -> SectionsPatch {
    SectionsPatch {
        context: Some("Sell {{offeringDescription}} to {{prospectDescription}}.".into()),
        first_message: Some("Hi {{prospectName}}, shall we talk about bookkeeping?".into()),
        follow_ups: Some(
            [3, 4, 5]
                .into_iter()
                .enumerate()
                .map(|(i, delay)| FollowUp {
                    prompt: format!("Follow-up {} for {{{{prospectName}}}}", i + 1),
                    delay,
                })
                .collect(),
        ),
        follow_up_enabled: Some(true),
        comment: None,
    }
}

/// Always working, high limits.
fn always_on(skip_in_network: bool, invitations_only: bool) -> AgentSettingsPatch {
    AgentSettingsPatch {
        working_hours: Some(WorkingHoursPatch {
            days: Some("1:1:1:1:1:1:1".into()),
            start: Some("00:00".into()),
            stop: Some("00:00".into()),
            timezone: Some(0),
            timezone_name: None,
        }),
        limits: Some(LimitsPatch {
            invitations_min: Some(90),
            invitations_max: Some(100),
            messages_min: Some(100),
            messages_max: Some(120),
        }),
        skip_in_network: Some(skip_in_network),
        invitations_only: Some(invitations_only),
        warmup: Some(false),
        weekly_invitation_cap: None,
        monthly_invitation_cap: None,
    }
}

struct World {
    store: Arc<dyn Store>,
    engine: Engine,
    clock: SimulatedClock,
    connector: Wrapped,
    team: String,
    agent: String,
    campaign: String,
    db: TestDb,
}

impl World {
    async fn new(
        db: TestDb,
        network: SandboxConfig,
        settings: AgentSettingsPatch,
        login: &str,
    ) -> World {
        let connector = Wrapped::new(network);
        World::with_connector(db, connector, settings, login).await
    }

    async fn with_connector(
        db: TestDb,
        connector: Wrapped,
        settings: AgentSettingsPatch,
        login: &str,
    ) -> World {
        let store = db.connect().await;
        let team = store
            .create_team("World", Plan::Unlimited)
            .await
            .expect("team")
            .id;
        let product = store
            .create_product(
                &team,
                "Ledger AI",
                "Ledger AI closes the books twice as fast.",
                None,
            )
            .await
            .expect("product");
        let prompt_id = store
            .create_prompt(&team, "Outreach", PromptType::Messages, "template")
            .await
            .expect("prompt")
            .id;
        store
            .update_prompt(&team, &prompt_id, prompt())
            .await
            .expect("sections");
        let agent = store.create_agent(&team, None).await.expect("agent").id;
        store
            .update_agent_settings(&team, &agent, settings)
            .await
            .expect("settings");
        let change = AgentChange::Credentials {
            login: login.to_owned(),
            country: "FR".into(),
            password_sealed: db.secrets.seal("secret-password"),
        };
        store
            .transition_agent(&team, &agent, AgentEvent::Setup, change)
            .await
            .expect("setup");
        let campaign = store
            .create_campaign(
                &team,
                &NewCampaign {
                    name: "World campaign".into(),
                    product_id: product.id,
                    prompt_id,
                    agent_id: agent.clone(),
                    qualification_automatic: 70,
                    qualification_verification: 50,
                    variables: BTreeMap::new(),
                    prevent_auto_start: false,
                    review_mode: outbound_core::review::ReviewMode::Off,
                },
                None,
            )
            .await
            .expect("campaign")
            .id;
        let engine = World::engine_for(&store, &db, &connector, EngineConfig::default());
        World {
            store,
            engine,
            clock: SimulatedClock::new(DEFAULT_START),
            connector,
            team,
            agent,
            campaign,
            db,
        }
    }

    fn engine_for(
        store: &Arc<dyn Store>,
        db: &TestDb,
        connector: &Wrapped,
        config: EngineConfig,
    ) -> Engine {
        Engine::new(
            Arc::clone(store),
            Arc::new(connector.clone()),
            ModelRegistry::offline(),
            Arc::clone(&db.secrets),
            EngineConfig {
                seed: 3,
                plan_interval: HOUR,
                ..config
            },
        )
    }

    /// Adds people `first..first+n` to the campaign; returns `(chat, url)`.
    async fn add(&self, first: usize, n: usize, ongoing: bool) -> Vec<(String, String)> {
        let mut added = Vec::new();
        for i in first..first + n {
            let url =
                normalize_linkedin_url(&format!("linkedin.com/in/world-person-{i}")).expect("url");
            let person = NewConversation {
                name: format!("Person {i}"),
                url: url.clone(),
                slug: slug_of(&url).expect("slug"),
                custom_data: String::new(),
                ongoing,
                list_id: None,
            };
            let chat = match self
                .store
                .add_to_campaign(&self.team, &self.campaign, person, self.clock.now())
                .await
                .expect("add")
            {
                Added::Created { chat_id, .. } | Added::Existing { chat_id, .. } => chat_id,
            };
            added.push((chat, url));
        }
        added
    }

    /// Runs the engine until `until`, jumping from one due task to the next.
    async fn run_until(&self, until: Millis) {
        self.engine.plan(self.clock.now()).await.expect("plan");
        loop {
            let next = self.engine.next_due().await.expect("next due");
            let Some(next) = next else { break };
            let at = next.max(self.clock.now()) + TICK;
            if at > until {
                break;
            }
            self.clock.set(at);
            self.engine.run_all_due(at).await.expect("run");
        }
        self.clock.set(until);
        self.engine.run_all_due(until).await.expect("run");
    }

    async fn run_for(&self, duration: Millis) {
        self.run_until(self.clock.now() + duration).await;
    }

    async fn chat(&self, id: &str) -> ChatDetails {
        self.store.get_chat(&self.team, id).await.expect("chat")
    }

    async fn sent(&self, id: &str) -> Vec<(String, Millis)> {
        self.chat(id)
            .await
            .messages
            .into_iter()
            .filter(|m| m.role == Role::Assistant)
            .map(|m| (m.content, m.created_at))
            .collect()
    }

    async fn invitations(&self) -> usize {
        let data = self.store.audit_data(&self.team).await.expect("audit");
        data.actions.iter().filter(|a| a.2 == "invitation").count()
    }
}

both_backends!(
    /// A reply cancels the follow-ups still planned; the AI answers and qualifies instead.
    async fn a_reply_cancels_the_follow_ups(db) {
        // The prospect answers the first message four days later: after follow-up 1 (day 3).
        let world = World::new(db, answering_network(Duration::from_secs(4 * 24 * 3600)), always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 1, false).await;
        let (chat, _) = &chats[0];
        world.run_for(20 * DAY).await;
        let details = world.chat(chat).await;
        let first_reply = details
            .messages
            .iter()
            .find(|m| m.role == Role::User)
            .expect("the prospect answered")
            .created_at;
        let followups: Vec<Millis> = world
            .sent(chat)
            .await
            .into_iter()
            .filter(|(text, _)| text.starts_with("Follow-up"))
            .map(|(_, at)| at)
            .collect();
        assert_eq!(followups.len(), 1, "only the follow-up before the reply: {:?}", details.messages);
        assert!(followups.iter().all(|at| *at < first_reply));
        let answers = world.sent(chat).await.into_iter().filter(|(_, at)| *at > first_reply).count();
        assert_eq!(answers, 1, "the AI answered once");
        assert_ne!(details.summary.qualification, Qualification::InProgress, "judged after the answer");
    }
);

both_backends!(
    /// Adding a URL to the DNC list stops its conversation at once; the others go on.
    async fn dnc_added_mid_campaign_stops_contact(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 3, false).await;
        world.run_for(DAY).await;
        for (chat, _) in &chats {
            assert_eq!(world.sent(chat).await.len(), 1, "first messages sent");
        }
        let (stopped, url) = &chats[0];
        world.store.add_dnc(&world.team, url).await.expect("dnc");
        assert_eq!(world.chat(stopped).await.summary.status, status::SKIPPED, "stopped at once");
        world.run_for(15 * DAY).await;
        assert_eq!(world.sent(stopped).await.len(), 1, "nothing more to the DNC'd person");
        for (chat, _) in &chats[1..] {
            assert_eq!(world.sent(chat).await.len(), 4, "the others got their three follow-ups");
        }
        let campaign = world.store.get_campaign(&world.team, &world.campaign).await.expect("campaign");
        assert_eq!(campaign.counters.closed, 1);
    }
);

both_backends!(
    /// Paused agents, campaigns and conversations do nothing; resumed, they go on.
    async fn pause_and_resume_agent_campaign_and_chat(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        world.add(0, 2, false).await;
        world.run_for(HOUR).await;
        assert_eq!(world.invitations().await, 2);

        // Agent.
        world
            .store
            .transition_agent(&world.team, &world.agent, AgentEvent::Pause, AgentChange::Nothing)
            .await
            .expect("pause");
        world.add(2, 2, false).await;
        world.run_for(2 * DAY).await;
        assert_eq!(world.invitations().await, 2, "a paused agent does nothing");
        let agent = world.store.get_agent(&world.team, &world.agent).await.expect("agent");
        assert_eq!(agent.usage.next_invitation, None, "nothing planned while paused");
        world
            .store
            .transition_agent(&world.team, &world.agent, AgentEvent::Resume, AgentChange::Nothing)
            .await
            .expect("resume");
        world.run_for(HOUR).await;
        assert_eq!(world.invitations().await, 4, "resumed, it continues");

        // Campaign.
        world.store.pause_campaign(&world.team, &world.campaign).await.expect("pause campaign");
        let more = world.add(4, 1, false).await;
        world.run_for(DAY).await;
        assert_eq!(world.invitations().await, 4, "a paused campaign does nothing");
        world.store.resume_campaign(&world.team, &world.campaign).await.expect("resume campaign");
        world.run_for(HOUR).await;
        assert_eq!(world.invitations().await, 5);

        // Conversation: paused before its first message.
        let (chat, _) = &more[0];
        world.store.set_chat_paused(&world.team, chat, true, world.clock.now()).await.expect("pause chat");
        world.run_for(2 * DAY).await;
        assert!(world.sent(chat).await.is_empty(), "a paused conversation gets no AI message");
        world.store.set_chat_paused(&world.team, chat, false, world.clock.now()).await.expect("resume chat");
        world.run_for(2 * HOUR).await;
        assert_eq!(world.sent(chat).await.len(), 1, "resumed, its first message goes");
    }
);

both_backends!(
    /// `invitationsOnly`: invitations and acceptances, never a message.
    async fn invitations_only_sends_no_message(db) {
        let world = World::new(db, quiet_network(), always_on(false, true), "sam@example.com").await;
        let chats = world.add(0, 3, false).await;
        world.run_for(5 * DAY).await;
        assert_eq!(world.invitations().await, 3);
        for (chat, _) in &chats {
            let details = world.chat(chat).await;
            assert_eq!(details.summary.status, status::INVITATION_ACCEPTED);
            assert!(details.messages.is_empty());
            assert!(details.summary.prospect.headline.is_some(), "enriched");
        }
    }
);

both_backends!(
    /// People already in the network: skipped under `skipInNetwork`, messaged without an
    /// invitation otherwise.
    async fn already_connected_people_skip_the_invitation(db) {
        let network = SandboxConfig { already_connected_rate: 1.0, ..quiet_network() };
        let skipping = World::new(db, network.clone(), always_on(true, false), "sam@example.com").await;
        let chats = skipping.add(0, 2, false).await;
        skipping.run_for(DAY).await;
        assert_eq!(skipping.invitations().await, 0);
        for (chat, _) in &chats {
            let details = skipping.chat(chat).await;
            assert_eq!(details.summary.status, status::SKIPPED);
            assert!(details.messages.is_empty());
        }
        let other = TestDb::new(skipping.db.backend).await.expect("db");
        let messaging = World::new(other, network, always_on(false, false), "sam@example.com").await;
        let chats = messaging.add(0, 2, false).await;
        messaging.run_for(DAY).await;
        assert_eq!(messaging.invitations().await, 0);
        for (chat, _) in &chats {
            let details = messaging.chat(chat).await;
            assert_eq!(details.summary.status, status::CONTACTED);
            assert_eq!(messaging.sent(chat).await.len(), 1);
        }
    }
);

both_backends!(
    /// An ongoing conversation: no invitation, no first message; its replies are answered.
    async fn ongoing_conversations_are_answered_not_started(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 1, true).await;
        let (chat, url) = &chats[0];
        world.run_for(DAY).await;
        assert_eq!(world.invitations().await, 0);
        assert!(world.sent(chat).await.is_empty(), "no first message");
        assert_eq!(world.chat(chat).await.summary.status, status::CONTACTED);
        world.connector.script(url, "Sounds interesting, tell me more", world.clock.now() + HOUR);
        world.run_for(2 * DAY).await;
        let details = world.chat(chat).await;
        assert_eq!(details.messages.len(), 2, "{:?}", details.messages);
        assert_eq!(details.messages[0].role, Role::User);
        assert_eq!(details.messages[1].role, Role::Assistant);
        let gap = details.messages[1].created_at - details.messages[0].created_at;
        assert!(gap >= MINUTE, "the AI does not answer at once ({gap} ms)");
        assert_eq!(details.summary.status, status::QUALIFIED);
    }
);

both_backends!(
    /// A login with two-factor authentication waits for the code; a wrong code keeps it
    /// waiting, the right one runs the agent.
    async fn a_verification_code_completes_the_login(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam+2fa@example.com").await;
        world.add(0, 1, false).await;
        world.run_for(HOUR).await;
        let agent = world.store.get_agent(&world.team, &world.agent).await.expect("agent");
        assert_eq!(agent.status, AgentStatus::AuthNeeded);
        assert_eq!(agent.alerts[0].sub_type, "2fa_required");
        assert_eq!(world.invitations().await, 0);

        let now = world.clock.now();
        let wrong = world.db.secrets.seal("12ab");
        world.store.queue_verification_code(&world.team, &world.agent, &wrong, now).await.expect("queue");
        world.run_for(HOUR).await;
        let agent = world.store.get_agent(&world.team, &world.agent).await.expect("agent");
        assert_eq!(agent.status, AgentStatus::AuthNeeded);
        assert!(agent.alerts[0].message.contains("refused"), "{:?}", agent.alerts);

        let right = world.db.secrets.seal("123456");
        let now = world.clock.now();
        world.store.queue_verification_code(&world.team, &world.agent, &right, now).await.expect("queue");
        world.run_for(HOUR).await;
        let agent = world.store.get_agent(&world.team, &world.agent).await.expect("agent");
        assert_eq!(agent.status, AgentStatus::Running);
        assert!(agent.alerts.is_empty());
        assert_eq!(world.invitations().await, 1);
        assert_eq!(agent.usage.invitations_today, 1);
        assert!((90..=100).contains(&agent.usage.invitations_target));
        assert!(
            world.store.queue_verification_code(&world.team, &world.agent, &right, now).await.is_err(),
            "a running agent waits for no code"
        );
    }
);

both_backends!(
    /// A campaign whose conversations all ended is completed.
    async fn a_campaign_without_work_is_completed(db) {
        let network = SandboxConfig { unreachable_rate: 1.0, ..quiet_network() };
        let world = World::new(db, network, always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 2, false).await;
        world.run_for(2 * HOUR).await;
        for (chat, _) in &chats {
            assert_eq!(world.chat(chat).await.summary.status, status::UNREACHABLE);
        }
        let campaign = world.store.get_campaign(&world.team, &world.campaign).await.expect("campaign");
        assert_eq!(campaign.status, CampaignStatus::Completed);
    }
);

both_backends!(
    /// A crash between the connector call and the commit: a new engine reconciles the send
    /// through the connector, and the prospect has received the message exactly once.
    async fn a_message_is_sent_at_most_once_across_a_crash(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 1, false).await;
        let (chat, url) = &chats[0];
        // Invited, accepted (checked after two hours), enriched: the first message is due
        // 20 minutes to 3 hours later.
        world.run_for(2 * HOUR + 10 * MINUTE).await;
        let due = world.chat(chat).await;
        assert!(world.sent(chat).await.is_empty(), "{:?}", due.messages);

        // A fresh process with zero leases crashes right after LinkedIn took the message.
        let fast = EngineConfig { task_lease: Duration::ZERO, send_lease: Duration::ZERO, ..EngineConfig::default() };
        let dying = World::engine_for(&world.store, &world.db, &world.connector, fast.clone());
        world.connector.crash_after_send.store(true, Ordering::SeqCst);
        let mut at = world.clock.now();
        while world.connector.crash_after_send.load(Ordering::SeqCst) {
            at += 10 * MINUTE;
            world.clock.set(at);
            let engine = dying.clone();
            let ran = tokio::spawn(async move { engine.run_all_due(at).await }).await;
            if ran.is_err() {
                break;
            }
        }
        assert_eq!(world.connector.deliveries().get(&format!("message {url}")), Some(&1));
        assert!(world.sent(chat).await.is_empty(), "not recorded: the process died first");

        // A new engine on the same database reconciles instead of sending again.
        let fresh = World::engine_for(&world.store, &world.db, &world.connector, fast);
        fresh.run_all_due(at + MINUTE).await.expect("run");
        assert_eq!(fresh.stats().reconciled, 1);
        let sent = world.sent(chat).await;
        assert_eq!(sent.len(), 1, "recorded once: {sent:?}");
        assert_eq!(world.connector.deliveries().get(&format!("message {url}")), Some(&1));
        // Follow-ups go on as planned, one delivery each.
        let world = World { engine: fresh, ..world };
        world.run_for(4 * DAY).await;
        assert_eq!(world.sent(chat).await.len(), 2);
        assert_eq!(world.connector.deliveries().get(&format!("message {url}")), Some(&2));
    }
);

both_backends!(
    /// A crash after the send was recorded but before the connector was called: reconciliation
    /// finds nothing, and the message is sent later, once.
    async fn a_send_that_never_happened_is_made_later(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 1, false).await;
        let (chat, url) = &chats[0];
        world.run_for(2 * HOUR + 10 * MINUTE).await;
        assert!(world.sent(chat).await.is_empty());
        let fast = EngineConfig { task_lease: Duration::ZERO, send_lease: Duration::ZERO, ..EngineConfig::default() };
        let dying = World::engine_for(&world.store, &world.db, &world.connector, fast.clone());
        world.connector.crash_before_send.store(true, Ordering::SeqCst);
        let mut at = world.clock.now();
        while world.connector.crash_before_send.load(Ordering::SeqCst) {
            at += 10 * MINUTE;
            world.clock.set(at);
            crash_or_not(dying.clone(), at).await;
        }
        assert_eq!(world.connector.deliveries().get(&format!("message {url}")), None);
        let fresh = World::engine_for(&world.store, &world.db, &world.connector, fast);
        let world = World { engine: fresh, ..world };
        world.run_for(2 * HOUR).await;
        assert_eq!(world.sent(chat).await.len(), 1);
        assert_eq!(world.connector.deliveries().get(&format!("message {url}")), Some(&1));
        let audit = world.store.audit_data(&world.team).await.expect("audit");
        assert!(audit.sends.iter().any(|s| s.4 == "failed"), "the interrupted send was settled as failed");
    }
);

/// Runs `engine` at `at` on its own task; a panic (the simulated crash) is fine.
async fn crash_or_not(engine: Engine, at: Millis) {
    let _ = tokio::spawn(async move { engine.run_all_due(at).await }).await;
}

// ---- review mode and take-over ------------------------------------------------------------

impl World {
    async fn set_review_mode(&self, mode: ReviewMode) {
        let patch = CampaignPatch {
            review_mode: Some(mode),
            ..CampaignPatch::default()
        };
        self.store
            .update_campaign(&self.team, &self.campaign, &patch)
            .await
            .expect("review mode");
    }

    async fn drafts(&self, status: Option<DraftStatus>) -> Vec<Draft> {
        let filter = DraftFilter {
            status,
            ..DraftFilter::default()
        };
        self.store
            .list_drafts(&self.team, &filter, &ChatPage::Offset(0), 100)
            .await
            .expect("drafts")
    }

    async fn draft_of(&self, chat: &str, status: DraftStatus) -> Draft {
        let drafts = self.drafts(Some(status)).await;
        drafts
            .into_iter()
            .find(|d| d.chat_id == chat)
            .unwrap_or_else(|| panic!("no {status:?} draft for {chat}"))
    }

    async fn events(&self, event: &str) -> i64 {
        let data = self.store.audit_data(&self.team).await.expect("audit");
        data.events
            .iter()
            .find(|(name, _)| name == event)
            .map_or(0, |(_, n)| *n)
    }
}

both_backends!(
    /// `first_message`: nothing goes out before a person approves; the edited text is what is
    /// sent, once; a rejection pauses; a second decision is refused; follow-ups are not held.
    async fn review_mode_first_message_waits_for_a_person(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        world.set_review_mode(ReviewMode::FirstMessage).await;
        let chats = world.add(0, 2, false).await;
        let ((edited, edited_url), (rejected, _)) = (&chats[0], &chats[1]);
        world.run_for(DAY).await;
        for (chat, _) in &chats {
            assert!(world.sent(chat).await.is_empty(), "nothing sent before approval");
        }
        let pending = world.drafts(Some(DraftStatus::Pending)).await;
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(pending.iter().all(|d| d.kind == DraftKind::FirstMessage));
        assert!(pending.iter().all(|d| d.model.as_deref() == Some("template")));
        assert_eq!(world.events("draft.created").await, 2);
        world.run_for(DAY).await;
        assert_eq!(world.drafts(Some(DraftStatus::Pending)).await.len(), 2, "written once");

        let now = world.clock.now();
        let first = world.draft_of(edited, DraftStatus::Pending).await;
        let approved = world
            .store
            .approve_draft(&world.team, &first.id, Some("Hi, a word from a real person."), now)
            .await
            .expect("approve");
        assert_eq!(approved.status, DraftStatus::Approved);
        assert_eq!(approved.text, first.text, "the AI's text is kept beside the edit");
        let second = world.draft_of(rejected, DraftStatus::Pending).await;
        world
            .store
            .reject_draft(&world.team, &second.id, Some("Too pushy"), AfterRejection::Pause, now)
            .await
            .expect("reject");
        let again = world.store.approve_draft(&world.team, &first.id, None, now).await;
        assert!(matches!(again, Err(StoreError::DraftNotPending(DraftStatus::Approved))), "{again:?}");
        let other = world.store.approve_draft(&world.team, &second.id, None, now).await;
        assert!(matches!(other, Err(StoreError::DraftNotPending(DraftStatus::Rejected))), "{other:?}");

        world.run_for(HOUR).await;
        let sent = world.sent(edited).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].0, "Hi, a word from a real person.");
        let details = world.chat(edited).await;
        let message = details.messages.iter().find(|m| m.role == Role::Assistant).expect("sent");
        assert_eq!(message.author, Author::Ai);
        assert_eq!(message.model.as_deref(), Some("template"));
        assert_eq!(world.store.get_draft(&world.team, &first.id).await.expect("draft").status, DraftStatus::Sent);
        assert!(world.sent(rejected).await.is_empty(), "a rejected draft is never sent");
        assert!(world.chat(rejected).await.summary.paused, "a rejection pauses the conversation");

        // Follow-ups are the AI's own under `first_message` (day 3 after the first message).
        world.run_for(4 * DAY).await;
        assert_eq!(world.sent(edited).await.len(), 2, "the follow-up was not held");
        assert_eq!(world.drafts(Some(DraftStatus::Pending)).await.len(), 0);
        let delivered = world.connector.deliveries().get(&format!("message {edited_url}")).copied();
        assert_eq!(delivered, Some(2), "each message delivered once");
    }
);

both_backends!(
    /// `all`: a regenerated draft replaces a rejected one; a pause or a reply supersedes a
    /// draft (never sent); a draft nobody decides expires after 72 hours, never sent.
    async fn review_mode_all_regenerates_supersedes_and_expires(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        world.set_review_mode(ReviewMode::All).await;
        let chats = world.add(0, 4, false).await;
        let ids: Vec<&String> = chats.iter().map(|(c, _)| c).collect();
        let (regenerated, paused, expiring, answered) = (ids[0], ids[1], ids[2], ids[3]);
        world.run_for(DAY).await;
        assert_eq!(world.drafts(Some(DraftStatus::Pending)).await.len(), 4);
        let now = world.clock.now();

        let rejected = world.draft_of(regenerated, DraftStatus::Pending).await;
        world
            .store
            .reject_draft(&world.team, &rejected.id, None, AfterRejection::Regenerate, now)
            .await
            .expect("reject");
        let held = world.draft_of(paused, DraftStatus::Pending).await;
        world.store.approve_draft(&world.team, &held.id, None, now).await.expect("approve");
        world.store.set_chat_paused(&world.team, paused, true, now).await.expect("pause");
        let first = world.draft_of(answered, DraftStatus::Pending).await;
        world.store.approve_draft(&world.team, &first.id, None, now).await.expect("approve");
        world.run_for(HOUR).await;

        let fresh = world.draft_of(regenerated, DraftStatus::Pending).await;
        assert_ne!(fresh.id, rejected.id, "a new draft was written");
        assert!(world.sent(regenerated).await.is_empty());
        assert_eq!(
            world.store.get_draft(&world.team, &held.id).await.expect("draft").status,
            DraftStatus::Superseded,
            "a pause supersedes even an approved draft"
        );
        assert!(world.sent(paused).await.is_empty(), "a superseded draft is never sent");
        assert_eq!(world.sent(answered).await.len(), 1, "the approved first message went");

        // The follow-up of `answered` waits; the prospect answers before anyone decides.
        world.run_for(3 * DAY + HOUR).await;
        let followup = world.draft_of(answered, DraftStatus::Pending).await;
        assert_eq!(followup.kind, DraftKind::FollowUp);
        let (_, url) = &chats[3];
        world.connector.script(url, "Interesting, tell me more", world.clock.now() + MINUTE);
        world.run_for(DAY).await;
        assert_eq!(
            world.store.get_draft(&world.team, &followup.id).await.expect("draft").status,
            DraftStatus::Superseded,
            "a reply supersedes the follow-up"
        );
        let reply = world.draft_of(answered, DraftStatus::Pending).await;
        assert_eq!(reply.kind, DraftKind::Reply, "the answer waits for a person too");
        assert_eq!(world.sent(answered).await.len(), 1, "nothing sent without approval");

        // Nobody decided on `expiring` within 72 hours.
        let expired = world.draft_of(expiring, DraftStatus::Expired).await;
        assert!(expired.expires_at <= world.clock.now());
        assert!(world.sent(expiring).await.is_empty());
        assert!(world.events("draft.expired").await >= 1);
        let late = world.store.approve_draft(&world.team, &expired.id, None, world.clock.now()).await;
        assert!(matches!(late, Err(StoreError::DraftNotPending(DraftStatus::Expired))), "{late:?}");
    }
);

both_backends!(
    /// A person's message goes out through the agent, once, as a person's; the AI stays paused
    /// on the conversation; nobody on the DNC list gets one.
    async fn a_person_takes_over_a_conversation(db) {
        let world = World::new(db, quiet_network(), always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 2, false).await;
        let ((chat, url), (other, other_url)) = (&chats[0], &chats[1]);
        world.run_for(DAY).await;
        assert_eq!(world.sent(chat).await.len(), 1, "the AI's first message");
        let id = world
            .store
            .queue_person_message(&world.team, chat, "Ana here, the founder: coffee next week?", world.clock.now())
            .await
            .expect("take over");
        assert!(world.chat(chat).await.summary.paused, "the AI pauses at once");
        world.run_for(HOUR).await;
        let details = world.chat(chat).await;
        let by_person: Vec<_> = details.messages.iter().filter(|m| m.author == Author::Person).collect();
        assert_eq!(by_person.len(), 1, "{:?}", details.messages);
        assert_eq!(by_person[0].content, "Ana here, the founder: coffee next week?");
        assert_eq!(by_person[0].model, None);
        world.run_for(6 * DAY).await;
        assert_eq!(world.sent(chat).await.len(), 2, "no AI follow-up after the take-over");
        let delivered = world.connector.deliveries().get(&format!("message {url}")).copied();
        assert_eq!(delivered, Some(2), "each message delivered once");
        assert!(!id.is_empty());

        world.store.add_dnc(&world.team, other_url).await.expect("dnc");
        let refused = world.store.queue_person_message(&world.team, other, "Hello", world.clock.now()).await;
        assert!(matches!(refused, Err(StoreError::ProspectOnDnc)), "{refused:?}");
        let foreign = world.store.queue_person_message("another-team", chat, "Hello", world.clock.now()).await;
        assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    }
);

// ---- warm-up and caps ----------------------------------------------------------------------

both_backends!(
    /// Sixty days of a new agent with warm-up on: 15–20 invitations a day for days 1–3, 25–30
    /// for days 4–7, then never above 40; never more than its monthly cap in any 30 days; the
    /// auditor agrees.
    async fn warmup_ramps_and_the_monthly_cap_holds_over_sixty_days(db) {
        let mut settings = always_on(false, true);
        settings.warmup = Some(true);
        settings.monthly_invitation_cap = Some(500);
        settings.weekly_invitation_cap = Some(700);
        let world = World::new(db, quiet_network(), settings, "sam@example.com").await;
        world.add(0, 1100, false).await;
        world.run_for(60 * DAY).await;
        let data = world.store.audit_data(&world.team).await.expect("audit");
        let mut per_day: BTreeMap<i64, i64> = BTreeMap::new();
        let mut times = Vec::new();
        for (_, _, kind, at) in &data.actions {
            if kind == "invitation" {
                *per_day.entry((at - outbound_engine::outreach::simulation::DEFAULT_START) / DAY).or_default() += 1;
                times.push(*at);
            }
        }
        for (day, sent) in &per_day {
            let most = match day + 1 {
                1..=3 => 20,
                4..=7 => 30,
                _ => 40,
            };
            assert!(*sent <= most, "day {}: {sent} invitations (at most {most})", day + 1);
        }
        assert!(per_day.get(&0).is_some_and(|n| *n >= 15), "{per_day:?}");
        assert!(per_day.values().any(|n| *n > 30), "the ramp ends: {per_day:?}");
        times.sort_unstable();
        for (i, at) in times.iter().enumerate() {
            let window = times[..=i].iter().filter(|t| **t > at - 30 * DAY).count();
            assert!(window <= 500, "{window} invitations in the 30 days before {at}");
        }
        assert!(times.len() > 500, "the cap is rolling, not a stop: {}", times.len());
        let agent = world.store.get_agent(&world.team, &world.agent).await.expect("agent");
        assert_eq!(agent.usage.monthly_invitation_cap, 500);
        assert!(agent.usage.warmup_day.is_some_and(|d| d >= 60), "{:?}", agent.usage.warmup_day);
        let (_, violations) = outbound_engine::outreach::audit::audit(&data, &Default::default());
        assert_eq!(violations.total(), 0, "{violations:?}");
    }
);

// ---- the circuit breaker and withdrawals -----------------------------------------------------

impl World {
    async fn agent_details(&self) -> outbound_store::agents::Agent {
        self.store
            .get_agent(&self.team, &self.agent)
            .await
            .expect("agent")
    }
}

both_backends!(
    /// A LinkedIn restriction stops the agent at once with a safety alert and `agent.stopped`;
    /// nothing more goes out until a person resumes it, and the resume clears the alert.
    async fn the_breaker_stops_an_agent_on_a_restriction(db) {
        let network = SandboxConfig {
            restrict_above_daily_invitations: Some(5),
            ..quiet_network()
        };
        let world = World::new(db, network, always_on(false, true), "sam@example.com").await;
        world.add(0, 20, false).await;
        world.run_for(DAY).await;
        assert_eq!(world.invitations().await, 5, "the sixth invitation met the restriction");
        let agent = world.agent_details().await;
        assert_eq!(agent.status, AgentStatus::Paused);
        let alert = agent.alerts.iter().find(|a| a.kind == "safety").expect("a safety alert");
        assert_eq!(alert.sub_type, "restricted");
        assert_eq!(world.events("agent.stopped").await, 1);
        world.run_for(3 * DAY).await;
        assert_eq!(world.invitations().await, 5, "a stopped agent does nothing");
        let resumed = world
            .store
            .transition_agent(&world.team, &world.agent, AgentEvent::Resume, AgentChange::Nothing)
            .await
            .expect("a person resumes it");
        assert_eq!(resumed.status, AgentStatus::Running);
        assert!(resumed.alerts.iter().all(|a| a.kind != "safety"), "{:?}", resumed.alerts);
    }
);

both_backends!(
    /// Rate limits in a row trip the breaker too; a sent invitation resets the streak.
    async fn repeated_rate_limits_stop_an_agent(db) {
        let world = World::new(db, quiet_network(), always_on(false, true), "sam@example.com").await;
        world.add(0, 40, false).await;
        world.run_for(HOUR).await;
        let before = world.invitations().await;
        assert!(before > 0);
        world.connector.rate_limit_invites.store(true, Ordering::SeqCst);
        world.run_for(2 * DAY).await;
        let agent = world.agent_details().await;
        assert_eq!(agent.status, AgentStatus::Paused, "{:?}", agent.alerts);
        let alert = agent.alerts.iter().find(|a| a.kind == "safety").expect("a safety alert");
        assert_eq!(alert.sub_type, "rate_limited");
        assert_eq!(world.invitations().await, before, "nothing went out meanwhile");
    }
);

both_backends!(
    /// An invitation nobody answers for 21 days is withdrawn, once, and the conversation
    /// plans nothing more.
    async fn unanswered_invitations_are_withdrawn_after_three_weeks(db) {
        let network = SandboxConfig {
            acceptance_rate: 0.0,
            ..quiet_network()
        };
        let world = World::new(db, network, always_on(false, false), "sam@example.com").await;
        let chats = world.add(0, 2, false).await;
        world.run_for(20 * DAY).await;
        assert_eq!(world.invitations().await, 2);
        assert!(world.connector.withdrawals.lock().expect("lock").is_empty(), "not before 21 days");
        world.run_for(3 * DAY).await;
        let mut withdrawn = world.connector.withdrawals.lock().expect("lock").clone();
        withdrawn.sort();
        let mut urls: Vec<String> = chats.iter().map(|(_, url)| url.clone()).collect();
        urls.sort();
        assert_eq!(withdrawn, urls);
        world.run_for(30 * DAY).await;
        assert_eq!(world.connector.withdrawals.lock().expect("lock").len(), 2, "once each");
    }
);
