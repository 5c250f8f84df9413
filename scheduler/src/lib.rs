//! Caly's scheduler: periodic work that only enqueues or tidies, never does stage work itself.
//! Today: the dispatcher/sweeper (due and orphaned stage runs → queue, bounded, under a
//! database lease so one replica dispatches at a time) and cron jobs, whose ticks become
//! durable stage runs (see [`cron`]), and the analytics rollups settled every
//! [`SETTLE_EVERY`] (pages settle their tenant too; this keeps the rest current). Backups,
//! invoices and reports join [`cron_jobs`].
//! Depends on `caly-core`; only the `caly` binary depends on it.

pub mod cron;

pub use cron::{CatchUp, CronJob, cron_jobs};

use caly_core::pipeline::dispatch::{self, DispatchReport};
use caly_core::platform::locks;
use caly_core::{App, CoreError};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::time::Duration;

/// One dispatcher pass, if this replica holds the dispatch lease.
pub async fn dispatch_tick(
    app: &App,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Option<DispatchReport>, CoreError> {
    let lease = (app.settings.dispatch_interval * 4).max(Duration::from_secs(5));
    if !locks::try_acquire(&app.db, "dispatch", holder, lease, now).await? {
        return Ok(None);
    }
    dispatch::dispatch_due(app, now).await.map(Some)
}

/// Plans due cron ticks as stage runs and pushes them. Safe in every replica at once.
pub async fn cron_tick(app: &App, jobs: &[CronJob], now: DateTime<Utc>) -> Result<(), CoreError> {
    for (stage, id) in cron::plan(app, jobs, now).await? {
        tracing::info!(%stage, stage_run = %id, "cron tick planned");
        dispatch::push_committed(app, &stage, &[id], now).await;
    }
    Ok(())
}

/// How often the scheduler settles the analytics rollups of tenants with pending changes.
pub const SETTLE_EVERY: Duration = Duration::from_secs(15);

/// Tenants settled per pass.
const SETTLE_TENANTS: u64 = 100;

/// Runs the scheduler until `shutdown` resolves.
pub async fn run(app: App, holder: String, shutdown: impl Future<Output = ()>) {
    let jobs = cron_jobs();
    // Planned at start (catching up what was missed), then whenever a tick comes due.
    let mut next_plan = Some(Utc::now());
    let mut next_settle = Utc::now();
    let mut settling: Option<tokio::task::JoinHandle<()>> = None;
    let mut interval = tokio::time::interval(app.settings.dispatch_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = interval.tick() => {}
        }
        let now = Utc::now();
        match dispatch_tick(&app, &holder, now).await {
            Ok(Some(report)) if report.pushed + report.orphans > 0 => {
                tracing::info!(
                    pushed = report.pushed,
                    orphans = report.orphans,
                    "dispatched"
                );
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "dispatch pass failed"),
        }
        // On a task of its own, one pass at a time: a backlog never holds up dispatch.
        if next_settle <= now && settling.as_ref().is_none_or(|task| task.is_finished()) {
            next_settle = now + chrono::Duration::from_std(SETTLE_EVERY).unwrap_or_default();
            let app = app.clone();
            settling = Some(tokio::spawn(async move {
                let pass =
                    caly_core::analytics::settle::settle_pending(&app.db, now, SETTLE_TENANTS);
                if let Err(err) = pass.await {
                    tracing::warn!(error = %err, "settling analytics rollups failed");
                }
            }));
        }
        if next_plan.is_some_and(|at| at <= now) {
            match cron_tick(&app, &jobs, now).await {
                Ok(()) => {
                    next_plan = jobs
                        .iter()
                        .filter_map(|job| job.schedule.after(&now).next())
                        .min();
                }
                Err(err) => tracing::warn!(error = %err, "planning cron ticks failed"),
            }
        }
    }
}
