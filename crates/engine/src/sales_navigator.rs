//! The Sales Navigator worker: runs the searches that `POST /v1/prospects/sales-navigator`
//! queued, through the LinkedIn connector, and hands the people found to the import path.
//!
//! Rules:
//! - one search per step ([`process_next`]): the store claims the oldest due search as a new
//!   run with a lease ([`SalesNavigatorStore::claim_sales_navigator`]), the connector searches
//!   with the account of the campaign's agent, and the run ends in one transaction
//!   ([`SalesNavigatorStore::end_sales_navigator_run`]): `completed` with ONE import job of the
//!   people found (at most the requested count), whose rows the import worker then carries out
//!   like any import (invalid URL, DNC, duplicates);
//! - the search uses the agent's LinkedIn session: an agent without credentials, disabled or
//!   ended fails the search; an agent not connected yet (logging in, waiting for a code, paused,
//!   session expired) makes it wait [`AGENT_WAIT`] at a time, at most [`MAX_AGENT_WAIT`] after
//!   it was queued. The worker never logs an agent in itself: that is the outreach engine's;
//! - connector failures that may pass (rate limits, temporary faults) put the search back in
//!   the queue with a growing delay (the provider's `retry_after` when it gives one) and count
//!   an attempt; the [`MAX_ATTEMPTS`]th fails it; any other refusal fails it at once, with its
//!   error;
//! - the loop ([`run_sales_navigator`]) goes on at once while there is work, sleeps `poll`
//!   otherwise, backs off while the store fails, and stops only when `shutdown` resolves,
//!   never in the middle of a search.

use outbound_core::agent::AgentStatus;
use outbound_core::secrets::SecretBox;
use outbound_core::time::{Millis, now_millis};
use outbound_linkedin::{Account, ConnectorError, LinkedInConnector, SearchHit};
use outbound_store::Store;
use outbound_store::imports::NewImportRow;
use outbound_store::sales_navigator::{ClaimedSource, MAX_ATTEMPTS, RunEnd};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::webhooks::EngineResult;

/// Default pause between two looks for work when there was none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a run may take before another worker takes the search over.
pub const RUN_LEASE: Millis = 10 * MINUTE;
/// How long a search waits, at a time, for its agent to be connected.
pub const AGENT_WAIT: Millis = 5 * MINUTE;
/// Longest a search waits for its agent after it was queued, before it fails.
pub const MAX_AGENT_WAIT: Millis = 24 * 60 * MINUTE;
/// Delay before the first retry after a failure that may pass; it doubles per attempt.
pub const RETRY_DELAY: Millis = MINUTE;
/// Longest delay before a retry.
pub const MAX_RETRY_DELAY: Millis = 30 * MINUTE;
/// The longest pause of the loop after repeated store errors.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);
const MINUTE: Millis = 60_000;

/// Runs queued searches until `shutdown` resolves.
pub async fn run_sales_navigator(
    store: Arc<dyn Store>,
    connector: Arc<dyn LinkedInConnector>,
    secrets: Arc<SecretBox>,
    poll: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tracing::info!(poll_ms = poll.as_millis(), "sales navigator worker started");
    tokio::pin!(shutdown);
    let mut failures: u32 = 0;
    loop {
        let pause = match process_next(store.as_ref(), connector.as_ref(), &secrets).await {
            Ok(true) => {
                failures = 0;
                Duration::ZERO
            }
            Ok(false) => {
                failures = 0;
                poll
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let pause = poll
                    .saturating_mul(1 << failures.min(10))
                    .min(MAX_ERROR_BACKOFF);
                tracing::warn!(%error, failures, "sales navigator step failed");
                pause
            }
        };
        let stopped = tokio::select! {
            biased;
            () = &mut shutdown => true,
            () = tokio::time::sleep(pause) => false,
        };
        if stopped {
            break;
        }
    }
    tracing::info!("sales navigator worker stopped");
}

/// Runs the oldest due search, now; `false` when none was due.
pub async fn process_next(
    store: &dyn Store,
    connector: &dyn LinkedInConnector,
    secrets: &SecretBox,
) -> EngineResult<bool> {
    process(store, connector, secrets, &now_millis).await
}

