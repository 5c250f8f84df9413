//! `GET /api/v1/admin/health` (admins): every component's state (database, queue, object store,
//! mail, the store's Shopify and Exotel), the store's stage runs per stage and the worker
//! processes' heartbeats. Answers 200 with `"status": "degraded"` when something is down, so the
//! page can show what.

use crate::access::{Access, Admin};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use caly_core::platform::system_health;
use chrono::Utc;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/admin/health", get(health))
}

async fn health(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
) -> Result<Json<Value>, ApiError> {
    let health = system_health::check(&app, access.tenant_id(), Utc::now()).await?;
    Ok(Json(json!(health)))
}
