//! The outbound policy, end to end: each refusal stops the stage before anything is fetched
//! (or, for the size cap and timeouts, before a byte is stored), and tenants see a stable code.

use crate::support::{Backend, Options, TestApp, loopback_egress, sid};
use caly_core::platform::egress::EgressSettings;
use caly_core::platform::settings::ReconcileSettings;
use caly_entities::{recording, stage_run, tenant};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::time::Duration;

fn egress(change: impl FnOnce(&mut EgressSettings)) -> EgressSettings {
    let mut settings = loopback_egress();
    change(&mut settings);
    settings
}

async fn app_with(backend: Backend, egress: EgressSettings) -> TestApp {
    TestApp::spawn_opts(
        backend,
        Options {
            egress: Some(egress),
            reconcile: Some(ReconcileSettings {
                delay: Duration::ZERO,
                max_interval: Duration::ZERO,
                window: Duration::ZERO,
            }),
            ..Options::default()
        },
    )
    .await
}

/// The one failed run of `stage`: its tenant view and its internal error.
async fn failed(app: &TestApp, stage: &str) -> (Value, String) {
    let (_, list) = app
        .api_get(&format!("/api/v1/stage-runs/failed?stage={stage}"))
        .await;
    assert_eq!(list["total"], 1, "{list}");
    let view = list["items"][0].clone();
    let row = stage_run::Entity::find_by_id(view["id"].as_i64().unwrap())
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    (view, row.last_error.unwrap())
}

async fn send_recorded_call(app: &TestApp, n: u32, mode: &str) -> String {
    let s = sid(n);
    let rec = app.exotel.url(mode, &s);
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}),
    )
    .await;
    app.drain().await;
    s
}

async fn loopback_is_refused_when_its_switch_is_off(backend: Backend) {
    let app = app_with(backend, egress(|e| e.allow_loopback = false)).await;
    let s = send_recorded_call(&app, 9300, "ok").await;
    let (view, internal) = failed(&app, "recording_upload").await;
    assert_eq!(view["error"]["code"], "address_refused");
    assert_eq!(view["attempts"], 1, "permanent");
    assert!(
        internal.contains("scheme 'http' is not https"),
        "{internal}"
    );
    assert_eq!(app.exotel.hits("ok", &s), 0, "nothing was fetched");

    // The Call Details request is refused the same way.
    let s = sid(9301);
    app.passthru_get(&[("CallSid", &s), ("CallType", "call-attempt")])
        .await;
    app.drain().await;
    let (view, internal) = failed(&app, "reconcile").await;
    assert_eq!(view["error"]["code"], "address_refused");
    assert!(internal.contains("not https"), "{internal}");
    assert_eq!(app.exotel.details_hits("acme1", &s), 0);
    app.stop().await;
}

async fn a_port_off_the_list_is_refused(backend: Backend) {
    // With the loopback switch off, 127.0.0.1 is just a listed host: https, but port 8443.
    let app = app_with(backend, egress(|e| e.allow_loopback = false)).await;
    let s = sid(9310);
    let rec = format!("https://127.0.0.1:8443/exotelrecordings/ok/{s}.mp3");
    app.post_json(
        "status",
        &json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": rec}),
    )
    .await;
    app.drain().await;
    let (view, internal) = failed(&app, "recording_upload").await;
    assert_eq!(view["error"]["code"], "address_refused");
    assert!(internal.contains("port 8443 is not allowed"), "{internal}");
    app.stop().await;
}

async fn a_download_over_the_size_cap_is_refused(backend: Backend) {
    let app = app_with(backend, egress(|e| e.max_download_bytes = 8)).await;
    let s = send_recorded_call(&app, 9320, "ok").await;
    let (view, internal) = failed(&app, "recording_upload").await;
    assert_eq!(view["error"]["code"], "too_large");
    assert_eq!(view["attempts"], 1, "permanent");
    assert!(internal.contains("larger than 8 bytes"), "{internal}");
    assert_eq!(app.exotel.hits("ok", &s), 1);
    assert_eq!(app.count::<recording::Entity>().await, 0);
    app.stop().await;
}

async fn a_host_that_stops_sending_hits_the_read_timeout(backend: Backend) {
    let app = app_with(
        backend,
        egress(|e| e.read_timeout = Duration::from_millis(300)),
    )
    .await;
    let s = send_recorded_call(&app, 9330, "stall").await;
    let (view, internal) = failed(&app, "recording_upload").await;
    assert_eq!(view["error"]["code"], "exotel_unavailable");
    assert_eq!(view["attempts"], 3, "retried, then failed");
    assert!(internal.contains("request failed"), "{internal}");
    assert_eq!(app.exotel.hits("stall", &s), 3);
    app.stop().await;
}

async fn an_exotel_host_off_the_map_is_refused(backend: Backend) {
    let app = app_with(backend, egress(|_| {})).await;
    // A tenant whose Exotel setting names a host that is not one of Exotel's.
    tenant::Entity::update_many()
        .col_expr(
            tenant::Column::ExotelSubdomain,
            Expr::value("attacker.example"),
        )
        .filter(tenant::Column::Id.eq(app.tenant.tenant.id))
        .exec(&app.app.db)
        .await
        .unwrap();
    let s = sid(9340);
    app.passthru_get(&[("CallSid", &s), ("CallType", "call-attempt")])
        .await;
    app.drain().await;
    let (view, internal) = failed(&app, "reconcile").await;
    assert_eq!(view["error"]["code"], "address_refused");
    assert_eq!(view["attempts"], 1, "permanent");
    assert!(
        internal.contains("'attacker.example' is not one of Exotel's API hosts"),
        "{internal}"
    );
    assert_eq!(app.exotel.details_hits("acme1", &s), 0);
    app.stop().await;
}

both_backends!(
    loopback_is_refused_when_its_switch_is_off,
    a_port_off_the_list_is_refused,
    a_download_over_the_size_cap_is_refused,
    a_host_that_stops_sending_hits_the_read_timeout,
    an_exotel_host_off_the_map_is_refused,
);
