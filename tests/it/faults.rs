//! The spine under faults, on PostgreSQL + Redis + s3s-fs with real `caly worker` processes:
//! a worker killed mid-stage, a graceful stop, and a lost Redis.

use crate::support::process::{WorkerProcess, wait_until};
use crate::support::{Backend, Options, TestApp, sid};
use caly_entities::{call, recording, stage_run};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::json;

async fn idle_app() -> TestApp {
    TestApp::spawn_opts(
        Backend::Production,
        Options {
            workers: false,
            // Jobs a dead worker fetched but never claimed are pushed again after this.
            redispatch_after: std::time::Duration::from_secs(2),
            ..Options::default()
        },
    )
    .await
}

async fn stage_status(app: &TestApp, sid: &str, stage: &str) -> Option<String> {
    stage_run::Entity::find()
        .filter(stage_run::Column::CallSid.eq(sid))
        .filter(stage_run::Column::Stage.eq(stage))
        .one(&app.app.db)
        .await
        .unwrap()
        .map(|r| r.status.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_recording_upload_another_finishes_once() {
    let app = idle_app().await;
    let mut first = WorkerProcess::spawn(&app, "first", 2);
    let s = sid(1);
    let rec = app.exotel.url("stall", &s);
    let r = app
        .post_json("status", &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 30, "RecordingUrl": rec}))
        .await;
    assert_eq!(r.status(), 200);
    // The first worker is now in the middle of the download.
    wait_until("the download to start", || async {
        app.exotel.hits("stall", &s) == 1
    })
    .await;
    first.kill();
    app.exotel.release();

    let _second = WorkerProcess::spawn(&app, "second", 2);
    app.drain().await; // recovers the orphan once its 2 s lease lapses
    assert_eq!(
        stage_status(&app, &s, "recording_upload").await.as_deref(),
        Some("succeeded")
    );
    assert_eq!(app.count::<recording::Entity>().await, 1);
    assert_eq!(app.exotel.hits("stall", &s), 2);
    let stored = recording::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(app.app.store.exists(&stored.object_key).await.unwrap());
    assert_eq!(app.charge_count().await, 1);
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq("recording_upload"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.attempts, 2);
    assert!(run.last_error.unwrap().contains("lease expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_killed_mid_charge_another_charges_exactly_once() {
    let app = idle_app().await;
    let mut first = WorkerProcess::spawn(&app, "first", 2);
    // Hold the tenant row: the charge transaction (charge row inserted, balance update next)
    // blocks right in its middle.
    let blocker = app.app.db.begin().await.unwrap();
    blocker
        .execute_unprepared(&format!(
            "SELECT id FROM tenants WHERE id = {} FOR UPDATE",
            app.tenant.tenant.id
        ))
        .await
        .unwrap();
    let s = sid(2);
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 61}),
    )
    .await;
    wait_until("the charge to block on the tenant row", || async {
        let waiting = app
            .app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND datname = current_database() AND query LIKE 'UPDATE \"tenants\"%'",
            ))
            .await
            .unwrap()
            .unwrap();
        waiting.try_get::<i64>("", "n").unwrap() == 1
    })
    .await;
    first.kill();
    blocker.rollback().await.unwrap();

    let _second = WorkerProcess::spawn(&app, "second", 2);
    app.drain().await;
    let charges = app.ledger().await;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].amount_paise, 6000);
    let tenant = caly_entities::tenant::Entity::find_by_id(app.tenant.tenant.id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.balance_paise, 6000, "charged exactly once");
    let c = call::Entity::find()
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(6000))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_work_takes_no_new_work_and_a_restart_continues() {
    let app = idle_app().await;
    let mut first = WorkerProcess::spawn(&app, "first", 60);
    let s1 = sid(3);
    let rec = app.exotel.url("stall", &s1);
    app.post_json("status", &json!({"CallSid": s1, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}))
        .await;
    wait_until("the download to start", || async {
        app.exotel.hits("stall", &s1) == 1
    })
    .await;
    first.terminate();
    first.wait_for_log("stop signal received").await;
    // Work arriving after the signal waits for the next worker.
    let s2 = sid(4);
    app.post_json(
        "status",
        &json!({"CallSid": s2, "Status": "completed", "ConversationDuration": 5}),
    )
    .await;
    app.exotel.release();
    let status = first.wait();
    assert!(status.success(), "graceful exit: {}", first.log_text());
    assert_eq!(
        stage_status(&app, &s1, "recording_upload").await.as_deref(),
        Some("succeeded")
    );
    assert_eq!(app.exotel.hits("stall", &s1), 1, "finished, not retried");
    assert_eq!(
        stage_status(&app, &s2, "ingest").await.as_deref(),
        Some("pending")
    );

    let _second = WorkerProcess::spawn(&app, "second", 60);
    app.drain().await;
    assert_eq!(
        stage_status(&app, &s2, "charge").await.as_deref(),
        Some("succeeded")
    );
    assert_eq!(app.charge_count().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_worker_processes_share_the_queues() {
    let app = idle_app().await;
    let workers: Vec<_> = (0..2)
        .map(|i| WorkerProcess::spawn(&app, &format!("w{i}"), 60))
        .collect();
    for n in 0..40 {
        app.post_json(
            "status",
            &json!({"CallSid": sid(100 + n), "Status": "completed", "ConversationDuration": 60}),
        )
        .await;
    }
    app.drain().await;
    assert_eq!(app.charge_count().await, 40);
    let runs = stage_run::Entity::find().all(&app.app.db).await.unwrap();
    assert!(runs.iter().all(|r| r.attempts == 1), "no stage ran twice");
    for worker in &workers {
        assert!(
            worker.log_text().contains("stage succeeded"),
            "every process did some of the work"
        );
    }
}
