//! A tenant's people and machines: `GET/PATCH /api/v1/me`, `GET /api/v1/users`,
//! `PATCH /api/v1/users/{id}` (role, disabled: suspended in this store only; admins, and owners
//! for owners), `DELETE /api/v1/users/{id}` (removed from this store only),
//! `GET/POST /api/v1/api-keys`, `DELETE /api/v1/api-keys/{id}` (admins), and
//! `GET /api/v1/audit` (admins; filters `action`, `actor`, `from`, `to`; `format=csv`).

use crate::access::{Access, Admin, Viewer};
use crate::body::{JsonBody, path_id};
use crate::calls::query;
use crate::{ApiError, ApiState};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use caly_core::Rejection;
use caly_core::analytics::export::{csv_header, csv_line};
use caly_core::platform::pagination::{MAX_PER_PAGE, PageRequest};
use caly_core::tenancy::accounts::audit::{self, AuditFilter};
use caly_core::tenancy::accounts::members::{self, ProfileChange};
use caly_core::tenancy::accounts::{Role, Scope, api_keys};
use caly_entities::{audit_event, membership, tenant, user};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/me", get(me).patch(update_me))
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", patch(update_user).delete(remove_user))
        .route("/api/v1/api-keys", get(list_keys).post(create_key))
        .route("/api/v1/api-keys/{id}", delete(revoke_key))
        .route("/api/v1/audit", get(list_audit))
}

fn user_json(user: &user::Model) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "notifications": members::notifications_of(user),
        "email_verified": user.email_verified_at.is_some(),
    })
}

async fn me(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
) -> Result<Json<Value>, ApiError> {
    let principal = &access.principal;
    let Some(user) = &principal.user else {
        return Ok(Json(json!({
            "user": null,
            "tenant": {"id": principal.tenant.id, "name": principal.tenant.name},
            "role": principal.role,
            "memberships": [],
        })));
    };
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .order_by_asc(membership::Column::Id)
        .all(&app.db)
        .await
        .map_err(caly_core::CoreError::from)?;
    let tenants = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(rows.iter().map(|m| m.tenant_id)))
        .all(&app.db)
        .await
        .map_err(caly_core::CoreError::from)?;
    let memberships: Vec<Value> = rows
        .iter()
        .filter_map(|m| {
            let tenant = tenants.iter().find(|t| t.id == m.tenant_id)?;
            Some(json!({"tenant_id": tenant.id, "tenant_name": tenant.name, "role": m.role}))
        })
        .collect();
    Ok(Json(json!({
        "user": user_json(user),
        "tenant": {"id": principal.tenant.id, "name": principal.tenant.name},
        "role": principal.role,
        "memberships": memberships,
    })))
}

async fn update_me(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
    JsonBody(change): JsonBody<ProfileChange>,
) -> Result<Json<Value>, ApiError> {
    let user = access.principal.user.clone().ok_or_else(|| {
        // Authenticated, just not a person: forbidden, not "sign in".
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "An API key has no profile; sign in as a person.",
        )
    })?;
    let before = user.phone.clone();
    let user = members::update_profile(&app.db, user, change).await?;
    // Calls handed to this number are attributed to this person: a change is audited.
    if user.phone != before {
        audit::record(
            &app.db,
            &access.actor(),
            "member.phone_changed",
            &format!("user:{}", user.id),
            json!({"from": before, "to": user.phone}),
            Utc::now(),
        )
        .await?;
    }
    Ok(Json(user_json(&user)))
}

async fn list_users(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
) -> Result<Json<Value>, ApiError> {
    let people = members::list(&app.db, access.tenant_id()).await?;
    Ok(Json(json!({"items": people})))
}

/// `{"role"?, "disabled"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserChange {
    role: Option<String>,
    disabled: Option<bool>,
}

