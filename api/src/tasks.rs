//! Staff tasks the agent recorded: `GET /api/v1/tasks?kind=&status=` and
//! `POST /api/v1/tasks/{id}/close` with `{"note": "…"}`.

use crate::access::{Access, Agent, Viewer};
use crate::calls::query;
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use caly_core::TenantId;
use caly_core::calls::tasks::{self, TaskFilter};
use caly_core::platform::pagination::PageRequest;
use caly_core::tenancy::accounts::Principal;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/tasks", get(list_tasks))
        .route("/api/v1/tasks/{id}/close", post(close_task))
}

#[derive(Deserialize)]
struct ListParams {
    kind: Option<String>,
    status: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

async fn list_tasks(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Viewer>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: ListParams = query(raw)?;
    let filter = TaskFilter::parse(params.kind.as_deref(), params.status.as_deref())?;
    let page = PageRequest::new(params.page, params.per_page)?;
    let found = tasks::list_tasks(&app.db, TenantId(tenant.id), &filter, page).await?;
    Ok(Json(json!(found)))
}

/// `{"note": "…"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Closing {
    note: String,
}

async fn close_task(
    State(ApiState { app }): State<ApiState>,
    access: Access<Agent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = crate::body::path_id(&id, "task")?;
    let closing: Closing = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("The body must be JSON like {{\"note\": \"called back, cancelled\"}}: {e}."),
        )
    })?;
    let closed_by = access.principal.user.as_ref().map(|u| u.id);
    let task = tasks::close_task(
        &app.db,
        access.tenant_id(),
        id,
        &closing.note,
        closed_by,
        Utc::now(),
    )
    .await?;
    Ok(Json(json!(task)))
}
