//! `outbound serve`: runs the HTTP API, the outreach engine, the webhook dispatcher and the
//! import worker until SIGINT or SIGTERM.
//!
//! With `--time-scale N` (sandbox connector only) the outreach engine runs on simulated time,
//! N times faster than the wall clock from the start, so that a campaign unfolds in minutes.
//!
//! Rule: on a database without teams, the first start creates team `default` (plan
//! `unlimited`) with one API key and prints `API key: <key>` on stdout — the only time that key
//! is shown; later starts print nothing there. On a signal the server stops accepting
//! connections and lets in-flight requests finish, for at most [`SHUTDOWN_GRACE`]; the
//! dispatcher stops claiming deliveries and finishes the attempts it has started (each bounded
//! by the webhook timeout; an unfinished one is sent again by the next process).

use anyhow::{Context, Result};
use clap::Args;
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::plan::Plan;
use outbound_engine::Dispatcher;
use outbound_engine::clock::{Clock, ScaledClock, SystemClock};
use outbound_engine::outreach::{DEFAULT_POLL, Engine};
use outbound_linkedin::LinkedInConnector;
use outbound_store::Store;
use outbound_store::teams::Team;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::welcome;
use crate::config::{Config, LinkedInConnectorKind};

/// Name of the team created on the first start.
const BOOTSTRAP_TEAM: &str = "default";
/// Name of the API key created on the first start.
const BOOTSTRAP_KEY: &str = "default";
/// Plan of the team created on the first start: a self-hoster's own team has no quotas.
const BOOTSTRAP_PLAN: Plan = Plan::Unlimited;
/// How long in-flight requests may run after a shutdown signal before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, `host:port` (`127.0.0.1:0` picks a free port) [env: OUTBOUND_ADDR]
    /// [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<String>,
    /// Run the outreach engine N times faster than real time (sandbox connector only), to watch
    /// a campaign unfold in minutes; e.g. 100 makes an hour pass in 36 seconds
    #[arg(long, value_name = "N", value_parser = parse_time_scale)]
    pub time_scale: Option<f64>,
}

/// A time scale: a finite number of at least 1.
pub fn parse_time_scale(value: &str) -> std::result::Result<f64, String> {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 1.0 => Ok(n),
        _ => Err(format!("expected a number of at least 1, got `{value}`")),
    }
}

/// What `serve` can be given besides the configuration.
#[derive(Default)]
pub struct ServeOptions {
    /// Run the outreach engine this many times faster than real time (sandbox only).
    pub time_scale: Option<f64>,
    /// The LinkedIn side, instead of the configured connector (`outbound demo`'s lively
    /// sandbox network).
    pub connector: Option<Arc<dyn LinkedInConnector>>,
    /// Told where the server listens, and the first start's key, once it accepts requests.
    pub ready: Option<oneshot::Sender<Ready>>,
}

/// A server that accepts requests.
#[derive(Debug)]
pub struct Ready {
    pub addr: SocketAddr,
    /// The key created on the first start; none on later starts.
    pub key: Option<String>,
}

/// The outreach engine of this process and the clock it runs on: the system clock, or a
/// scaled one for `--time-scale` (refused with a real LinkedIn connector).
pub fn outreach_engine(
    config: &Config,
    store: &Arc<dyn Store>,
    secrets: &outbound_core::secrets::SecretBox,
    time_scale: Option<f64>,
    connector: Arc<dyn LinkedInConnector>,
) -> Result<(Engine, Arc<dyn Clock>)> {
    if time_scale.is_some() && config.linkedin_connector != LinkedInConnectorKind::Sandbox {
        anyhow::bail!(
            "--time-scale runs simulated time, which only the sandbox connector follows; \
             it is refused with linkedin_connector = \"unipile\""
        );
    }
    let seed = u64::try_from(outbound_core::time::now_millis()).unwrap_or_default();
    let engine = Engine::new(
        Arc::clone(store),
        connector,
        config.model_registry(),
        Arc::new(secrets.clone()),
        config.engine_config(seed),
    );
    let clock: Arc<dyn Clock> = match time_scale {
        Some(factor) => Arc::new(ScaledClock::new(outbound_core::time::now_millis(), factor)),
        None => Arc::new(SystemClock),
    };
    Ok((engine, clock))
}

