//! The long-running processes: the embedded all-in-one server and the separate api, worker and
//! scheduler processes of a production deployment. Each stops gracefully on SIGTERM or Ctrl-C.

use crate::demo;
use caly_core::App;
use caly_core::pipeline::StageRegistry;
use caly_core::platform::pools::ProcessRole;
use caly_core::platform::settings::Settings;
use caly_jobs::StageName;
use caly_workers::WorkerOptions;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("stop signal received; finishing in-flight work");
}

fn holder_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!("{role}-{host}-{}", std::process::id())
}

/// Starts the api, workers and scheduler sharing one [`App`], until `stop` is cancelled.
pub async fn serve_all(
    app: App,
    listener: tokio::net::TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    // The workers here consume every stage: a voice socket runs its turns' first stage here.
    let stages = app.stages.names();
    let app = app.consuming(&stages);
    tokio::spawn({
        let app = app.clone();
        async move { caly_core::voice::phrases::prewarm(&app).await }
    });
    let api = tokio::spawn(caly_api::serve(
        app.clone(),
        listener,
        stop.clone().cancelled_owned(),
    ));
    let worker_stop = stop.clone();
    let workers = tokio::spawn(caly_workers::run_workers(
        app.clone(),
        WorkerOptions {
            stages: app.stages.names(),
            concurrency: app.settings.worker_concurrency,
            shutdown_timeout: Duration::from_secs(30),
        },
        async move {
            worker_stop.cancelled().await;
            Ok(())
        },
    ));
    let scheduler = tokio::spawn(caly_scheduler::run(
        app.clone(),
        holder_name("scheduler"),
        stop.clone().cancelled_owned(),
    ));
    api.await??;
    workers.await?.map_err(anyhow::Error::msg)?;
    scheduler.await?;
    Ok(())
}

/// `caly run`: the embedded default in one process.
pub async fn run_all() -> anyhow::Result<()> {
    let mut settings = Settings::from_env()?;
    demo::allow_local_recordings(&mut settings);
    warn_of_loopback(&settings);
    let role = StageRegistry::builtin().all_in_one_role(&settings, settings.worker_concurrency);
    let app = App::connect(settings, true, role).await?;
    let listener = tokio::net::TcpListener::bind(&app.settings.bind).await?;
    let (demo, first_start) = demo::announce(&app, listener.local_addr()?).await?;
    println!("speech:\n{}", app.speech.report());
    if let Err(error) = crate::demo_store::start(&app, caly_core::TenantId(demo.tenant_id)).await {
        println!("demo store: not started ({error:#})");
    }
    if first_start {
        crate::demo_calls::seed(demo);
    }
    let stop = CancellationToken::new();
    let signal_stop = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal_stop.cancel();
    });
    serve_all(app, listener, stop).await
}

async fn connect(role: impl FnOnce(&Settings) -> ProcessRole) -> anyhow::Result<App> {
    let settings = Settings::from_env()?;
    let migrate = settings.is_sqlite();
    warn_of_loopback(&settings);
    let role = role(&settings);
    Ok(App::connect(settings, migrate, role).await?)
}

/// Says what `CALY_EGRESS_ALLOW_LOOPBACK` risks when it is on.
fn warn_of_loopback(settings: &Settings) {
    if settings.egress.allow_loopback {
        tracing::warn!(
            "CALY_EGRESS_ALLOW_LOOPBACK is on: a webhook's recording URL or a store's address can \
             make Caly fetch from this machine's own ports. Keep it for a machine only you use \
             (the embedded default, tests); turn it off on a server others' stores use."
        );
    }
}

/// `caly api`.
pub async fn run_api() -> anyhow::Result<()> {
    let app = connect(ProcessRole::api).await?;
    let listener = tokio::net::TcpListener::bind(&app.settings.bind).await?;
    tracing::info!(address = %listener.local_addr()?, "api listening");
    tracing::info!(speech = %app.speech.report(), "speech engines");
    tokio::spawn({
        let app = app.clone();
        async move { caly_core::voice::phrases::prewarm(&app).await }
    });
    caly_api::serve(app, listener, shutdown_signal()).await?;
    Ok(())
}

/// `caly worker`.
pub async fn run_worker(stages: Vec<StageName>, concurrency: usize) -> anyhow::Result<()> {
    let app = connect(|_| StageRegistry::builtin().worker_role(&stages, concurrency)).await?;
    tracing::info!(?stages, concurrency, "worker starting");
    caly_workers::run_workers(
        app,
        WorkerOptions {
            stages,
            concurrency,
            shutdown_timeout: Duration::from_secs(60),
        },
        async {
            shutdown_signal().await;
            Ok(())
        },
    )
    .await
    .map_err(anyhow::Error::msg)
}

/// `caly scheduler`.
pub async fn run_scheduler() -> anyhow::Result<()> {
    let app = connect(|_| ProcessRole::Scheduler).await?;
    caly_scheduler::run(app, holder_name("scheduler"), shutdown_signal()).await;
    Ok(())
}
