//! The outreach engine: agents really run their campaigns.
//!
//! Rules:
//! - all work is a durable task of the store ([`outbound_store::engine`]): per agent an
//!   invitation slot and a message slot (each spread over the working window), per conversation a
//!   check (acceptance, replies), an enrichment and a qualification, and the login steps.
//!   [`Engine::run_due`] claims the due tasks in `(due_at, id)` order and runs them as one batch;
//!   `outbound serve` and `outbound worker` call it in a loop ([`Engine::run`]), tests and
//!   `outbound simulate` call it with a simulated clock;
//! - every rule is checked where the action happens, on fresh state: the working window, the
//!   day's target and the weekly cap in the slot, DNC, pause and campaign status again in the
//!   transaction that records the send ([`EngineStore::begin_sends`]);
//! - a send is recorded `sending` and committed before the connector is called, and settled
//!   after it; a send whose outcome is unknown (a crash, a timeout) is reconciled through
//!   [`LinkedInConnector::find_sent`] once its lease ran out — never resent blindly;
//! - a batch's effects are settled in ONE transaction; connector and model errors end, retry
//!   or postpone the one task, store errors abort the batch (its claims run out and are taken
//!   again); a task claimed too often without finishing ends `failed`;
//! - randomness (targets, spacing, delays) comes from one RNG seeded by
//!   [`EngineConfig::seed`], drawn in task order: with a simulated clock the same seed gives
//!   the same run.
//!
//! [`EngineStore::begin_sends`]: outbound_store::engine::EngineStore::begin_sends

pub mod audit;
pub mod models;
pub mod rules;
pub mod simulation;
mod steps;
pub mod writing;

pub use models::ModelRegistry;

use outbound_core::secrets::SecretBox;
use outbound_core::time::Millis;
use outbound_linkedin::LinkedInConnector;
use outbound_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::webhooks::EngineResult;

/// Default number of tasks claimed per batch.
pub const DEFAULT_BATCH: usize = 200;
/// Default pause of [`Engine::run`] when nothing is due.
pub const DEFAULT_POLL: Duration = Duration::from_millis(500);
/// Longest pause of [`Engine::run`] after repeated store errors.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);
/// Unsettled sends reconciled per batch.
const RECONCILE_BATCH: i64 = 100;
/// Drafts expired per planning round (the rest wait for the next round).
const EXPIRE_BATCH: i64 = 500;

/// How the engine works. Durations in `Millis` are engine (possibly simulated) time; the two
/// leases are wall-clock time, since they guard against dead processes.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Seed of the engine's randomness.
    pub seed: u64,
    /// Tasks claimed per batch.
    pub batch: usize,
    /// Shortest time between two invitations, or two messages, of one agent.
    pub min_spacing: Millis,
    /// Delay between an acceptance and the first message.
    pub first_message_delay: (Millis, Millis),
    /// Delay between a prospect's message and the AI's answer.
    pub reply_delay: (Millis, Millis),
    /// Conversations a slot looks at per run.
    pub candidates: i64,
    /// How long a claimed task is reserved for this process.
    pub task_lease: Duration,
    /// How long an unsettled send is left to its process before it is reconciled.
    pub send_lease: Duration,
    /// Claims of a task (failed or interrupted) before it ends `failed`.
    pub max_attempts: i64,
    /// Engine time between two planning rounds (logins, new slots, local days, completions).
    pub plan_interval: Millis,
    /// How long a draft of a review-mode campaign waits for a person before it expires.
    pub draft_ttl: Millis,
    /// How long an invitation may stay unanswered before it is withdrawn.
    pub withdraw_after: Millis,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            batch: DEFAULT_BATCH,
            min_spacing: outbound_core::schedule::DEFAULT_MIN_SPACING.num_milliseconds(),
            first_message_delay: (20 * rules::MINUTE, 3 * rules::HOUR),
            reply_delay: (rules::MINUTE, 8 * rules::MINUTE),
            candidates: 5,
            task_lease: Duration::from_secs(5 * 60),
            send_lease: Duration::from_secs(10 * 60),
            max_attempts: 8,
            plan_interval: 30_000,
            draft_ttl: outbound_core::review::DEFAULT_DRAFT_TTL,
            withdraw_after: rules::INVITATION_PATIENCE,
        }
    }
}