/// [`process_next`] at the given time (tests, simulations).
pub async fn process_next_at(
    store: &dyn Store,
    connector: &dyn LinkedInConnector,
    secrets: &SecretBox,
    now: Millis,
) -> EngineResult<bool> {
    process(store, connector, secrets, &|| now).await
}

async fn process(
    store: &dyn Store,
    connector: &dyn LinkedInConnector,
    secrets: &SecretBox,
    clock: &(dyn Fn() -> Millis + Sync),
) -> EngineResult<bool> {
    let started = clock();
    let Some(claimed) = store
        .claim_sales_navigator(started, started.saturating_add(RUN_LEASE))
        .await?
    else {
        return Ok(false);
    };
    let end = match account_of(&claimed, secrets) {
        Access::Search(account) => {
            let count = u32::try_from(claimed.requested_count.max(0)).unwrap_or(u32::MAX);
            let found = connector
                .search_sales_navigator(&account, &claimed.search_url, count)
                .await;
            outcome(&claimed, found, clock())
        }
        Access::Wait(reason) => wait(&claimed, reason, clock()),
        Access::Fail(reason) => RunEnd::Failed {
            error: reason.to_owned(),
            counted: false,
        },
    };
    let list_id = store
        .end_sales_navigator_run(&claimed.id, &claimed.run_id, &end, clock())
        .await?;
    log_end(&claimed, &end, list_id.as_deref());
    Ok(true)
}

