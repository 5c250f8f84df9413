//! Live-lane consumers: one loop per live stage takes jobs with a blocking pop (woken the
//! moment a job is pushed) and runs each on its own task, up to the concurrency limit. On the
//! stop signal it stops taking jobs and lets the running ones finish.

use caly_core::App;
use caly_core::pipeline::runner;
use caly_jobs::StageName;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Consumes `stage`'s live queue until `stop`, then waits up to `grace` for running jobs.
pub async fn consume(
    app: App,
    stage: StageName,
    concurrency: usize,
    stop: CancellationToken,
    grace: Duration,
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut consumer = None;
    while !stop.is_cancelled() {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        if consumer.is_none() {
            match app.queue.live_consumer(&stage).await {
                Ok(c) => consumer = Some(c),
                Err(error) => {
                    tracing::warn!(%stage, %error, "live queue unreachable; retrying");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            }
        }
        let popped = tokio::select! {
            () = stop.cancelled() => break,
            popped = consumer.as_mut().expect("just connected").pop() => popped,
        };
        match popped {
            Ok(Some(job)) => {
                let app = app.clone();
                tokio::spawn(async move {
                    if let Err(error) = runner::execute(&app, &job).await {
                        tracing::error!(stage_run = %job.stage_run_id(), stage = %job.stage(), %error, "job could not be recorded");
                    }
                    drop(slot);
                });
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%stage, %error, "live queue pop failed; reconnecting");
                consumer = None;
            }
        }
    }
    let all = u32::try_from(concurrency.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, slots.acquire_many(all)).await;
}
