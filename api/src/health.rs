//! `/healthz` (the process answers) and `/readyz` (database, queue and object store reachable).

use crate::ApiState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

fn verdict<E: std::fmt::Display>(result: Result<(), E>) -> (bool, String) {
    match result {
        Ok(()) => (true, "ok".into()),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (false, "unreachable".into())
        }
    }
}

async fn readyz(State(ApiState { app }): State<ApiState>) -> impl IntoResponse {
    let (db_ok, db) = verdict(caly_core::platform::db::ping(&app.db).await);
    let (queue_ok, queue) = verdict(app.queue.check().await);
    let (store_ok, store) = verdict(app.store.check().await);
    let ready = db_ok && queue_ok && store_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "not_ready" },
            "database": db,
            "queue": queue,
            "object_store": store,
        })),
    )
}
