//! `outbound worker`: runs the background work alone (the outreach engine, the webhook
//! dispatcher and the import worker), without
//! the HTTP API, until SIGINT or SIGTERM.
//!
//! Rule: a worker shares everything with `outbound serve` through the database (and the master
//! key, which must be the same), so API processes and workers can be scaled apart; any number
//! of them may run against one PostgreSQL database. On a signal it stops claiming work and
//! finishes the attempts it has started, for at most [`SHUTDOWN_GRACE`].

use anyhow::{Context, Result};
use outbound_engine::Dispatcher;
use outbound_engine::imports::{DEFAULT_POLL_INTERVAL, run_imports};
use std::sync::Arc;
use tokio::sync::{oneshot, watch};

use super::serve::{SHUTDOWN_GRACE, outreach_engine, shutdown_signal};
use crate::config::Config;

pub async fn run(config: &Config) -> Result<()> {
    let secrets = config.secret_box()?;
    let store = super::connect_migrated(config).await?;
    let signal = shutdown_signal().context("cannot install the signal handlers")?;
    let connector = config.linkedin()?;
    let (engine, clock) = outreach_engine(config, &store, &secrets, None, Arc::clone(&connector))?;
    let secrets = Arc::new(secrets);
    let dispatcher = Dispatcher::new(
        Arc::clone(&store),
        Arc::clone(&secrets),
        config.webhook_config(),
    )
    .context("cannot start the webhook dispatcher")?;
    tracing::info!(
        backend = store.backend(),
        database = %config.redacted_database_url(),
        "worker running"
    );
    eprintln!(
        "Worker running: outreach, webhook deliveries, imports and Sales Navigator searches until SIGINT or SIGTERM"
    );

    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.changed().await;
    };
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let on_signal = async move {
        let name = signal.await;
        tracing::info!(
            signal = name,
            "shutting down: finishing webhook attempts and import batches"
        );
        let _ = stop.send(true);
        // The receiver only goes away when the process is exiting anyway.
        let _ = stopping_tx.send(());
    };
    let work = async {
        tokio::join!(
            on_signal,
            dispatcher.run(until_stopped(stopped.clone())),
            engine.run(
                clock,
                outbound_engine::outreach::DEFAULT_POLL,
                until_stopped(stopped.clone())
            ),
            run_imports(
                Arc::clone(&store),
                DEFAULT_POLL_INTERVAL,
                until_stopped(stopped.clone())
            ),
            outbound_engine::sales_navigator::run_sales_navigator(
                Arc::clone(&store),
                connector,
                Arc::clone(&secrets),
                outbound_engine::sales_navigator::DEFAULT_POLL_INTERVAL,
                until_stopped(stopped.clone())
            ),
        );
    };
    let deadline = async {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = work => {}
        () = deadline => tracing::warn!(
            grace = ?SHUTDOWN_GRACE,
            "webhook attempts still running after the shutdown grace period; exiting anyway"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}
