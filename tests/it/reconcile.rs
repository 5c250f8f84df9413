//! Lost or incomplete status callbacks are reconciled through Exotel's Call Details API.

use crate::support::{Backend, Options, TestApp, sid};
use caly_core::platform::settings::ReconcileSettings;
use caly_entities::{recording, stage_run};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::time::Duration;

async fn reconciling_app(backend: Backend, window: Duration) -> TestApp {
    TestApp::spawn_opts(
        backend,
        Options {
            reconcile: Some(ReconcileSettings {
                delay: Duration::ZERO,
                max_interval: Duration::ZERO,
                window,
            }),
            ..Options::default()
        },
    )
    .await
}

async fn a_lost_status_callback_is_reconciled(backend: Backend) {
    let app = reconciling_app(backend, Duration::from_secs(600)).await;
    let s = sid(1);
    // Exotel fills in the status, then the duration and recording, some time after hang-up.
    app.exotel.script_details(
        &s,
        vec![
            json!({"Call": {"Sid": s, "Status": "in-progress", "Duration": null}}),
            json!({"Call": {"Sid": s, "Status": "completed", "Duration": null}}),
            json!({"Call": {"Sid": s, "Status": "completed", "StartTime": "2026-11-20 10:48:33",
                "EndTime": "2026-11-20 10:50:50", "Duration": "137", "From": "09876543210",
                "Direction": "inbound", "RecordingUrl": app.exotel.url("ok", &s),
                "Details": {"ConversationDuration": 125, "Legs": [{"Leg": {"Id": 1, "OnCallDuration": 137}}]}}}),
        ],
    );
    // Only the Passthru at the start of the call ever arrives.
    app.passthru_get(&[
        ("CallSid", &s),
        ("CallType", "call-attempt"),
        ("CallFrom", "09876543210"),
    ])
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(c.state, "completed");
    assert_eq!(c.duration_source.as_deref(), Some("conversation_duration"));
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(3 * 3000))
    );
    assert_eq!(app.count::<recording::Entity>().await, 1);
    assert_eq!(
        app.exotel.details_hits("acme1", &s),
        3,
        "polled until Exotel had it all"
    );
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq("reconcile"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (run.status.as_str(), run.attempts, run.polls),
        ("succeeded", 1, 2),
        "two polls found the call unfinished; no attempt was used up"
    );
    app.stop().await;
}

async fn a_call_left_without_duration_is_reconciled(backend: Backend) {
    let app = reconciling_app(backend, Duration::from_secs(600)).await;
    let s = sid(2);
    app.exotel.script_details(
        &s,
        vec![json!({"Call": {"Sid": s, "Status": "completed", "Duration": "61"}})],
    );
    app.post_json("status", &json!({"CallSid": s, "Status": "completed"}))
        .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(6000))
    );
    assert_eq!(c.duration_source.as_deref(), Some("caller_leg_on_call"));
    assert_eq!(app.charge_count().await, 1);
    app.stop().await;
}

async fn reconciliation_gives_up_visibly_after_its_window(backend: Backend) {
    let app = reconciling_app(backend, Duration::ZERO).await;
    let s = sid(3);
    app.exotel.script_details(
        &s,
        vec![json!({"Call": {"Sid": s, "Status": "in-progress"}})],
    );
    app.passthru_get(&[("CallSid", &s), ("CallType", "call-attempt")])
        .await;
    app.drain().await;
    let (_, failed) = app.api_get("/api/v1/stage-runs/failed").await;
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["stage"], "reconcile");
    assert_eq!(failed["items"][0]["error"]["code"], "exotel_never_ready");
    let run = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq("reconcile"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let error = run.last_error.unwrap();
    assert!(
        error.contains("in-progress") && error.contains("gave up"),
        "{error}"
    );
    assert_eq!(app.call_by_sid(&s).await.state, "in_progress");
    app.stop().await;
}

async fn a_forty_minute_call_whose_final_callback_is_lost_is_reconciled(backend: Backend) {
    // No patience at all: each poll that finds the call unfinished ends the window...
    let app = reconciling_app(backend, Duration::ZERO).await;
    let s = sid(4);
    app.exotel.script_details(
        &s,
        vec![
            json!({"Call": {"Sid": s, "Status": "in-progress"}}),
            json!({"Call": {"Sid": s, "Status": "completed", "StartTime": "2026-11-20 10:00:00",
                "EndTime": "2026-11-20 10:40:00", "Duration": "2400",
                "Details": {"ConversationDuration": 2395}}}),
        ],
    );
    // Minute 0: the call comes in. Exotel says it is in progress; the window closes.
    app.passthru_get(&[("CallSid", &s), ("CallType", "call-attempt")])
        .await;
    app.drain().await;
    let run = reconcile_run(&app).await;
    assert_eq!(run.status, "failed");
    // Minute 38: the flow passes another applet. ...but every event re-arms reconcile, and
    // the call's final callback never comes.
    app.passthru_get(&[
        ("CallSid", &s),
        ("CallType", "call-attempt"),
        ("digits", "\"2\""),
    ])
    .await;
    app.drain().await;
    let c = app.call_by_sid(&s).await;
    assert_eq!(c.state, "completed");
    assert_eq!(
        (c.billing_status.as_str(), c.cost_paise),
        ("charged", Some(40 * 3000))
    );
    assert_eq!(reconcile_run(&app).await.status, "succeeded");
    assert_eq!(app.exotel.details_hits("acme1", &s), 2);
    app.stop().await;
}

async fn reconcile_run(app: &TestApp) -> stage_run::Model {
    stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq("reconcile"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap()
}

both_backends!(
    a_forty_minute_call_whose_final_callback_is_lost_is_reconciled,
    a_lost_status_callback_is_reconciled,
    a_call_left_without_duration_is_reconciled,
    reconciliation_gives_up_visibly_after_its_window,
);
