//! The webhook dispatcher: from the event outbox to signed HTTP deliveries.
//!
//! Rules:
//! - events are fanned out by the store (one delivery per active subscribed webhook, exact body
//!   bytes stored); the dispatcher only asks for it, in batches, until none is left;
//! - a delivery is *leased* before it is sent ([`WebhookConfig::lease`]); a process that dies
//!   mid-attempt leaves the lease to run out, and any dispatcher (this one after a restart, or
//!   another process on the same database) sends it again: delivery is at-least-once, and
//!   receivers dedupe on `webhook-id`;
//! - at most [`WebhookConfig::concurrency`] attempts run at once, and a delivery is claimed only
//!   when a slot is free to send it, so a lease cannot run out while it waits in a queue;
//! - an attempt's outcome (see [`deliver`]) is recorded by the store, which keeps the webhook's
//!   counters and disables it on 410 Gone or after [`WebhookConfig::disable_after`] consecutive
//!   events that exhausted their retries;
//! - errors of the store are logged and retried with a backoff; they never stop the loop.

mod address;
mod deliver;

pub use address::{BlockedAddress, GuardedResolver, blocked_reason};
pub use deliver::{
    KAKIYO_SIGNATURE, USER_AGENT, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, deliver,
    http_client,
};

use outbound_core::secrets::SecretBox;
use outbound_core::time::now_millis;
use outbound_core::webhooks::RetryPolicy;
use outbound_store::webhooks::{AttemptOutcome, ClaimedDelivery};
use outbound_store::{Store, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::{JoinError, JoinSet};

/// Default timeout of one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of consecutive exhausted events after which a webhook is disabled.
pub const DEFAULT_DISABLE_AFTER: i64 = 4;
/// Default limit on the response body read from a receiver.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Default pause between two looks at the outbox when there is nothing to do.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Default number of events fanned out, or deliveries claimed, per store call.
pub const DEFAULT_BATCH: i64 = 100;
/// Default number of attempts in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// What a lease adds to the attempt timeout, for resolving, connecting and recording.
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// The longest pause after repeated store errors.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);

/// How the dispatcher delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// When failed deliveries are tried again; the first entry is ignored (a new delivery is
    /// due at once), retry `n` waits `schedule[n]` (± jitter, honouring `Retry-After`).
    pub retry: RetryPolicy,
    /// The limit of one attempt, from connecting to reading the answer.
    pub timeout: Duration,
    /// A webhook is disabled after this many consecutive events that exhausted their retries.
    pub disable_after: i64,
    /// Allow deliveries to loopback, private, link-local and other internal addresses.
    pub allow_private: bool,
    /// At most this much of a receiver's answer is read.
    pub max_response_bytes: usize,
    /// The pause between two looks at the outbox when there was nothing to do.
    pub poll_interval: Duration,
    /// Events fanned out, or deliveries claimed, per store call.
    pub batch: i64,
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// How long a claimed delivery is reserved for this dispatcher; after that, another (or
    /// this one after a restart) may send it again. Must exceed `timeout`.
    pub lease: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            disable_after: DEFAULT_DISABLE_AFTER,
            allow_private: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            poll_interval: DEFAULT_POLL_INTERVAL,
            batch: DEFAULT_BATCH,
            concurrency: DEFAULT_CONCURRENCY,
            lease: DEFAULT_TIMEOUT + LEASE_MARGIN,
        }
    }
}

impl WebhookConfig {
    /// The configuration with `timeout` set and the lease following it.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.lease = timeout + LEASE_MARGIN;
        self
    }
}

/// Why the dispatcher could not start or do its work.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid webhook configuration: {0}")]
    Config(&'static str),
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("webhook store: {0}")]
    Store(#[from] StoreError),
}

pub type EngineResult<T> = Result<T, EngineError>;

