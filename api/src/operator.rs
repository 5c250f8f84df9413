//! The platform operator's console (people listed in `CALY_OPERATOR_EMAILS`, signed in; never
//! an API key): `GET /api/v1/operator/tenants` lists every tenant's balance, rate and credit
//! limit; `PUT /api/v1/operator/tenants/{id}/billing` `{"rate_paise_per_min"?,
//! "credit_limit_paise"?}` sets a new rate (in force from now; history kept) and the credit
//! limit (`null` removes it); `POST /api/v1/operator/tenants/{id}/ledger` `{"kind": "credit" |
//! "payment", "amount_paise", "reason", "reference"}` records a credit or a payment received,
//! once per reference; `POST /api/v1/operator/users/disable` `{"email", "disabled"}` disables
//! (or restores) a person's account in every store. Past its credit limit, a store's calls go to its people instead of the AI
//! agent.

use crate::access::{self, RequestMeta};
use crate::body::{JsonBody, nullable, path_id};
use crate::{ApiError, ApiState};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use caly_core::billing::credits::{self, Grant};
use caly_core::billing::rates::{rate_at, rate_history};
use caly_core::tenancy::accounts::{Actor, Principal, Via, audit, members};
use caly_core::{Rejection, TenantId, tenancy};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/operator/tenants", get(list))
        .route("/api/v1/operator/tenants/{id}/billing", put(set_billing))
        .route(
            "/api/v1/operator/tenants/{id}/ledger",
            post(add_ledger_entry),
        )
        .route("/api/v1/operator/users/disable", post(disable_user))
}

/// A signed-in person of the platform operator.
pub struct Operator {
    /// For the audit log.
    actor: Actor,
}

/// Whether a principal is one of the platform operator's people: signed in (never an API key)
/// with an address in `CALY_OPERATOR_EMAILS`.
pub(crate) fn is_operator(app: &caly_core::App, principal: &Principal) -> bool {
    let email = principal
        .user
        .as_ref()
        .map(|u| u.email.as_str())
        .unwrap_or_default();
    matches!(principal.via, Via::Session(_))
        && app.settings.operator_emails.iter().any(|e| e == email)
}

impl FromRequestParts<ApiState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let principal = access::authenticate(parts, state).await?;
        if !is_operator(&state.app, &principal) {
            return Err(Rejection::Forbidden {
                role: principal.role.as_str(),
                needed: "operator",
            }
            .into());
        }
        let meta = RequestMeta::from_request_parts(parts, state).await?;
        Ok(Operator {
            actor: principal.actor(meta.ip, meta.request_id),
        })
    }
}

/// A tenant's billing as the operator sees it.
pub(crate) async fn billing_of(
    app: &caly_core::App,
    row: &caly_entities::tenant::Model,
) -> Result<Value, ApiError> {
    let history = rate_history(&app.db, TenantId(row.id)).await?;
    Ok(json!({
        "id": row.id,
        "name": row.name,
        "balance_paise": row.balance_paise,
        "rate_paise_per_min": rate_at(&history, Utc::now()),
        "credit_limit_paise": row.credit_limit_paise,
        "over_credit_limit": row.credit_limit_paise.is_some_and(|l| row.balance_paise >= l),
    }))
}

async fn list(
    State(ApiState { app }): State<ApiState>,
    _: Operator,
) -> Result<Json<Value>, ApiError> {
    let mut items = Vec::new();
    for row in tenancy::list(&app.db).await? {
        items.push(billing_of(&app, &row).await?);
    }
    Ok(Json(json!({"items": items})))
}

/// `{"rate_paise_per_min"?, "credit_limit_paise"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Billing {
    rate_paise_per_min: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    credit_limit_paise: Option<Option<i64>>,
}

async fn set_billing(
    State(ApiState { app }): State<ApiState>,
    operator: Operator,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Billing>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id, "tenant")?;
    let now = Utc::now();
    let row = tenancy::set_billing(
        &app.db,
        TenantId(id),
        body.rate_paise_per_min,
        body.credit_limit_paise,
        now,
    )
    .await?;
    // Recorded in the tenant's own audit log, so its admins see who changed their billing.
    let actor = Actor {
        tenant_id: Some(id),
        ..operator.actor
    };
    audit::record(
        &app.db,
        &actor,
        "billing.settings_changed",
        &format!("tenant:{id}"),
        json!({"rate_paise_per_min": body.rate_paise_per_min, "credit_limit_paise": body.credit_limit_paise}),
        now,
    )
    .await?;
    Ok(Json(billing_of(&app, &row).await?))
}

async fn add_ledger_entry(
    State(ApiState { app }): State<ApiState>,
    operator: Operator,
    Path(id): Path<String>,
    JsonBody(grant): JsonBody<Grant>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "tenant")?;
    let now = Utc::now();
    // Recorded in the tenant's own audit log, so its admins see who moved their balance.
    let actor = Actor {
        tenant_id: Some(id),
        ..operator.actor
    };
    let recorded = credits::record(&app.db, TenantId(id), &grant, &actor, now).await?;
    let row = tenancy::find(&app.db, TenantId(id)).await?;
    let status = if recorded.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let answer = json!({
        "entry": recorded.entry,
        "created": recorded.created,
        "balance_paise": row.balance_paise,
    });
    Ok((status, Json(answer)).into_response())
}

/// `{"email", "disabled"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisableUser {
    email: String,
    disabled: bool,
}

/// Disables (or restores) an account everywhere: the platform's decision, recorded in the audit
/// log of every store the person belongs to.
async fn disable_user(
    State(ApiState { app }): State<ApiState>,
    operator: Operator,
    JsonBody(body): JsonBody<DisableUser>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    let user =
        members::disable_everywhere(&app.db, &body.email, body.disabled, &operator.actor, now)
            .await?;
    Ok(Json(json!({
        "id": user.id,
        "email": user.email,
        "disabled": user.disabled_at.is_some(),
    })))
}