/// What the engine did since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Tasks run.
    pub tasks: u64,
    pub invitations: u64,
    pub messages: u64,
    /// Prospect messages recorded.
    pub received: u64,
    /// Connector calls made.
    pub connector_calls: u64,
    /// Interrupted sends settled by reconciliation.
    pub reconciled: u64,
}

#[derive(Default)]
struct Counters {
    tasks: AtomicU64,
    invitations: AtomicU64,
    messages: AtomicU64,
    received: AtomicU64,
    connector_calls: AtomicU64,
    reconciled: AtomicU64,
}

/// What the planner keeps between rounds.
struct PlanState {
    next_plan_at: Millis,
    /// Campaigns that may have become complete.
    touched: BTreeSet<String>,
    /// Whether every active campaign was checked once (at start).
    checked_all: bool,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) connector: Arc<dyn LinkedInConnector>,
    pub(crate) models: ModelRegistry,
    pub(crate) secrets: Arc<SecretBox>,
    pub(crate) config: EngineConfig,
    rng: Mutex<StdRng>,
    plan: tokio::sync::Mutex<PlanState>,
    counters: Counters,
}

impl Inner {
    /// A uniform number in `[0, 1)` from the engine's RNG.
    pub(crate) fn unit(&self) -> f64 {
        match self.rng.lock() {
            Ok(mut rng) => rng.random::<f64>(),
            Err(poisoned) => poisoned.into_inner().random::<f64>(),
        }
    }