/// Delivers webhooks from the outbox; see the module documentation.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    secrets: Arc<SecretBox>,
    config: WebhookConfig,
    client: reqwest::Client,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("backend", &self.inner.store.backend())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher over `store`, opening webhook secrets with `secrets` (the master key the
    /// API sealed them with).
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Arc<SecretBox>,
        config: WebhookConfig,
    ) -> EngineResult<Self> {
        if config.timeout.is_zero() {
            return Err(EngineError::Config("the timeout must be positive"));
        }
        if config.lease <= config.timeout {
            return Err(EngineError::Config(
                "the lease must be longer than the timeout",
            ));
        }
        if config.batch < 1 {
            return Err(EngineError::Config("the batch must be at least 1"));
        }
        if config.concurrency < 1 {
            return Err(EngineError::Config("the concurrency must be at least 1"));
        }
        if config.disable_after < 1 {
            return Err(EngineError::Config("disable_after must be at least 1"));
        }
        let client = http_client(&config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                secrets,
                config,
                client,
            }),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &WebhookConfig {
        &self.inner.config
    }

    /// Does the work that is due now and returns the number of attempts made: fans out every
    /// pending event, then claims up to `batch` due deliveries, `concurrency` at a time, and
    /// sends them. Tests drive delivery with this; [`Dispatcher::run`] is the long-running form.
    pub async fn run_once(&self) -> EngineResult<usize> {
        self.fan_out_all().await?;
        let batch = usize::try_from(self.inner.config.batch).unwrap_or(usize::MAX);
        let mut attempts = 0usize;
        let mut first_error = None;
        while attempts < batch {
            let wanted = self.inner.config.concurrency.min(batch - attempts);
            let claimed = self.claim(wanted).await?;
            let got = claimed.len();
            let mut wave = JoinSet::new();
            for delivery in claimed {
                wave.spawn(attempt(Arc::clone(&self.inner), delivery));
            }
            while let Some(joined) = wave.join_next().await {
                if let Err(e) = flatten(joined) {
                    first_error.get_or_insert(e);
                }
            }
            attempts += got;
            if got < wanted {
                break;
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(attempts),
        }
    }

    /// Delivers until `shutdown` resolves, then lets the attempts in flight finish (each is
    /// bounded by the timeout) and returns. Never fails: errors are logged and retried with a
    /// growing pause.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let config = &self.inner.config;
        tracing::info!(
            concurrency = config.concurrency,
            timeout = ?config.timeout,
            retries = config.retry.attempts().saturating_sub(1),
            disable_after = config.disable_after,
            allow_private = config.allow_private,
            "webhook dispatcher started"
        );
        tokio::pin!(shutdown);
        let mut in_flight: JoinSet<EngineResult<()>> = JoinSet::new();
        let mut last_fan_out: Option<Instant> = None;
        let mut events_left = true;
        let mut failures = 0u32;
        loop {
            while let Some(joined) = in_flight.try_join_next() {
                log_attempt(flatten(joined));
            }
            let next = match self
                .step(&mut in_flight, &mut last_fan_out, &mut events_left)
                .await
            {
                Ok(next) => {
                    failures = 0;
                    next
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let pause = error_backoff(config.poll_interval, failures);
                    tracing::error!(error = %e, retry_in = ?pause, "webhook dispatcher: store error");
                    Next::Sleep(pause)
                }
            };
            match next {
                Next::Now => tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = std::future::ready(()) => {}
                },
                // Claim again when half the slots are free: one claim per several attempts.
                Next::Slot => tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = drain_to(&mut in_flight, config.concurrency / 2) => {}
                    () = tokio::time::sleep(config.poll_interval) => {}
                },
                Next::Sleep(pause) => tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause) => {}
                },
            }
        }
        tracing::info!(
            in_flight = in_flight.len(),
            "webhook dispatcher stopping: finishing the attempts in flight"
        );
        while let Some(joined) = in_flight.join_next().await {
            log_attempt(flatten(joined));
        }
        tracing::info!("webhook dispatcher stopped");
    }

    /// One turn of [`Dispatcher::run`]: fans out (when events may be waiting or a poll interval
    /// has passed) and fills the free slots; says what to wait for before the next turn.
    async fn step(
        &self,
        in_flight: &mut JoinSet<EngineResult<()>>,
        last_fan_out: &mut Option<Instant>,
        events_left: &mut bool,
    ) -> EngineResult<Next> {
        let config = &self.inner.config;
        let poll_due = last_fan_out.is_none_or(|at| at.elapsed() >= config.poll_interval);
        if *events_left || poll_due {
            let handled = self.inner.store.fan_out_events(config.batch).await?;
            *last_fan_out = Some(Instant::now());
            *events_left = i64::try_from(handled).unwrap_or(i64::MAX) >= config.batch;
        }
        let free = config.concurrency.saturating_sub(in_flight.len());
        let full = if free == 0 {
            true
        } else {
            let wanted = free.min(usize::try_from(config.batch).unwrap_or(usize::MAX));
            let claimed = self.claim(wanted).await?;
            let full = claimed.len() == wanted;
            for delivery in claimed {
                in_flight.spawn(attempt(Arc::clone(&self.inner), delivery));
            }
            full
        };
        Ok(if *events_left {
            Next::Now
        } else if full {
            Next::Slot
        } else {
            Next::Sleep(config.poll_interval)
        })
    }

    async fn fan_out_all(&self) -> EngineResult<()> {
        let batch = self.inner.config.batch;
        while i64::try_from(self.inner.store.fan_out_events(batch).await?).unwrap_or(i64::MAX)
            >= batch
        {}
        Ok(())
    }

    async fn claim(&self, limit: usize) -> EngineResult<Vec<ClaimedDelivery>> {
        let now = now_millis();
        let lease = i64::try_from(self.inner.config.lease.as_millis()).unwrap_or(i64::MAX);
        Ok(self
            .inner
            .store
            .claim_deliveries(
                now,
                now.saturating_add(lease),
                i64::try_from(limit).unwrap_or(i64::MAX),
            )
            .await?)
    }
}

