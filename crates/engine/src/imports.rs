//! The import worker: carries out the prospect imports that the API queued.
//!
//! Rules:
//! - the work is the store's ([`ImportStore::process_imports`]): each call processes the next
//!   rows of the oldest unfinished job in one transaction, so a worker killed at any point
//!   loses nothing and repeats nothing, and several processes can run workers on one database
//!   (PostgreSQL hands each job to one worker at a time);
//! - the worker calls it again after [`BATCH_PAUSE`] while there is work, sleeps `poll` when
//!   there is none,
//!   and backs off (doubling, at most [`MAX_ERROR_BACKOFF`]) while the store fails; it logs
//!   errors and never stops on them, only when `shutdown` resolves, and never in the middle of
//!   a batch.
//!
//! [`ImportStore::process_imports`]: outbound_store::imports::ImportStore::process_imports

use outbound_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Default pause between two looks for work when there was none.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Rows processed per store call (one transaction).
pub const BATCH_ROWS: i64 = 100;
/// The pause between two batches while there is work: on SQLite it lets API writes that wait
/// for the write lock take it, instead of losing every race to the next batch.
pub const BATCH_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause after repeated store errors.
pub const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(30);
/// Doublings of the pause after errors before it stops growing.
const MAX_BACKOFF_DOUBLINGS: u32 = 10;

/// Processes queued imports until `shutdown` resolves.
pub async fn run_imports(
    store: Arc<dyn Store>,
    poll: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tracing::info!(poll_ms = poll.as_millis(), "import worker started");
    tokio::pin!(shutdown);
    let mut failures: u32 = 0;
    loop {
        let pause = match store.process_imports(BATCH_ROWS).await {
            Ok(0) => {
                failures = 0;
                poll
            }
            Ok(rows) => {
                failures = 0;
                tracing::debug!(rows, "import rows processed");
                BATCH_PAUSE
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let pause = error_backoff(poll, failures);
                let retry_in_ms = pause.as_millis();
                tracing::warn!(%error, failures, retry_in_ms, "import batch failed");
                pause
            }
        };
        let stop = tokio::select! {
            biased;
            () = &mut shutdown => true,
            () = tokio::time::sleep(pause) => false,
        };
        if stop {
            break;
        }
    }
    tracing::info!("import worker stopped");
}

/// The pause after `failures` consecutive errors: `poll` doubled per failure, capped.
fn error_backoff(poll: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(MAX_BACKOFF_DOUBLINGS);
    poll.saturating_mul(1 << doublings).min(MAX_ERROR_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::plan::Plan;
    use outbound_core::prompt::PromptType;
    use outbound_store::campaigns::NewCampaign;
    use outbound_store::imports::{ImportStatus, NewImportRow, source};
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use tokio::sync::oneshot;

    /// A short poll, for tests.
    const POLL: Duration = Duration::from_millis(10);
    /// How long a test waits for the worker.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// A directory removed when dropped.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A SQLite store in a fresh directory, migrated when `migrate`.
    async fn sqlite_store(migrate: bool) -> (Arc<dyn Store>, TempDir) {
        let dir =
            std::env::temp_dir().join(format!("outbound-imports-{}", outbound_core::ids::new_id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("test.db").display());
        let store = outbound_store::connect(&url).await.expect("store");
        if migrate {
            store.migrate().await.expect("migrate");
        }
        (store, TempDir(dir))
    }

    /// A team with one campaign; returns `(team, campaign)`.
    async fn team_with_campaign(store: &dyn Store) -> (String, String) {
        let team = store
            .create_team("Importers", Plan::Unlimited)
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
        let campaign = NewCampaign {
            name: "Imports".to_owned(),
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

    #[test]
    fn backoff_doubles_from_the_poll_interval_up_to_the_cap() {
        let poll = Duration::from_millis(500);
        assert_eq!(error_backoff(poll, 1), poll);
        assert_eq!(error_backoff(poll, 2), poll * 2);
        assert_eq!(error_backoff(poll, 4), poll * 8);
        assert_eq!(error_backoff(poll, 50), MAX_ERROR_BACKOFF);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_worker_finishes_queued_jobs_and_stops_on_shutdown() {
        let (store, _dir) = sqlite_store(true).await;
        let (team, campaign) = team_with_campaign(store.as_ref()).await;
        let rows: Vec<NewImportRow> = (0..250)
            .map(|n| NewImportRow {
                name: format!("Person {n}"),
                url: format!("linkedin.com/in/person-{}", n % 200),
                custom_data: String::new(),
                ongoing: false,
            })
            .collect();
        let list = store
            .create_import(&team, &campaign, source::BATCH, &rows)
            .await
            .expect("import");
        let (stop, stopped) = oneshot::channel::<()>();
        let worker = tokio::spawn(run_imports(Arc::clone(&store), POLL, async {
            let _ = stopped.await;
        }));
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let import = loop {
            let import = store.get_import(&team, &list).await.expect("get import");
            if import.status == ImportStatus::Completed {
                break import;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not done: {import:?}"
            );
            tokio::time::sleep(POLL).await;
        };
        assert_eq!(
            (import.processed, import.imported, import.existing),
            (250, 200, 50)
        );
        let _ = stop.send(());
        tokio::time::timeout(PATIENCE, worker)
            .await
            .expect("the worker stops on shutdown")
            .expect("the worker does not panic");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn store_errors_do_not_stop_the_worker() {
        let (store, _dir) = sqlite_store(false).await;
        assert!(
            store.process_imports(BATCH_ROWS).await.is_err(),
            "no tables yet"
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let worker = tokio::spawn(run_imports(Arc::clone(&store), POLL, async {
            let _ = stopped.await;
        }));
        tokio::time::sleep(POLL * 5).await;
        assert!(!worker.is_finished(), "the worker keeps going after errors");
        let _ = stop.send(());
        tokio::time::timeout(PATIENCE, worker)
            .await
            .expect("the worker stops on shutdown")
            .expect("the worker does not panic");
    }
}
