//! Wires apalis workers: one worker per stage queue, each with its concurrency limit and panic
//! catching, all under one monitor that stops gracefully (in-flight jobs finish) on a signal.

use apalis::prelude::*;
use caly_core::App;
use caly_core::pipeline::runner;
use caly_jobs::{StageJob, StageName};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a worker process consumes.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The stage queues to consume (names from the app's stage registry).
    pub stages: Vec<StageName>,
    /// Jobs in flight per queue.
    pub concurrency: usize,
    /// How long to wait for in-flight jobs after the stop signal.
    pub shutdown_timeout: Duration,
}

async fn handle(job: StageJob, app: Data<App>) -> Result<(), BoxDynError> {
    if let Err(err) = runner::execute(&app, &job).await {
        // The run stays pending or running; the dispatcher will offer it again.
        tracing::error!(stage_run = %job.stage_run_id(), stage = %job.stage(), error = %err, "job could not be recorded");
    }
    Ok(())
}

/// Runs workers until `shutdown` resolves, then lets in-flight jobs finish.
pub async fn run_workers<S>(app: App, options: WorkerOptions, shutdown: S) -> Result<(), String>
where
    S: Future<Output = std::io::Result<()>> + Send + 'static,
{
    // A live stage hands its follow-up on within this worker when the worker runs it too.
    let app = app.consuming(&options.stages);
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let stop = CancellationToken::new();
    let beating = tokio::spawn(beat_until(
        app.clone(),
        format!("{}-{}", caly_core::app::node_name(), &instance[..8]),
        options.stages.iter().map(|s| s.to_string()).collect(),
        stop.clone(),
    ));
    let mut live = Vec::new();
    let mut batch = 0;
    let mut monitor = Monitor::new().shutdown_timeout(options.shutdown_timeout);
    for stage in &options.stages {
        if app.queue.is_live(stage) {
            live.push(tokio::spawn(crate::live::consume(
                app.clone(),
                stage.clone(),
                options.concurrency,
                stop.clone(),
                options.shutdown_timeout,
            )));
            continue;
        }
        batch += 1;
        let app = app.clone();
        let stage = stage.clone();
        let concurrency = options.concurrency.max(1);
        let instance = instance.clone();
        // The two backends are different types with the same builder calls.
        macro_rules! register {
            ($storage:expr) => {{
                let storage =
                    $storage.poll_with_interval(caly_core::platform::queue::POLL_INTERVAL);
                let stage = stage.clone();
                monitor.register(move |restarts| {
                    WorkerBuilder::new(format!("{stage}-{instance}-{restarts}"))
                        .backend(storage.clone())
                        .data(app.clone())
                        .concurrency(concurrency)
                        .catch_panic()
                        .parallelize(tokio::spawn)
                        .build(handle)
                })
            }};
        }
        monitor = if let Some(storage) = app.queue.redis_storage(&stage) {
            register!(storage)
        } else if let Some(storage) = app.queue.sqlite_storage(&stage) {
            register!(storage)
        } else {
            monitor
        };
    }
    monitor = monitor.should_restart(|_ctx, _err| true);
    let stopper = stop.clone();
    let signal = async move {
        let result = shutdown.await;
        stopper.cancel();
        result
    };
    let result = if batch > 0 {
        monitor
            .run_with_signal(signal)
            .await
            .map_err(|e| e.to_string())
    } else {
        signal.await.map_err(|e| e.to_string())
    };
    stop.cancel();
    for consumer in live {
        let _ = consumer.await;
    }
    let _ = beating.await;
    result
}

/// Notes this worker in `worker_heartbeats` every few seconds until `stop`, then removes it.
async fn beat_until(app: App, node: String, stages: Vec<String>, stop: CancellationToken) {
    use caly_core::platform::heartbeats;
    let started = chrono::Utc::now();
    let mut ticks = tokio::time::interval(heartbeats::BEAT_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {
                let beat = heartbeats::beat(&app.db, &node, &stages, started, chrono::Utc::now());
                if let Err(error) = beat.await {
                    tracing::warn!(%error, "worker heartbeat not written");
                }
            }
        }
    }
    if let Err(error) = heartbeats::gone(&app.db, &node).await {
        tracing::debug!(%error, "worker heartbeat not removed");
    }
}
