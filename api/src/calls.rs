//! The tenant REST API: calls (filtered, paginated), one call in full, its recording link,
//! replays, charges and failed stage runs. Every handler takes the tenant from [`AuthTenant`].

use crate::auth::AuthTenant;
use crate::{ApiError, ApiState};
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use caly_core::call_state::CallState;
use caly_core::calls::{self, CallFilter, clamp_per_page};
use caly_core::dispatch;
use caly_jobs::Stage;
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/calls", get(list_calls))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/calls/{id}/recording", get(recording_link))
        .route("/api/v1/calls/{id}/stages/{stage}/replay", post(replay))
        .route("/api/v1/charges", get(list_charges))
        .route("/api/v1/stage-runs/failed", get(list_failed))
}

fn query<T: DeserializeOwned>(raw: Option<String>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("The query string is invalid: {e}."),
        )
    })
}

fn call_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("call"))
}

#[derive(Deserialize)]
struct ListParams {
    state: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Deserialize)]
struct PageParams {
    page: Option<u64>,
    per_page: Option<u64>,
}

fn ist_date(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    raw.map(|text| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|d| (1971..=9999).contains(&d.year()))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_date",
                    format!("'{field}' must be a date like 2026-11-21 (IST)."),
                )
            })
    })
    .transpose()
}

/// Page numbers beyond this are refused (offsets must stay far inside i64).
const MAX_PAGE: u64 = 1_000_000;

fn page_number(page: Option<u64>) -> Result<u64, ApiError> {
    match page.unwrap_or(1) {
        p if (1..=MAX_PAGE).contains(&p) => Ok(p),
        _ => Err(ApiError::bad_request(
            "invalid_page",
            format!("'page' must be between 1 and {MAX_PAGE}."),
        )),
    }
}

async fn list_calls(
    State(ApiState { app }): State<ApiState>,
    AuthTenant(tenant): AuthTenant,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: ListParams = query(raw)?;
    if let Some(state) = params.state.as_deref()
        && CallState::parse(state).is_none()
    {
        return Err(ApiError::bad_request(
            "invalid_state",
            "'state' must be one of ringing, in_progress, completed, missed, busy, failed.",
        ));
    }
    let filter = CallFilter {
        state: params.state.clone(),
        from: ist_date("from", params.from.as_deref())?,
        to: ist_date("to", params.to.as_deref())?,
    };
    let page = calls::list_calls(
        &app.db,
        tenant.id,
        &filter,
        page_number(params.page)?,
        clamp_per_page(params.per_page),
    )
    .await?;
    Ok(Json(json!(page)))
}

async fn get_call(
    State(ApiState { app }): State<ApiState>,
    AuthTenant(tenant): AuthTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let detail = calls::call_detail(&app.db, tenant.id, call_id(&id)?).await?;
    Ok(Json(json!(detail)))
}

async fn recording_link(
    State(ApiState { app }): State<ApiState>,
    AuthTenant(tenant): AuthTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let recording = calls::find_recording(&app.db, tenant.id, call_id(&id)?).await?;
    let now = Utc::now();
    let ttl = app.settings.link_ttl;
    let url = app
        .store
        .signed_url(&recording.object_key, &recording.content_type, ttl, now)
        .await?;
    Ok(Json(json!({
        "url": url,
        "content_type": recording.content_type,
        "size_bytes": recording.size_bytes,
        "expires_at": now + chrono::Duration::from_std(ttl).unwrap_or_default(),
    })))
}

async fn replay(
    State(ApiState { app }): State<ApiState>,
    AuthTenant(tenant): AuthTenant,
    Path((id, stage)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stage: Stage = stage.parse().map_err(|e: caly_jobs::UnknownStage| {
        ApiError::bad_request(
            "unknown_stage",
            format!("{e}; use ingest, recording_upload, charge or reconcile."),
        )
    })?;
    let now = Utc::now();
    let ids = calls::replay(&app.db, tenant.id, call_id(&id)?, stage, now).await?;
    dispatch::push_committed(&app, stage, &ids, now).await;
    Ok(Json(json!({"replayed": ids, "stage": stage})))
}

async fn list_charges(
    State(ApiState { app }): State<ApiState>,
    AuthTenant(tenant): AuthTenant,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: PageParams = query(raw)?;
    let page = calls::list_charges(
        &app.db,
        tenant.id,
        page_number(params.page)?,
        clamp_per_page(params.per_page),
    )
    .await?;
    Ok(Json(json!({
        "balance_paise": tenant.balance_paise,
        "charges": page,
    })))
}

async fn list_failed(
    State(ApiState { app }): State<ApiState>,
    AuthTenant(tenant): AuthTenant,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: PageParams = query(raw)?;
    let page = calls::list_failed_runs(
        &app.db,
        tenant.id,
        page_number(params.page)?,
        clamp_per_page(params.per_page),
    )
    .await?;
    Ok(Json(json!(page)))
}