/// Whether the search can use its agent's account now.
#[derive(Debug, PartialEq, Eq)]
enum Access {
    Search(Account),
    /// Not yet, for this reason.
    Wait(&'static str),
    /// Never, for this reason.
    Fail(&'static str),
}

const NO_CREDENTIALS: &str = "The campaign's agent has no LinkedIn credentials";
const AGENT_DISABLED: &str = "The campaign's agent is disabled";
const AGENT_ENDED: &str = "The campaign's agent has ended";
const SEALED_UNREADABLE: &str = "The agent's stored LinkedIn password cannot be read";
const NOT_CONNECTED: &str = "Waiting for the campaign's agent to be connected to LinkedIn";
const AGENT_PAUSED: &str = "Waiting for the campaign's agent to be resumed";
const SESSION_EXPIRED: &str = "The agent's LinkedIn session expired; waiting for a new login";

/// The account of the claimed search's agent, with its password opened.
fn account_of(claimed: &ClaimedSource, secrets: &SecretBox) -> Access {
    let agent = &claimed.agent;
    let (Some(login), Some(sealed)) = (&agent.login, &agent.password_sealed) else {
        return Access::Fail(NO_CREDENTIALS);
    };
    match agent.status {
        AgentStatus::SetupNeeded => return Access::Fail(NO_CREDENTIALS),
        AgentStatus::Disabled => return Access::Fail(AGENT_DISABLED),
        AgentStatus::Ended => return Access::Fail(AGENT_ENDED),
        AgentStatus::Paused => return Access::Wait(AGENT_PAUSED),
        AgentStatus::AuthNeeded | AgentStatus::AuthInProgress => {
            return Access::Wait(NOT_CONNECTED);
        }
        AgentStatus::Running => {}
    }
    let Some(provider_account_id) = agent.provider_account_id.clone() else {
        return Access::Wait(NOT_CONNECTED);
    };
    let Ok(password) = secrets.open(sealed) else {
        return Access::Fail(SEALED_UNREADABLE);
    };
    Access::Search(Account {
        id: agent.id.clone(),
        provider_account_id: Some(provider_account_id),
        login: login.clone(),
        password,
        country: agent.country.clone().unwrap_or_default(),
    })
}

/// Back to the queue for [`AGENT_WAIT`], or failed once the search waited [`MAX_AGENT_WAIT`].
fn wait(claimed: &ClaimedSource, reason: &str, now: Millis) -> RunEnd {
    if now.saturating_sub(claimed.created_at) >= MAX_AGENT_WAIT {
        return RunEnd::Failed {
            error: format!("{reason} (gave up after 24 hours)"),
            counted: false,
        };
    }
    RunEnd::Requeue {
        at: now.saturating_add(AGENT_WAIT),
        error: reason.to_owned(),
        counted: false,
    }
}

/// How the run ends after the connector answered.
fn outcome(
    claimed: &ClaimedSource,
    found: Result<Vec<SearchHit>, ConnectorError>,
    now: Millis,
) -> RunEnd {
    let error = match found {
        Ok(hits) => return RunEnd::Found(rows_of(hits, claimed.requested_count)),
        Err(ConnectorError::SessionExpired) => return wait(claimed, SESSION_EXPIRED, now),
        Err(error) => error,
    };
    let message = format!("The Sales Navigator search failed: {error}");
    let attempts = claimed.attempts.saturating_add(1);
    if !error.is_retryable() || attempts >= MAX_ATTEMPTS {
        return RunEnd::Failed {
            error: message,
            counted: true,
        };
    }
    let hint = match error {
        ConnectorError::RateLimited { retry_after } => retry_after,
        _ => None,
    };
    RunEnd::Requeue {
        at: now.saturating_add(retry_delay(attempts, hint)),
        error: message,
        counted: true,
    }
}

/// The delay before retry number `attempts` (1 = the first failure): the provider's hint
/// when it gives one, else [`RETRY_DELAY`] doubled per attempt; at most [`MAX_RETRY_DELAY`].
fn retry_delay(attempts: i64, hint: Option<Duration>) -> Millis {
    let delay = match hint {
        Some(hint) => Millis::try_from(hint.as_millis()).unwrap_or(Millis::MAX),
        None => {
            let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
            RETRY_DELAY.saturating_mul(1 << doublings)
        }
    };
    delay.min(MAX_RETRY_DELAY)
}

/// The import rows of the people found: at most `requested`, as the connector listed them.
fn rows_of(hits: Vec<SearchHit>, requested: i64) -> Vec<NewImportRow> {
    let requested = usize::try_from(requested.max(0)).unwrap_or(usize::MAX);
    hits.into_iter()
        .take(requested)
        .map(|hit| NewImportRow {
            name: hit.name.trim().to_owned(),
            url: hit.profile_url.trim().to_owned(),
            custom_data: String::new(),
            ongoing: false,
        })
        .collect()
}

fn log_end(claimed: &ClaimedSource, end: &RunEnd, list_id: Option<&str>) {
    let source = claimed.id.as_str();
    match end {
        RunEnd::Found(rows) => {
            tracing::info!(
                source,
                found = rows.len(),
                list_id,
                "sales navigator search done"
            );
        }
        RunEnd::Requeue { at, error, .. } => {
            tracing::info!(source, retry_at = at, %error, "sales navigator search postponed");
        }
        RunEnd::Failed { error, .. } => {
            tracing::warn!(source, %error, "sales navigator search failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use outbound_core::agent::AgentEvent;
    use outbound_core::plan::Plan;
    use outbound_core::prompt::PromptType;
    use outbound_linkedin::{
        Incoming, InvitationState, LoginOutcome, Profile, SandboxConnector, SendProbe, Sent,
        SentRef,
    };
    use outbound_store::agents::AgentChange;
    use outbound_store::campaigns::NewCampaign;
    use outbound_store::engine::{AgentOp, Settlement};
    use outbound_store::imports::ImportStatus;
    use outbound_store::sales_navigator::{NewSource, QueueOutcome, SourceAgent, SourceStatus};
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Mutex;

    const T0: Millis = 1_750_000_000_000;
    const URL: &str = "https://www.linkedin.com/sales/search/people?query=(keywords%3AHR)";

    fn secrets() -> SecretBox {
        SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).expect("key")
    }

    fn claimed(
        status: AgentStatus,
        provider: Option<&str>,
        sealed: Option<String>,
    ) -> ClaimedSource {
        ClaimedSource {
            id: "s".into(),
            team_id: "t".into(),
            campaign_id: "c".into(),
            search_url: URL.into(),
            requested_count: 100,
            run_id: "r".into(),
            attempts: 0,
            created_at: T0,
            agent: SourceAgent {
                id: "a".into(),
                status,
                login: sealed.as_ref().map(|_| "sam@example.com".to_owned()),
                password_sealed: sealed,
                country: Some("FR".into()),
                provider_account_id: provider.map(str::to_owned),
            },
        }
    }

    #[test]
    fn the_agent_must_be_connected_and_have_readable_credentials() {
        let box_ = secrets();
        let sealed = Some(box_.seal("hunter22"));
        let ready = claimed(AgentStatus::Running, Some("acc"), sealed.clone());
        match account_of(&ready, &box_) {
            Access::Search(account) => {
                assert_eq!(account.password, "hunter22");
                assert_eq!(account.provider_account_id.as_deref(), Some("acc"));
                assert_eq!(account.country, "FR");
            }
            other => panic!("not searchable: {other:?}"),
        }
        let cases = [
            (
                AgentStatus::Running,
                None,
                sealed.clone(),
                Access::Wait(NOT_CONNECTED),
            ),
            (
                AgentStatus::AuthInProgress,
                None,
                sealed.clone(),
                Access::Wait(NOT_CONNECTED),
            ),
            (
                AgentStatus::Paused,
                Some("acc"),
                sealed.clone(),
                Access::Wait(AGENT_PAUSED),
            ),
            (
                AgentStatus::Disabled,
                Some("acc"),
                sealed.clone(),
                Access::Fail(AGENT_DISABLED),
            ),
            (
                AgentStatus::Ended,
                Some("acc"),
                sealed.clone(),
                Access::Fail(AGENT_ENDED),
            ),
            (
                AgentStatus::Running,
                Some("acc"),
                None,
                Access::Fail(NO_CREDENTIALS),
            ),
        ];
        for (status, provider, sealed, expected) in cases {
            assert_eq!(
                account_of(&claimed(status, provider, sealed), &box_),
                expected
            );
        }
        let foreign = secrets().seal("hunter22");
        let unreadable = claimed(AgentStatus::Running, Some("acc"), Some(foreign));
        assert_eq!(
            account_of(&unreadable, &box_),
            Access::Fail(SEALED_UNREADABLE)
        );
    }

    #[test]
    fn waiting_for_the_agent_ends_after_a_day() {
        let source = claimed(AgentStatus::AuthInProgress, None, None);
        assert_eq!(
            wait(&source, NOT_CONNECTED, T0 + MINUTE),
            RunEnd::Requeue {
                at: T0 + MINUTE + AGENT_WAIT,
                error: NOT_CONNECTED.into(),
                counted: false
            }
        );
        assert!(matches!(
            wait(&source, NOT_CONNECTED, T0 + MAX_AGENT_WAIT),
            RunEnd::Failed { counted: false, .. }
        ));
    }

    #[test]
    fn failures_that_may_pass_are_retried_with_growing_delays_then_fail() {
        let mut source = claimed(AgentStatus::Running, Some("acc"), None);
        let transient = || Err(ConnectorError::Transient("502 from provider".into()));
        let mut delays = Vec::new();
        for attempts in 0..MAX_ATTEMPTS - 1 {
            source.attempts = attempts;
            match outcome(&source, transient(), T0) {
                RunEnd::Requeue { at, error, counted } => {
                    assert!(counted && error.contains("502 from provider"), "{error}");
                    delays.push(at - T0);
                }
                other => panic!("attempt {attempts}: {other:?}"),
            }
        }
        assert_eq!(delays, [MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE]);
        source.attempts = MAX_ATTEMPTS - 1;
        assert!(matches!(
            outcome(&source, transient(), T0),
            RunEnd::Failed { counted: true, .. }
        ));
        source.attempts = 0;
        let limited = Err(ConnectorError::RateLimited {
            retry_after: Some(Duration::from_secs(90)),
        });
        assert!(matches!(
            outcome(&source, limited, T0),
            RunEnd::Requeue { at, .. } if at == T0 + 90_000
        ));
        assert_eq!(retry_delay(30, None), MAX_RETRY_DELAY);
        assert_eq!(
            retry_delay(1, Some(Duration::from_secs(86_400))),
            MAX_RETRY_DELAY
        );
    }

    #[test]
    fn refusals_fail_at_once_and_expired_sessions_wait() {
        let source = claimed(AgentStatus::Running, Some("acc"), None);
        let rejected = Err(ConnectorError::Rejected("search URL not supported".into()));
        match outcome(&source, rejected, T0) {
            RunEnd::Failed { error, counted } => {
                assert!(
                    counted && error.contains("search URL not supported"),
                    "{error}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            outcome(&source, Err(ConnectorError::SessionExpired), T0),
            RunEnd::Requeue { counted: false, .. }
        ));
    }

    #[test]
    fn at_most_the_requested_people_become_rows() {
        let hits: Vec<SearchHit> = (0..5)
            .map(|n| SearchHit {
                name: format!(" Person {n} "),
                profile_url: format!("https://linkedin.com/in/p-{n}"),
            })
            .collect();
        let rows = rows_of(hits, 3);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].name, "Person 0");
        assert_eq!(rows[2].url, "https://linkedin.com/in/p-2");
        assert!(rows.iter().all(|r| !r.ongoing && r.custom_data.is_empty()));
    }

    // ---- with a store -------------------------------------------------------------------

    /// A directory removed when dropped.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    async fn sqlite_store() -> (Arc<dyn Store>, TempDir) {
        let dir = std::env::temp_dir().join(format!(
            "outbound-sales-navigator-{}",
            outbound_core::ids::new_id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("test.db").display());
        let store = outbound_store::connect(&url).await.expect("store");
        store.migrate().await.expect("migrate");
        (store, TempDir(dir))
    }

    /// A team with a campaign whose agent is logged in (as the outreach engine records a
    /// login); returns `(team, campaign)`.
    async fn connected_campaign(store: &dyn Store, secrets: &SecretBox) -> (String, String) {
        let team = store
            .create_team("Searchers", Plan::Unlimited)
            .await
            .expect("team")
            .id;
        let product = store
            .create_product(&team, "Widgets", "Widgets for every purpose", None)
            .await
            .expect("product");
        let prompt = store
            .create_prompt(&team, "Outreach", PromptType::Messages, "template")
            .await
            .expect("prompt");
        let agent = store.create_agent(&team, None).await.expect("agent");
        let credentials = AgentChange::Credentials {
            login: "sam@example.com".into(),
            country: "FR".into(),
            password_sealed: secrets.seal("hunter22"),
        };
        store
            .transition_agent(&team, &agent.id, AgentEvent::Setup, credentials)
            .await
            .expect("setup");
        let mut login = Settlement::new(T0);
        login.agents.push(AgentOp::LoggedIn {
            agent: agent.id.clone(),
            provider_account_id: "sandbox-account".into(),
            name: "Sam".into(),
            avatar: None,
        });
        store.settle(&login).await.expect("login");
        let campaign = NewCampaign {
            name: "Searches".to_owned(),
            product_id: product.id,
            prompt_id: prompt.id,
            agent_id: agent.id,
            qualification_automatic: 70,
            qualification_verification: 50,
            variables: BTreeMap::new(),
            prevent_auto_start: false,
            review_mode: outbound_core::review::ReviewMode::Off,
        };
        let campaign = store
            .create_campaign(&team, &campaign, None)
            .await
            .expect("campaign")
            .id;
        (team, campaign)
    }

    async fn queue(store: &dyn Store, team: &str, campaign: &str, url: &str) -> String {
        let source = NewSource {
            campaign_id: campaign.to_owned(),
            name: "HR leaders".to_owned(),
            search_url: url.to_owned(),
            requested_count: 100,
        };
        match store
            .queue_sales_navigator(team, &source, T0)
            .await
            .expect("queue")
        {
            QueueOutcome::Queued(source) => source.id,
            other => panic!("not queued: {other:?}"),
        }
    }

    /// A connector whose searches fail with `error` (all other calls are the sandbox's).
    struct Failing {
        error: ConnectorError,
        sandbox: SandboxConnector,
        searches: Mutex<u32>,
    }

    #[async_trait]
    impl LinkedInConnector for Failing {
        async fn login(&self, a: &Account) -> Result<LoginOutcome, ConnectorError> {
            self.sandbox.login(a).await
        }
        async fn submit_code(&self, a: &Account, c: &str) -> Result<LoginOutcome, ConnectorError> {
            self.sandbox.submit_code(a, c).await
        }
        async fn profile(&self, a: &Account, u: &str) -> Result<Profile, ConnectorError> {
            self.sandbox.profile(a, u).await
        }
        async fn invite(
            &self,
            a: &Account,
            u: &str,
            n: Option<&str>,
            at: Millis,
        ) -> Result<Sent, ConnectorError> {
            self.sandbox.invite(a, u, n, at).await
        }
        async fn invitation_state(
            &self,
            a: &Account,
            u: &str,
            i: Millis,
            n: Millis,
        ) -> Result<InvitationState, ConnectorError> {
            self.sandbox.invitation_state(a, u, i, n).await
        }
        async fn send_message(
            &self,
            a: &Account,
            u: &str,
            t: &str,
            k: &str,
            at: Millis,
        ) -> Result<Sent, ConnectorError> {
            self.sandbox.send_message(a, u, t, k, at).await
        }
        async fn replies(
            &self,
            a: &Account,
            u: &str,
            s: Millis,
            n: Millis,
            sent: &[SentRef],
        ) -> Result<Vec<Incoming>, ConnectorError> {
            self.sandbox.replies(a, u, s, n, sent).await
        }
        async fn find_sent(
            &self,
            a: &Account,
            u: &str,
            p: SendProbe<'_>,
        ) -> Result<Option<Sent>, ConnectorError> {
            self.sandbox.find_sent(a, u, p).await
        }
        async fn search_sales_navigator(
            &self,
            _a: &Account,
            _u: &str,
            _c: u32,
        ) -> Result<Vec<SearchHit>, ConnectorError> {
            *self.searches.lock().expect("lock") += 1;
            Err(self.error.clone())
        }
    }

    fn failing(error: ConnectorError) -> Failing {
        Failing {
            error,
            sandbox: SandboxConnector::with_defaults(7),
            searches: Mutex::new(0),
        }
    }

    #[tokio::test]
    async fn a_search_becomes_one_import_job_of_the_people_found() {
        let (store, _dir) = sqlite_store().await;
        let box_ = secrets();
        let (team, campaign) = connected_campaign(store.as_ref(), &box_).await;
        let id = queue(store.as_ref(), &team, &campaign, URL).await;
        let sandbox = SandboxConnector::with_defaults(7);
        assert!(
            process_next_at(store.as_ref(), &sandbox, &box_, T0)
                .await
                .expect("step")
        );
        assert!(
            !process_next_at(store.as_ref(), &sandbox, &box_, T0)
                .await
                .expect("idle")
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(source.status, SourceStatus::Completed);
        assert_eq!(source.found_count, Some(100));
        assert!(source.run_id.is_some() && source.error.is_none());
        let list = source.list_id.expect("an import job");
        let import = store.get_import(&team, &list).await.expect("import");
        assert_eq!((import.total, import.status), (100, ImportStatus::Queued));
        while store.process_imports(100).await.expect("import step") > 0 {}
        let import = store.get_import(&team, &list).await.expect("import");
        assert_eq!(
            (import.imported, import.status),
            (100, ImportStatus::Completed)
        );
    }

    #[tokio::test]
    async fn retryable_failures_requeue_until_the_fifth_fails_the_search() {
        let (store, _dir) = sqlite_store().await;
        let box_ = secrets();
        let (team, campaign) = connected_campaign(store.as_ref(), &box_).await;
        let id = queue(store.as_ref(), &team, &campaign, URL).await;
        let connector = failing(ConnectorError::Transient("provider down".into()));
        let mut now = T0;
        for attempt in 1..MAX_ATTEMPTS {
            assert!(
                process_next_at(store.as_ref(), &connector, &box_, now)
                    .await
                    .expect("step")
            );
            let source = store.get_sales_navigator(&team, &id).await.expect("source");
            assert_eq!(
                (source.status, source.attempts),
                (SourceStatus::Queued, attempt)
            );
            assert!(
                source
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("provider down"))
            );
            assert!(
                !process_next_at(store.as_ref(), &connector, &box_, now)
                    .await
                    .expect("step"),
                "not due before its delay"
            );
            now += MAX_RETRY_DELAY;
        }
        assert!(
            process_next_at(store.as_ref(), &connector, &box_, now)
                .await
                .expect("step")
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(
            (source.status, source.attempts),
            (SourceStatus::Failed, MAX_ATTEMPTS)
        );
        assert!(source.completed_at.is_some() && source.list_id.is_none());
        assert_eq!(*connector.searches.lock().expect("lock"), 5);
    }

    #[tokio::test]
    async fn a_refusal_fails_the_search_at_once() {
        let (store, _dir) = sqlite_store().await;
        let box_ = secrets();
        let (team, campaign) = connected_campaign(store.as_ref(), &box_).await;
        let id = queue(store.as_ref(), &team, &campaign, URL).await;
        let connector = failing(ConnectorError::Rejected("no Sales Navigator seat".into()));
        assert!(
            process_next_at(store.as_ref(), &connector, &box_, T0)
                .await
                .expect("step")
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(source.status, SourceStatus::Failed);
        assert!(
            source
                .error
                .as_deref()
                .is_some_and(|e| e.contains("no Sales Navigator seat"))
        );
    }

    #[tokio::test]
    async fn an_interrupted_run_is_taken_over_after_its_lease_and_the_old_run_cannot_end_it() {
        let (store, _dir) = sqlite_store().await;
        let box_ = secrets();
        let (team, campaign) = connected_campaign(store.as_ref(), &box_).await;
        let id = queue(store.as_ref(), &team, &campaign, URL).await;
        let dead = store
            .claim_sales_navigator(T0, T0 + RUN_LEASE)
            .await
            .expect("claim")
            .expect("due");
        assert!(
            store
                .claim_sales_navigator(T0 + 1, T0 + RUN_LEASE)
                .await
                .expect("claim")
                .is_none(),
            "a leased run is not claimed twice"
        );
        let sandbox = SandboxConnector::with_defaults(7);
        let later = T0 + RUN_LEASE;
        assert!(
            process_next_at(store.as_ref(), &sandbox, &box_, later)
                .await
                .expect("step")
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(
            (source.status, source.attempts),
            (SourceStatus::Completed, 1)
        );
        assert_ne!(source.run_id.as_deref(), Some(dead.run_id.as_str()));
        let stale = RunEnd::Failed {
            error: "late".into(),
            counted: true,
        };
        let ended = store
            .end_sales_navigator_run(&id, &dead.run_id, &stale, later)
            .await
            .expect("end");
        assert_eq!(ended, None);
        let after = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(after, source, "the stale run wrote nothing");
    }

    #[tokio::test]
    async fn a_search_interrupted_five_times_fails() {
        let (store, _dir) = sqlite_store().await;
        let box_ = secrets();
        let (team, campaign) = connected_campaign(store.as_ref(), &box_).await;
        let id = queue(store.as_ref(), &team, &campaign, URL).await;
        let mut now = T0;
        for _ in 0..MAX_ATTEMPTS {
            store
                .claim_sales_navigator(now, now + RUN_LEASE)
                .await
                .expect("claim")
                .expect("due");
            now += RUN_LEASE;
        }
        assert!(
            store
                .claim_sales_navigator(now, now + RUN_LEASE)
                .await
                .expect("claim")
                .is_none()
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(
            (source.status, source.attempts),
            (SourceStatus::Failed, MAX_ATTEMPTS)
        );
        assert!(
            source
                .error
                .as_deref()
                .is_some_and(|e| e.contains("interrupted 5 times"))
        );
    }

    #[tokio::test]
    async fn a_search_waits_for_its_agent_to_connect() {
        let (store, _dir) = sqlite_store().await;
        let box_ = secrets();
        let (team, campaign) = connected_campaign(store.as_ref(), &box_).await;
        let agent = store
            .get_campaign(&team, &campaign)
            .await
            .expect("campaign")
            .agent_id;
        store
            .transition_agent(&team, &agent, AgentEvent::Pause, AgentChange::Nothing)
            .await
            .expect("pause");
        let id = queue(store.as_ref(), &team, &campaign, URL).await;
        let sandbox = SandboxConnector::with_defaults(7);
        assert!(
            process_next_at(store.as_ref(), &sandbox, &box_, T0)
                .await
                .expect("step")
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!((source.status, source.attempts), (SourceStatus::Queued, 0));
        assert_eq!(source.error.as_deref(), Some(AGENT_PAUSED));
        store
            .transition_agent(&team, &agent, AgentEvent::Resume, AgentChange::Nothing)
            .await
            .expect("resume");
        let due = T0 + AGENT_WAIT;
        assert!(
            process_next_at(store.as_ref(), &sandbox, &box_, due)
                .await
                .expect("step")
        );
        let source = store.get_sales_navigator(&team, &id).await.expect("source");
        assert_eq!(source.status, SourceStatus::Completed);
    }
}