    pub(crate) fn count_call(&self) {
        self.counters
            .connector_calls
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// The outreach engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .field("models", &self.inner.models)
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        connector: Arc<dyn LinkedInConnector>,
        models: ModelRegistry,
        secrets: Arc<SecretBox>,
        config: EngineConfig,
    ) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        Self {
            inner: Arc::new(Inner {
                store,
                connector,
                models,
                secrets,
                config,
                rng: Mutex::new(rng),
                plan: tokio::sync::Mutex::new(PlanState {
                    next_plan_at: Millis::MIN,
                    touched: BTreeSet::new(),
                    checked_all: false,
                }),
                counters: Counters::default(),
            }),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> EngineStats {
        let c = &self.inner.counters;
        EngineStats {
            tasks: c.tasks.load(Ordering::Relaxed),
            invitations: c.invitations.load(Ordering::Relaxed),
            messages: c.messages.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            connector_calls: c.connector_calls.load(Ordering::Relaxed),
            reconciled: c.reconciled.load(Ordering::Relaxed),
        }
    }

    /// Plans (when due), reconciles interrupted sends, then claims and runs up to `limit` tasks
    /// due at `now`. Returns how many tasks ran.
    pub async fn run_due(&self, now: Millis, limit: usize) -> EngineResult<usize> {
        self.plan_if_due(now).await?;
        let inner = &self.inner;
        let wall = outbound_core::time::now_millis();
        let lease = wall.saturating_add(millis(inner.config.task_lease));
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let claimed = inner
            .store
            .claim_tasks(now, lease, limit, inner.config.max_attempts)
            .await?;
        let ran = claimed.tasks.len();
        if ran == 0 {
            return Ok(0);
        }
        let settled = steps::run_batch(inner, now, claimed).await?;
        inner
            .counters
            .tasks
            .fetch_add(ran as u64, Ordering::Relaxed);
        self.record(&settled).await;
        Ok(ran)
    }

    /// Runs what is due at `now`, batch after batch until a batch is not full (work that a
    /// batch makes due at once runs with the next call). Returns how many tasks ran.
    pub async fn run_all_due(&self, now: Millis) -> EngineResult<usize> {
        let batch = self.inner.config.batch.max(1);
        let mut total = 0;
        loop {
            let ran = self.run_due(now, batch).await?;
            total += ran;
            if ran < batch {
                return Ok(total);
            }
        }
    }

    /// The earliest due time of a task (for a simulation to jump to).
    pub async fn next_due(&self) -> EngineResult<Option<Millis>> {
        Ok(self.inner.store.next_task_due().await?)
    }

    async fn record(&self, settled: &outbound_store::engine::Settled) {
        let c = &self.inner.counters;
        c.invitations
            .fetch_add(settled.invitations, Ordering::Relaxed);
        c.messages.fetch_add(settled.messages, Ordering::Relaxed);
        c.received.fetch_add(settled.received, Ordering::Relaxed);
        if !settled.touched_campaigns.is_empty() {
            let mut plan = self.inner.plan.lock().await;
            plan.touched
                .extend(settled.touched_campaigns.iter().cloned());
        }
    }

    /// Runs a planning round, and reconciles interrupted sends, if one is due at `now`.
    async fn plan_if_due(&self, now: Millis) -> EngineResult<()> {
        let due = self.inner.plan.lock().await.next_plan_at <= now;
        if due {
            self.reconcile(now).await?;
            self.plan(now).await?;
        }
        Ok(())
    }

    /// A planning round: arms logins and slots (see `EngineStore::plan_engine`), starts the new
    /// local day of agents whose day ended, and completes the campaigns without work left.
    pub async fn plan(&self, now: Millis) -> EngineResult<()> {
        let inner = &self.inner;
        let mut plan = inner.plan.lock().await;
        let wall = outbound_core::time::now_millis();
        let planned = inner.store.plan_engine(now, wall).await?;
        if planned != outbound_store::engine::Planned::default() {
            tracing::debug!(?planned, "engine planned");
        }
        let expired = inner.store.expire_drafts(now, EXPIRE_BATCH).await?;
        if expired > 0 {
            tracing::debug!(expired, "drafts expired without a decision");
        }
        let agents = inner.store.agents_to_roll_over(now).await?;
        if !agents.is_empty() {
            let mut settlement = outbound_store::engine::Settlement::new(now);
            for agent in &agents {
                if let Some(op) = steps::rollover(inner, agent, now) {
                    settlement.agents.push(op);
                }
            }
            inner.store.settle(&settlement).await?;
        }
        let completed = if plan.checked_all {
            let touched: Vec<String> = std::mem::take(&mut plan.touched).into_iter().collect();
            if touched.is_empty() {
                Vec::new()
            } else {
                inner
                    .store
                    .complete_idle_campaigns(Some(&touched), now)
                    .await?
            }
        } else {
            plan.touched.clear();
            plan.checked_all = true;
            inner.store.complete_idle_campaigns(None, now).await?
        };
        for campaign in &completed {
            tracing::info!(campaign = %campaign, "campaign completed: no work left");
        }
        plan.next_plan_at = now.saturating_add(inner.config.plan_interval.max(1));
        Ok(())
    }

    /// Settles the sends left `sending` by a process that died (or timed out) once their lease
    /// ran out, by asking the connector whether they happened. Returns how many were settled.
    pub async fn reconcile(&self, now: Millis) -> EngineResult<usize> {
        let wall = outbound_core::time::now_millis();
        let pending = self
            .inner
            .store
            .unsettled_sends(wall, RECONCILE_BATCH)
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let settled = steps::reconcile(&self.inner, now, &pending).await?;
        self.inner
            .counters
            .reconciled
            .fetch_add(settled as u64, Ordering::Relaxed);
        Ok(settled)
    }

    /// Runs due work on `clock` until `shutdown` resolves: batch after batch while there is
    /// work, a pause of `poll` when there is none, a growing pause while the store fails.
    pub async fn run(
        self,
        clock: Arc<dyn Clock>,
        poll: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        tracing::info!(batch = self.inner.config.batch, "outreach engine started");
        tokio::pin!(shutdown);
        let mut failures: u32 = 0;
        loop {
            let pause = match self.run_due(clock.now(), self.inner.config.batch).await {
                Ok(0) => {
                    failures = 0;
                    Some(poll)
                }
                Ok(_) => {
                    failures = 0;
                    None
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let pause = poll
                        .saturating_mul(1 << failures.min(10))
                        .min(MAX_ERROR_BACKOFF);
                    tracing::warn!(%error, failures, "outreach batch failed");
                    Some(pause)
                }
            };
            let stop = match pause {
                None => tokio::select! {
                    biased;
                    () = &mut shutdown => true,
                    () = tokio::task::yield_now() => false,
                },
                Some(pause) => tokio::select! {
                    biased;
                    () = &mut shutdown => true,
                    () = tokio::time::sleep(pause) => false,
                },
            };
            if stop {
                break;
            }
        }
        tracing::info!("outreach engine stopped");
    }
}

/// A wall-clock duration in milliseconds.
fn millis(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}
