//! Teams: `GET /api/v1/teams` (viewer), `POST /api/v1/teams` `{"name", "parent_id"?,
//! "lead_user_id"?}`, `PATCH /api/v1/teams/{id}` (any of those; `null` clears parent or lead),
//! `DELETE /api/v1/teams/{id}`, and `PUT`/`DELETE /api/v1/teams/{id}/members/{user_id}` (admins).

use crate::access::{Access, Admin, Viewer};
use crate::body::{JsonBody, nullable, path_id};
use crate::{ApiError, ApiState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use caly_core::tenancy::accounts::audit;
use caly_core::tenancy::accounts::teams::{self, TeamChange};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/teams", get(list).post(create))
        .route(
            "/api/v1/teams/{id}",
            axum::routing::patch(update).delete(remove),
        )
        .route(
            "/api/v1/teams/{id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
}

async fn list(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({"items": teams::list(&app.db, access.tenant_id()).await?}),
    ))
}

/// `{"name", "parent_id"?, "lead_user_id"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
    parent_id: Option<i64>,
    lead_user_id: Option<i64>,
}

async fn create(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    JsonBody(body): JsonBody<NewTeam>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let team = teams::create(
        &app.db,
        access.tenant_id(),
        &body.name,
        body.parent_id,
        body.lead_user_id,
        now,
    )
    .await?;
    audit::record(
        &app.db,
        &access.actor(),
        "team.created",
        &format!("team:{}", team.id),
        json!({"name": team.name}),
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(team))).into_response())
}

/// Any of `{"name", "parent_id", "lead_user_id"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    lead_user_id: Option<Option<i64>>,
}

async fn update(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Change>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id, "team")?;
    let change = TeamChange {
        name: body.name,
        parent_id: body.parent_id,
        lead_user_id: body.lead_user_id,
    };
    let team = teams::update(&app.db, access.tenant_id(), id, change).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "team.updated",
        &format!("team:{id}"),
        json!(team),
        Utc::now(),
    )
    .await?;
    Ok(Json(json!(team)))
}

async fn remove(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "team")?;
    teams::delete(&app.db, access.tenant_id(), id).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "team.deleted",
        &format!("team:{id}"),
        json!({}),
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, user) = (path_id(&id, "team")?, path_id(&user, "user")?);
    let now = Utc::now();
    teams::add_member(&app.db, access.tenant_id(), id, user, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "team.member_added",
        &format!("team:{id}"),
        json!({"user": user}),
        now,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, user) = (path_id(&id, "team")?, path_id(&user, "user")?);
    teams::remove_member(&app.db, access.tenant_id(), id, user).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "team.member_removed",
        &format!("team:{id}"),
        json!({"user": user}),
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
