//! Caly's scheduler: periodic work that only enqueues or tidies, never does stage work itself.
//! Today: the dispatcher/sweeper (due and orphaned stage runs → queue, bounded) and queue
//! vacuuming on a cron schedule. Backups, invoices and reports join [`maintenance_jobs`].
//! Every periodic job holds a database lease, so replicas never double-run it.
//! Depends on `caly-core`; only the `caly` binary depends on it.

use caly_core::pipeline::dispatch::{self, DispatchReport};
use caly_core::platform::locks;
use caly_core::{App, CoreError};
use chrono::{DateTime, Utc};
use cron::Schedule;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

/// What a cron job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maintenance {
    /// Removes finished jobs from every stage queue.
    VacuumQueue,
}

/// A cron-scheduled maintenance job.
#[derive(Debug, Clone)]
pub struct CronJob {
    /// Lock and log name.
    pub name: &'static str,
    /// Cron expression (seconds first).
    pub schedule: Schedule,
    /// What it does.
    pub task: Maintenance,
}

/// The cron jobs this scheduler runs.
pub fn maintenance_jobs() -> Vec<CronJob> {
    vec![CronJob {
        name: "vacuum_queue",
        schedule: Schedule::from_str("0 */5 * * * *").expect("valid cron expression"),
        task: Maintenance::VacuumQueue,
    }]
}

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

/// Claims one firing of a cron job (identified by its scheduled minute) for `holder`.
/// The lease outlives the tick, so a second replica firing the same tick gets `false`.
pub async fn claim_cron_tick(
    app: &App,
    job: &str,
    tick: DateTime<Utc>,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let lock = format!("cron:{job}:{}", tick.format("%Y%m%d%H%M"));
    Ok(locks::try_acquire(&app.db, &lock, holder, Duration::from_secs(3600), now).await?)
}

async fn run_cron_job(
    app: &App,
    job: &CronJob,
    tick: DateTime<Utc>,
    holder: &str,
) -> Result<(), CoreError> {
    if !claim_cron_tick(app, job.name, tick, holder, Utc::now()).await? {
        return Ok(());
    }
    match job.task {
        Maintenance::VacuumQueue => {
            let removed = app
                .queue
                .vacuum(&app.stages.names(), Duration::from_secs(600))
                .await?;
            tracing::info!(removed, "vacuumed finished jobs from the queue");
        }
    }
    Ok(())
}

/// Runs the scheduler until `shutdown` resolves.
pub async fn run(app: App, holder: String, shutdown: impl Future<Output = ()>) {
    let jobs = maintenance_jobs();
    let mut next_runs: Vec<Option<DateTime<Utc>>> = jobs
        .iter()
        .map(|j| j.schedule.upcoming(Utc).next())
        .collect();
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
        for (job, next) in jobs.iter().zip(next_runs.iter_mut()) {
            if let Some(tick) = next.filter(|at| *at <= now) {
                if let Err(err) = run_cron_job(&app, job, tick, &holder).await {
                    tracing::warn!(job = job.name, error = %err, "cron job failed");
                }
                *next = job.schedule.after(&now).next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_schedules_parse_and_fire() {
        for job in maintenance_jobs() {
            assert!(job.schedule.upcoming(Utc).next().is_some(), "{}", job.name);
        }
    }
}