/// What [`Dispatcher::run`] waits for before its next turn.
enum Next {
    /// Nothing: more events are waiting to be fanned out.
    Now,
    /// Free slots: more deliveries may be due.
    Slot,
    /// A pause: nothing is due (or the store failed).
    Sleep(Duration),
}

/// Sends one claimed delivery and records the outcome.
async fn attempt(inner: Arc<Inner>, delivery: ClaimedDelivery) -> EngineResult<()> {
    let started = Instant::now();
    let secret = match delivery
        .secret_sealed
        .as_deref()
        .map(|s| inner.secrets.open(s))
    {
        None => Ok(None),
        Some(Ok(secret)) => Ok(Some(secret)),
        Some(Err(e)) => Err(e),
    };
    let outcome = match secret {
        Ok(secret) => {
            let unit = rand::random::<f64>();
            deliver(
                &inner.client,
                &inner.config,
                &delivery,
                secret.as_deref(),
                unit,
            )
            .await
        }
        // Sending unsigned would mislead the receiver: fail, and retry on the schedule.
        Err(e) => {
            let error =
                format!("cannot open the webhook secret ({e}); was the master key changed?");
            let next = usize::try_from(delivery.attempts.saturating_add(1)).unwrap_or(usize::MAX);
            let retry_at = inner
                .config
                .retry
                .delay_before(next, rand::random::<f64>(), None)
                .map(|d| {
                    now_millis().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                });
            AttemptOutcome::Failed {
                response_code: None,
                error,
                retry_at,
            }
        }
    };
    log_outcome(&delivery, &outcome, started.elapsed());
    inner
        .store
        .finish_delivery(
            &delivery.id,
            outcome,
            now_millis(),
            inner.config.disable_after,
        )
        .await?;
    Ok(())
}

fn log_outcome(delivery: &ClaimedDelivery, outcome: &AttemptOutcome, took: Duration) {
    let attempt = delivery.attempts.saturating_add(1);
    match outcome {
        AttemptOutcome::Succeeded { response_code } => tracing::debug!(
            delivery = %delivery.id, webhook = %delivery.webhook_id, attempt, status = response_code,
            ?took, "webhook delivered"
        ),
        AttemptOutcome::Failed {
            error,
            retry_at: Some(at),
            ..
        } => tracing::info!(
            delivery = %delivery.id, webhook = %delivery.webhook_id, attempt, %error,
            retry_in_ms = at.saturating_sub(now_millis()), ?took, "webhook delivery failed; will retry"
        ),
        AttemptOutcome::Failed {
            error,
            retry_at: None,
            ..
        } => tracing::warn!(
            delivery = %delivery.id, webhook = %delivery.webhook_id, attempt, %error, ?took,
            "webhook delivery failed; retries exhausted"
        ),
        AttemptOutcome::Gone => tracing::warn!(
            delivery = %delivery.id, webhook = %delivery.webhook_id, attempt,
            "webhook answered 410 Gone; webhook disabled"
        ),
    }
}

/// Waits until at most `low_water` attempts are in flight.
async fn drain_to(in_flight: &mut JoinSet<EngineResult<()>>, low_water: usize) {
    while in_flight.len() > low_water {
        match in_flight.join_next().await {
            Some(joined) => log_attempt(flatten(joined)),
            None => break,
        }
    }
}

fn flatten(joined: Result<EngineResult<()>, JoinError>) -> EngineResult<()> {
    match joined {
        Ok(result) => result,
        // A panicking attempt leaves its lease to run out: the delivery is tried again.
        Err(e) => {
            tracing::error!(error = %e, "webhook attempt task failed");
            Ok(())
        }
    }
}

fn log_attempt(result: EngineResult<()>) {
    if let Err(e) = result {
        tracing::error!(
            error = %e,
            "cannot record a webhook attempt; the delivery will be tried again after its lease"
        );
    }
}

/// The pause after `failures` consecutive store errors: doubling from the poll interval.
fn error_backoff(poll_interval: Duration, failures: u32) -> Duration {
    poll_interval
        .max(Duration::from_millis(100))
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(MAX_ERROR_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config = WebhookConfig::default();
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.lease, Duration::from_secs(40));
        assert_eq!(config.disable_after, 4);
        assert!(!config.allow_private);
        assert_eq!(config.max_response_bytes, 65_536);
        assert_eq!(config.poll_interval, Duration::from_millis(250));
        assert_eq!(config.batch, 100);
        assert_eq!(config.concurrency, 16);
        assert_eq!(config.retry, RetryPolicy::default());
        let slower = WebhookConfig::default().with_timeout(Duration::from_secs(20));
        assert_eq!(slower.lease, Duration::from_secs(50));
    }

    #[test]
    fn store_errors_back_off_up_to_a_limit() {
        let poll = Duration::from_millis(250);
        assert_eq!(error_backoff(poll, 1), Duration::from_millis(500));
        assert_eq!(error_backoff(poll, 2), Duration::from_secs(1));
        assert_eq!(error_backoff(poll, 40), MAX_ERROR_BACKOFF);
    }
}
