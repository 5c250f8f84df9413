//! Two scheduler replicas never both run the dispatcher or the same cron tick, and cron ticks
//! missed during downtime are caught up by each job's rule.

use crate::support::{Backend, Options, TestApp};
use async_trait::async_trait;
use caly_core::pipeline::stages::vacuum_queue;
use caly_core::pipeline::{
    Lane, PlatformSubject, Stage, StageError, StageOutcome, StageRegistry, StageSpec,
};
use caly_core::{App, StageName};
use caly_entities::{scheduler_lock, stage_run};
use caly_scheduler::{CatchUp, CronJob, cron_tick};
use chrono::{Timelike, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TALLY: StageName = StageName::new("tally");

/// An hourly job that must run for every hour (like invoices for every month): notes each tick.
#[derive(Default, Clone)]
struct Tally(Arc<Mutex<Vec<String>>>);

#[async_trait]
impl Stage for Tally {
    type Subject = PlatformSubject;

    fn spec(&self) -> StageSpec {
        StageSpec {
            name: TALLY,
            follow_ups: &[],
            timeout: Duration::from_secs(30),
            max_attempts: None,
            lane: Lane::Batch,
            call_key: None,
        }
    }

    async fn run(
        &self,
        _app: &App,
        _run: &stage_run::Model,
        subject: PlatformSubject,
        _now: chrono::DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let tick = subject.scheduled_for.expect("a cron run knows its tick");
        assert_eq!((tick.minute(), tick.second()), (0, 0), "on the hour");
        self.0.lock().unwrap().push(subject.key);
        Ok(StageOutcome::note(None, "tallied"))
    }
}

async fn replicas_never_double_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = Utc::now();
    let (a, b) = tokio::join!(
        caly_scheduler::dispatch_tick(&app.app, "replica-a", now),
        caly_scheduler::dispatch_tick(&app.app, "replica-b", now),
    );
    let ran = [a.unwrap().is_some(), b.unwrap().is_some()];
    assert_eq!(
        ran.iter().filter(|r| **r).count(),
        1,
        "exactly one dispatched: {ran:?}"
    );
    let holder = if ran[0] { "replica-a" } else { "replica-b" };
    let other = if ran[0] { "replica-b" } else { "replica-a" };
    // The holder keeps its lease on the next tick; the other still waits.
    assert!(
        caly_scheduler::dispatch_tick(&app.app, holder, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        caly_scheduler::dispatch_tick(&app.app, other, now)
            .await
            .unwrap()
            .is_none()
    );
    // Once the lease lapses (the holder died), the other takes over.
    let later = now + chrono::Duration::minutes(5);
    assert!(
        caly_scheduler::dispatch_tick(&app.app, other, later)
            .await
            .unwrap()
            .is_some()
    );

    app.stop().await;
}

async fn missed_cron_ticks_are_caught_up_by_their_rule(backend: Backend) {
    let tally = Tally::default();
    let app = TestApp::spawn_opts(
        backend,
        Options {
            stages: Some(StageRegistry::builtin().with(tally.clone())),
            ..Options::default()
        },
    )
    .await;
    let jobs = [
        CronJob::new(TALLY, "0 0 * * * *", CatchUp::EveryMissed),
        CronJob::new(vacuum_queue::NAME, "0 */5 * * * *", CatchUp::LatestOnly),
    ];
    let now = Utc::now();
    let before = now - chrono::Duration::hours(3);
    // Two schedulers run at `before`: each job's tick runs once.
    let (a, b) = tokio::join!(
        cron_tick(&app.app, &jobs, before),
        cron_tick(&app.app, &jobs, before)
    );
    a.unwrap();
    b.unwrap();
    app.drain().await;
    assert_eq!(tally.0.lock().unwrap().len(), 1);

    // Three hours of downtime; two schedulers come back at once.
    let (a, b) = tokio::join!(
        cron_tick(&app.app, &jobs, now),
        cron_tick(&app.app, &jobs, now)
    );
    a.unwrap();
    b.unwrap();
    app.drain().await;
    let mut keys = tally.0.lock().unwrap().clone();
    assert_eq!(keys.len(), 4, "every missed hour, once each: {keys:?}");
    keys.dedup();
    assert_eq!(keys.len(), 4, "no tick ran twice");

    // The vacuum only catches up its latest tick, and its runs really ran.
    let vacuums = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq(vacuum_queue::NAME.as_str()))
        .all(&app.app.db)
        .await
        .unwrap();
    assert_eq!(vacuums.len(), 2, "{vacuums:?}");
    assert!(
        vacuums
            .iter()
            .all(|r| r.status == "succeeded" && r.tenant_id == 0)
    );

    // Nothing piles up in the lock table.
    let cron_locks = scheduler_lock::Entity::find()
        .filter(scheduler_lock::Column::Name.starts_with("cron:"))
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(cron_locks, 0);
    app.stop().await;
}

both_backends!(
    replicas_never_double_run,
    missed_cron_ticks_are_caught_up_by_their_rule
);
