//! Leases that live: a slow attempt renews its lease while it runs, so it is never taken for an
//! orphan and run twice; an attempt that lost its run records nothing.

use crate::support::{Backend, Options, TestApp, sid};
use async_trait::async_trait;
use caly_core::pipeline::runs;
use caly_core::pipeline::{Lane, Stage, StageError, StageOutcome, StageRegistry, StageSpec};
use caly_core::{App, CallId, StageName, StageRunId};
use caly_entities::{call, stage_run};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const SLOW: StageName = StageName::new("slow");
const LEASE: Duration = Duration::from_millis(600);

/// Runs for three leases, counting its runs.
#[derive(Default, Clone)]
struct Slow(Arc<AtomicU32>);

#[async_trait]
impl Stage for Slow {
    type Subject = call::Model;

    fn spec(&self) -> StageSpec {
        StageSpec {
            name: SLOW,
            follow_ups: &[],
            timeout: Duration::from_secs(30),
            max_attempts: Some(5),
            lane: Lane::Batch,
            call_key: Some(|call| format!("{call}:slow")),
        }
    }

    async fn run(
        &self,
        _app: &App,
        _run: &stage_run::Model,
        call: call::Model,
        _now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(LEASE * 3).await;
        Ok(StageOutcome::note(Some(CallId(call.id)), "slow but done"))
    }
}

async fn a_stage_three_times_longer_than_its_lease_runs_once(backend: Backend) {
    let slow = Slow::default();
    let app = TestApp::spawn_opts(
        backend,
        Options {
            stages: Some(StageRegistry::builtin().with(slow.clone())),
            lease: LEASE,
            ..Options::default()
        },
    )
    .await;
    let s = sid(9100);
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 30}),
    )
    .await;
    app.drain().await;
    let call = app.call_by_sid(&s).await;
    let (code, _) = app
        .api_post(&format!("/api/v1/calls/{}/stages/slow/replay", call.id))
        .await;
    assert_eq!(code, 200);
    // `drain` runs the dispatcher, and so the orphan sweep, every few milliseconds meanwhile.
    app.drain().await;
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq(SLOW.as_str()))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((run.status.as_str(), run.attempts), ("succeeded", 1));
    assert_eq!(slow.0.load(Ordering::SeqCst), 1, "ran exactly once");
    app.stop().await;
}

async fn only_the_owner_of_a_run_records_its_result(backend: Backend) {
    let app = TestApp::spawn_opts(
        backend,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    app.post_json(
        "status",
        &json!({"CallSid": sid(9200), "Status": "completed", "ConversationDuration": 5}),
    )
    .await;
    let id = StageRunId(
        stage_run::Entity::find()
            .one(&app.app.db)
            .await
            .unwrap()
            .unwrap()
            .id,
    );
    let db = &app.app.db;
    let t = Utc::now();
    // The first worker claims it, then stalls past its lease; the run is taken back and
    // claimed again by a second worker.
    let first = runs::claim(db, id, Duration::from_secs(1), t)
        .await
        .unwrap()
        .unwrap();
    let later = t + chrono::Duration::seconds(5);
    assert_eq!(
        runs::recover_orphans(db, &runs::AttemptLimits::uniform(5), later)
            .await
            .unwrap(),
        1
    );
    let second = runs::claim(db, id, Duration::from_secs(60), later)
        .await
        .unwrap()
        .unwrap();
    // The first worker wakes up: its heartbeat and its success are refused.
    let until = later + chrono::Duration::seconds(60);
    assert!(!runs::heartbeat(db, &first, until).await.unwrap());
    assert!(
        !runs::succeed(db, &first, "stale", None, later)
            .await
            .unwrap()
    );
    let row = stage_run::Entity::find_by_id(id.0)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("running", 2));
    assert!(runs::heartbeat(db, &second, until).await.unwrap());
    assert!(
        runs::succeed(db, &second, "done", None, later)
            .await
            .unwrap()
    );
    app.stop().await;
}

both_backends!(
    a_stage_three_times_longer_than_its_lease_runs_once,
    only_the_owner_of_a_run_records_its_result,
);
