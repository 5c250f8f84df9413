//! Invitations: `POST /api/v1/invitations` `{"email", "role"}` (at most
//! `CALY_INVITATIONS_PER_DAY` a day per store) and `GET /api/v1/invitations`,
//! `DELETE /api/v1/invitations/{id}` (admins; only owners invite owners), and
//! `POST /api/v1/auth/invitations/accept` `{"token", "password", "name"?}` for the invitee.

use crate::access::{Access, Admin, MaybeSignedIn, NotCrossSite, RequestMeta};
use crate::body::{JsonBody, path_id};
use crate::{ApiError, ApiState, limits};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use caly_core::tenancy::accounts::invitations::{self, Acceptance};
use caly_core::tenancy::accounts::{Role, audit};
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/invitations", post(invite).get(list))
        .route("/api/v1/invitations/{id}", delete(withdraw))
        .route("/api/v1/auth/invitations/accept", post(accept))
}

/// `{"email", "role"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invite {
    email: String,
    role: String,
}

async fn invite(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    JsonBody(body): JsonBody<Invite>,
) -> Result<Response, ApiError> {
    let role = Role::parse(&body.role)?;
    let tenant = access.tenant_id().0.to_string();
    limits::hit(&app, &limits::invitations_per_tenant(&app), &tenant).await?;
    let row = invitations::invite(
        &app,
        &access.principal,
        &access.actor(),
        &body.email,
        role,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(row))).into_response())
}

async fn list(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
) -> Result<Json<Value>, ApiError> {
    let rows = invitations::pending(&app, access.tenant_id(), Utc::now()).await?;
    Ok(Json(json!({"items": rows})))
}

async fn withdraw(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "invitation")?;
    let now = Utc::now();
    invitations::revoke(&app, access.tenant_id(), id, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "member.invitation_withdrawn",
        &format!("invitation:{id}"),
        json!({}),
        now,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"token", "password"?, "name"?}`: the password is a new user's, or an existing user's own
/// (not needed when that user is signed in).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    token: String,
    password: Option<SecretString>,
    #[serde(default)]
    name: String,
}

async fn accept(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    JsonBody(body): JsonBody<Accept>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::VERIFY_PER_IP, &meta.rate_key).await?;
    let session = invitations::accept(
        &app,
        Acceptance {
            token: body.token,
            password: body.password,
            name: body.name,
            signed_in_as: signed_in.and_then(|p| p.user).map(|u| u.id),
        },
        &meta.anonymous(),
        Utc::now(),
    )
    .await?;
    Ok(crate::accounts::session_response(
        &app,
        StatusCode::OK,
        session,
    ))
}