pub async fn run(config: &Config, options: ServeOptions) -> Result<()> {
    let time_scale = options.time_scale;
    // Resolve the master key before touching the database, so that a PostgreSQL deployment
    // without one fails before doing anything.
    let secrets = config.secret_box()?;
    let store = super::connect_migrated(config).await?;
    let backend = store.backend();
    let connector = match options.connector {
        Some(connector) => connector,
        None => config.linkedin()?,
    };
    let (engine, clock) =
        outreach_engine(config, &store, &secrets, time_scale, Arc::clone(&connector))?;
    let first_start = bootstrap(store.as_ref()).await?;

    let listener = TcpListener::bind(&config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let signal = shutdown_signal().context("cannot install the signal handlers")?;

    tracing::info!(
        addr = %local,
        backend,
        database = %config.redacted_database_url(),
        providers = ?config.configured_providers(),
        "listening"
    );
    let base = welcome::base_url(local);
    eprintln!("{}", welcome::summary(config, &base, time_scale));
    if let Some((team, key)) = &first_start {
        eprintln!("{}", welcome::first_steps(&base, team, key));
    }

    let dispatcher = Dispatcher::new(
        Arc::clone(&store),
        Arc::new(secrets.clone()),
        config.webhook_config(),
    )
    .context("cannot start the webhook dispatcher")?;
    let (dispatcher_stop, dispatcher_stopped) = oneshot::channel::<()>();
    // The dispatcher stops when told to, or when the sender is dropped (the server failed).
    let dispatcher = tokio::spawn(dispatcher.run(async move {
        let _ = dispatcher_stopped.await;
    }));

    // The API reads the engine's time, so analytics follow a scaled clock too.
    let api_clock = Arc::clone(&clock);
    let api_now: outbound_api::Now = Arc::new(move || api_clock.now());
    let (engine_stop, mut engine_stopped) = tokio::sync::watch::channel(false);
    let outreach = tokio::spawn(engine.run(clock, DEFAULT_POLL, async move {
        let _ = engine_stopped.changed().await;
    }));

    let (imports_stop, mut imports_stopped) = tokio::sync::watch::channel(false);
    let imports = tokio::spawn(outbound_engine::imports::run_imports(
        Arc::clone(&store),
        outbound_engine::imports::DEFAULT_POLL_INTERVAL,
        async move {
            let _ = imports_stopped.changed().await;
        },
    ));

    let mut searches_stopped = imports_stop.subscribe();
    let searches = tokio::spawn(outbound_engine::sales_navigator::run_sales_navigator(
        Arc::clone(&store),
        connector,
        Arc::new(secrets.clone()),
        outbound_engine::sales_navigator::DEFAULT_POLL_INTERVAL,
        async move {
            let _ = searches_stopped.changed().await;
        },
    ));

    let mut settings = config.api_settings(Arc::clone(&api_now));
    settings.dashboard = Some(outbound_dashboard::router(
        Arc::clone(&store),
        config.dashboard_settings(api_now, secrets.clone()),
    ));
    let app = outbound_api::app(store, secrets, settings);
    if let Some(ready) = options.ready {
        // A caller that stopped listening does not need to know.
        let _ = ready.send(Ready {
            addr: local,
            key: first_start.map(|(_, key)| key),
        });
    }
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let name = signal.await;
        tracing::info!(
            signal = name,
            "shutting down: finishing in-flight requests and webhook attempts"
        );
        // The receivers only go away when the process is exiting anyway.
        let _ = dispatcher_stop.send(());
        let _ = imports_stop.send(true);
        let _ = engine_stop.send(true);
        let _ = stopping_tx.send(());
    });
    let deadline = async {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let served = tokio::select! {
        served = server => served.context("the HTTP server failed"),
        () = deadline => {
            tracing::warn!(
                grace = ?SHUTDOWN_GRACE,
                "requests still running after the shutdown grace period; exiting anyway"
            );
            Ok(())
        }
    };
    wait_for_dispatcher(dispatcher).await;
    wait_for_dispatcher(imports).await;
    wait_for_dispatcher(searches).await;
    wait_for_dispatcher(outreach).await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for a stopping background worker (webhook dispatcher, import worker) to finish what it
/// has in flight, for at most [`SHUTDOWN_GRACE`]; work cut short is done again by the next
/// process.
pub async fn wait_for_dispatcher(dispatcher: tokio::task::JoinHandle<()>) {
    match tokio::time::timeout(SHUTDOWN_GRACE, dispatcher).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "the webhook dispatcher failed"),
        Err(_) => tracing::warn!(
            grace = ?SHUTDOWN_GRACE,
            "webhook attempts still running after the shutdown grace period; exiting anyway"
        ),
    }
}

/// Creates the first team and key on an empty database and prints the key once, alone on its
/// line of stdout; returns them (none on a database that has teams).
async fn bootstrap(store: &dyn outbound_store::Store) -> Result<Option<(Team, String)>> {
    let key = generate_api_key();
    let created = store
        .bootstrap_team(
            BOOTSTRAP_TEAM,
            BOOTSTRAP_PLAN,
            BOOTSTRAP_KEY,
            &hash_api_key(&key),
        )
        .await
        .context("cannot create the first team")?;
    let Some(team) = created else {
        return Ok(None);
    };
    tracing::info!(team = %team.id, "first start: created team `{BOOTSTRAP_TEAM}` with an API key");
    let mut out = std::io::stdout().lock();
    writeln!(out, "API key: {key}")
        .and_then(|()| out.flush())
        .context("cannot write the API key to stdout")?;
    Ok(Some((team, key)))
}

/// A future that resolves with the signal's name on SIGINT or SIGTERM. The handlers are
/// installed now, so a signal that arrives before the future is polled is not lost.
#[cfg(unix)]
pub fn shutdown_signal() -> Result<impl Future<Output = &'static str>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        }
    })
}

/// A future that resolves on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> Result<impl Future<Output = &'static str>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        "Ctrl-C"
    })
}