async fn update_user(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id, "user")?;
    let now = Utc::now();
    let principal = &access.principal;
    let mut person = None;
    if let Some(role) = change.role {
        let role = Role::parse(&role)?;
        let changed = members::change_role(&app.db, principal, id, role).await?;
        audit::record(
            &app.db,
            &access.actor(),
            "member.role_changed",
            &format!("user:{id}"),
            json!({"role": role}),
            now,
        )
        .await?;
        person = Some(changed);
    }
    if let Some(disabled) = change.disabled {
        let changed = members::set_disabled(&app.db, principal, id, disabled, now).await?;
        let action = if disabled {
            "member.disabled"
        } else {
            "member.enabled"
        };
        audit::record(
            &app.db,
            &access.actor(),
            action,
            &format!("user:{id}"),
            json!({}),
            now,
        )
        .await?;
        person = Some(changed);
    }
    let person = match person {
        Some(person) => person,
        // Nothing to change: the person as they are (404 outside the tenant).
        None => members::get(&app.db, access.tenant_id(), id).await?,
    };
    Ok(Json(json!(person)))
}

/// Removes the person from this store (their account and other stores stay).
async fn remove_user(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "user")?;
    let now = Utc::now();
    let gone = members::remove(&app.db, &access.principal, id, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "member.removed",
        &format!("user:{id}"),
        json!({"email": gone.email, "role": gone.role}),
        now,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_keys(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
) -> Result<Json<Value>, ApiError> {
    let keys = api_keys::list(&app.db, access.tenant_id()).await?;
    Ok(Json(json!({"items": keys})))
}

/// `{"name", "scope"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    scope: String,
}

async fn create_key(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    JsonBody(body): JsonBody<NewKey>,
) -> Result<Response, ApiError> {
    let scope = Scope::parse(&body.scope)?;
    let now = Utc::now();
    let created_by = access.principal.user.as_ref().map(|u| u.id);
    let (row, key) = api_keys::create(
        &app.db,
        access.tenant_id(),
        &body.name,
        scope,
        created_by,
        now,
    )
    .await?;
    audit::record(
        &app.db,
        &access.actor(),
        "api_key.created",
        &format!("api_key:{}", row.id),
        json!({"name": row.name, "scope": row.scope}),
        now,
    )
    .await?;
    let mut body = json!(row);
    body["key"] = json!(secrecy::ExposeSecret::expose_secret(&key));
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_key(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id, "API key")?;
    let now = Utc::now();
    let row = api_keys::revoke(&app.db, access.tenant_id(), id, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "api_key.revoked",
        &format!("api_key:{id}"),
        json!({}),
        now,
    )
    .await?;
    Ok(Json(json!(row)))
}

#[derive(Deserialize)]
struct AuditParams {
    action: Option<String>,
    actor: Option<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    page: Option<u64>,
    per_page: Option<u64>,
    format: Option<String>,
}

/// The audit log as CSV, through the exports' writer (the one place that quotes cells and
/// defuses spreadsheet formulas).
fn audit_csv(rows: &[audit_event::Model]) -> String {
    let mut out = csv_header(&[
        "id",
        "created_at",
        "actor",
        "actor_user_id",
        "action",
        "target",
        "ip",
        "request_id",
        "details",
    ]);
    for row in rows {
        out.push_str(&csv_line(&[
            json!(row.id),
            json!(row.created_at.to_rfc3339()),
            json!(row.actor),
            json!(row.actor_user_id),
            json!(row.action),
            json!(row.target),
            json!(row.ip),
            json!(row.request_id),
            json!(row.details),
        ]));
    }
    out
}

async fn list_audit(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params: AuditParams = query(raw)?;
    let filter = AuditFilter {
        action: params.action,
        actor_user_id: params.actor,
        from: params.from,
        to: params.to,
    };
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(Rejection::InvalidField {
                field: "format",
                message: "must be 'json' or 'csv'".into(),
            }
            .into());
        }
    };
    let tenant = access.tenant_id().0;
    if !csv {
        let page = PageRequest::new(params.page, params.per_page)?;
        let found = audit::list(&app.db, tenant, &filter, page).await?;
        return Ok(Json(json!(found)).into_response());
    }
    // The export holds every matching event, read a page at a time.
    let mut rows = Vec::new();
    for page in 1.. {
        let request = PageRequest::new(Some(page), Some(MAX_PER_PAGE))?;
        let found = audit::list(&app.db, tenant, &filter, request).await?;
        let done = found.items.len() < MAX_PER_PAGE as usize;
        rows.extend(found.items);
        if done {
            break;
        }
    }
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"audit.csv\"",
        ),
    ];
    Ok((headers, audit_csv(&rows)).into_response())
}
