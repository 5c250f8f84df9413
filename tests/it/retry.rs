//! Failed work is easy to deal with: listed by stage, time and error; retried in bulk by an
//! operator (CLI, across tenants, full error text) or by a tenant (API, its own runs only,
//! stable codes); and the object store reads recordings back.

use crate::support::exotel::RECORDING_BYTES;
use crate::support::process::run_caly;
use crate::support::{Backend, TestApp, sid};
use caly_entities::recording;
use sea_orm::EntityTrait;
use serde_json::json;

async fn failed_runs_are_listed_and_retried_in_bulk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let broken = sid(9500);
    let refused = sid(9501);
    let record = |s: &str, url: String| json!({"CallSid": s, "Status": "completed", "ConversationDuration": 5, "RecordingUrl": url});
    app.post_json(
        "status",
        &record(&broken, app.exotel.url("broken", &broken)),
    )
    .await;
    let elsewhere = app
        .exotel
        .url("ok", &refused)
        .replace("127.0.0.1", "localhost");
    app.post_json("status", &record(&refused, elsewhere)).await;
    app.drain().await;

    // Tenants filter by stage, time and what they can see (codes and sentences).
    let (_, all) = app
        .api_get("/api/v1/stage-runs/failed?stage=recording_upload&since=1h")
        .await;
    assert_eq!(all["total"], 2, "{all}");
    let (_, unavailable) = app
        .api_get("/api/v1/stage-runs/failed?error_contains=could+not+be+reached")
        .await;
    assert_eq!(unavailable["total"], 1);
    assert_eq!(unavailable["items"][0]["call_sid"], broken);
    let (_, none) = app.api_get("/api/v1/stage-runs/failed?stage=charge").await;
    assert_eq!(none["total"], 0);
    let (_, future) = app
        .api_get("/api/v1/stage-runs/failed?since=2099-01-01")
        .await;
    assert_eq!(future["total"], 0);
    let (code, bad) = app
        .api_get("/api/v1/stage-runs/failed?since=yesterday")
        .await;
    assert_eq!(
        (code, bad["error"]["code"].as_str()),
        (400, Some("invalid_time"))
    );

    // Operators see the full text, across tenants, and retry what matches.
    let (ok, out) = run_caly(&app, &["runs", "failed", "--stage", "recording_upload"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("2 failed run(s)") && out.contains("answered 500"),
        "{out}"
    );
    app.exotel.heal();
    let (ok, out) = run_caly(
        &app,
        &[
            "runs",
            "retry",
            "--stage",
            "recording_upload",
            "--error-contains",
            "ANSWERED 500",
            "--since",
            "1h",
        ],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("re-armed 1 recording_upload run(s)"), "{out}");
    app.drain().await;
    let stored = recording::Entity::find().all(&app.app.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    // The object store reads it back.
    let bytes = app.app.store.read_all(&stored[0].object_key).await.unwrap();
    assert_eq!(bytes, RECORDING_BYTES);
    assert!(app.app.store.read_all("tenants/0/missing").await.is_err());

    // A filter that matches nothing re-arms nothing; an unknown stage is refused.
    let (ok, out) = run_caly(
        &app,
        &[
            "runs",
            "retry",
            "--stage",
            "recording_upload",
            "--tenant",
            "999",
        ],
    )
    .await;
    assert!(ok && out.contains("re-armed 0"), "{out}");
    let (ok, out) = run_caly(&app, &["runs", "retry", "--stage", "transcode"]).await;
    assert!(!ok && out.contains("ingest, recording_upload"), "{out}");

    // Through the API, always within the caller's tenant.
    let other = app.other_tenant().await;
    let body = json!({"stage": "recording_upload", "error_contains": "address_refused"});
    let (code, theirs) = app
        .api_post_json_as(&other.api_key, "/api/v1/stage-runs/retry", &body)
        .await;
    assert_eq!(
        (code, theirs["retried"].as_i64()),
        (200, Some(0)),
        "{theirs}"
    );
    let (code, mine) = app.api_post_json("/api/v1/stage-runs/retry", &body).await;
    assert_eq!((code, mine["retried"].as_i64()), (200, Some(1)), "{mine}");
    app.drain().await;
    let (_, still) = app.api_get("/api/v1/stage-runs/failed").await;
    assert_eq!(still["total"], 1, "refused again: {still}");
    assert_eq!(still["items"][0]["error"]["code"], "address_refused");

    // Bad requests are clear 4xx.
    for (body, status, code) in [
        (json!({"error_contains": "x"}), 422, "missing_field"),
        (json!({"stage": "transcode"}), 400, "unknown_stage"),
        (
            json!({"stage": "charge", "sinse": "1h"}),
            400,
            "invalid_json",
        ),
        (
            json!({"stage": "charge", "since": "soon"}),
            400,
            "invalid_time",
        ),
    ] {
        let (got, answer) = app.api_post_json("/api/v1/stage-runs/retry", &body).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    app.stop().await;
}

both_backends!(failed_runs_are_listed_and_retried_in_bulk);
