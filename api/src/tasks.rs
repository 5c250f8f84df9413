//! Staff tasks the agent recorded: `GET /api/v1/tasks?kind=&status=`, one task with its history
//! (`GET /api/v1/tasks/{id}`), and what staff do with one: assign it (`{"assignee_id": 7}` or
//! `null`), comment on it (`{"body": "…"}`) and close it (`{"note": "…"}`). Each change is kept
//! in the task's history with who made it and when.

use crate::access::{Access, Agent, Viewer};
use crate::body::{JsonBody, nullable};
use crate::calls::query;
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use caly_core::TenantId;
use caly_core::calls::task_activity;
use caly_core::calls::tasks::{self, TaskFilter};
use caly_core::platform::pagination::PageRequest;
use caly_core::tenancy::accounts::Principal;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/tasks", get(list_tasks))
        .route("/api/v1/tasks/{id}", get(get_task))
        .route("/api/v1/tasks/{id}/assign", post(assign_task))
        .route("/api/v1/tasks/{id}/comments", post(comment_task))
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
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    crate::body::require_json(&headers, &body)?;
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

async fn get_task(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = crate::body::path_id(&id, "task")?;
    let task = tasks::find_task(&app.db, access.tenant_id(), id).await?;
    let history = task_activity::events_of(&app.db, access.tenant_id(), &[id]).await?;
    let mut body = json!(task);
    body["history"] = json!(history);
    Ok(Json(body))
}

/// `{"assignee_id": 7}` or `{"assignee_id": null}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignment {
    #[serde(default, deserialize_with = "nullable")]
    assignee_id: Option<Option<i64>>,
}

async fn assign_task(
    State(ApiState { app }): State<ApiState>,
    access: Access<Agent>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<Json<Value>, ApiError> {
    let id = crate::body::path_id(&id, "task")?;
    let assignee = body
        .assignee_id
        .ok_or(caly_core::Rejection::MissingField("assignee_id"))?;
    let actor = access.principal.user.as_ref().map(|u| u.id);
    let task =
        task_activity::assign(&app.db, access.tenant_id(), id, assignee, actor, Utc::now()).await?;
    Ok(Json(json!(task)))
}

/// `{"body": "…"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Comment {
    body: String,
}

async fn comment_task(
    State(ApiState { app }): State<ApiState>,
    access: Access<Agent>,
    Path(id): Path<String>,
    JsonBody(comment): JsonBody<Comment>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let id = crate::body::path_id(&id, "task")?;
    let actor = access.principal.user.as_ref().map(|u| u.id);
    let event = task_activity::comment(
        &app.db,
        access.tenant_id(),
        id,
        &comment.body,
        actor,
        Utc::now(),
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(event))))
}
