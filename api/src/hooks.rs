//! Exotel webhooks: `/hooks/exotel/{tenant}/{secret}/passthru` and `/status`.
//! Unknown tenant and wrong secret get the same bare 404; a bad body a 400 that changes nothing;
//! an accepted delivery a 200 only after it is committed, except the sync Passthru after the
//! Voicebot: 302 (hang up) when the agent resolved the call, 200 (a person) otherwise.

use crate::access::RequestMeta;
use crate::limits;
use crate::{ApiError, ApiState};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use caly_core::TenantId;
use caly_core::calls::voice;
use caly_core::integrations::exotel::HookKind;
use caly_core::pipeline::intake::{self, HookError, IncomingHook};
use caly_core::tenancy;
use caly_core::voice::outcome::passthru_status as passthru_status_of;
use chrono::Utc;
use serde_json::json;

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/hooks/exotel/{tenant}/{secret}/{kind}", any(receive))
}

/// A Passthru answers 200 (branch A: a person) unless the voicebot resolved the call or took a
/// callback: then 302 (branch B: hang up). Other webhooks answer 200.
async fn passthru_status(
    app: &caly_core::App,
    tenant: &caly_entities::tenant::Model,
    kind: HookKind,
    call_sid: &str,
) -> Result<StatusCode, ApiError> {
    if kind != HookKind::Passthru {
        return Ok(StatusCode::OK);
    }
    let outcome = voice::outcome_by_sid(&app.db, TenantId(tenant.id), call_sid).await?;
    Ok(StatusCode::from_u16(passthru_status_of(outcome)).unwrap_or(StatusCode::OK))
}

fn no_such_hook() -> ApiError {
    ApiError::not_found("webhook")
}

async fn receive(
    State(ApiState { app }): State<ApiState>,
    meta: RequestMeta,
    Path((tenant, secret, kind)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let kind = match kind.as_str() {
        "passthru" => HookKind::Passthru,
        "status" | "status_callback" => HookKind::StatusCallback,
        _ => return Err(no_such_hook()),
    };
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Webhooks accept GET and POST.",
        ));
    }
    let now = Utc::now();
    // Only failures count against an address, and a valid delivery is never refused for an
    // address's failures: past the limit a guess gets 429 instead of 404, and learns nothing.
    let ip = &meta.rate_key;
    let known = match tenant.parse() {
        Ok(id) => tenancy::by_webhook_secret(&app.db, TenantId(id), &secret, now).await?,
        Err(_) => None,
    };
    let Some(tenant) = known else {
        limits::hit(&app, &limits::HOOK_FAILURES_PER_IP, ip).await?;
        return Err(no_such_hook());
    };
    limits::hit(
        &app,
        &limits::hooks_per_tenant(&app),
        &tenant.id.to_string(),
    )
    .await?;
    let hook = IncomingHook {
        kind,
        method: method.as_str(),
        query: query.as_deref(),
        content_type: headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        body: &body,
    };
    match intake::accept(&app, &tenant, hook, now).await {
        Ok(accepted) => Ok((
            passthru_status(&app, &tenant, kind, &accepted.call_sid).await?,
            axum::Json(json!({
                "accepted": true,
                "duplicate": accepted.duplicate,
                "event_id": accepted.raw_event_id,
                "call_sid": accepted.call_sid,
            })),
        )
            .into_response()),
        Err(HookError::Payload(err)) => Err(ApiError::bad_request(err.code(), err.to_string())),
        Err(HookError::Core(err)) => Err(err.into()),
    }
}
