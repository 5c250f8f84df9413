//! A tenant's failed stage runs: listed by stage, time and error, and retried in bulk. Tenants
//! see each failure as a stable code and a sentence, never the internal error text.

use crate::access::{Access, Admin};
use crate::calls::query;
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use caly_core::pipeline::dispatch;
use caly_core::pipeline::run_view::RunView;
use caly_core::pipeline::runs::{self, FailedFilter};
use caly_core::platform::pagination::PageRequest;
use caly_core::platform::time::parse_since;
use caly_core::tenancy::accounts::{Principal, audit};
use caly_core::{App, Rejection, TenantId};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stage-runs/failed", get(list_failed))
        .route("/api/v1/stage-runs/retry", post(retry))
}

/// The filters both endpoints take; the retry body is exactly these (a misspelt filter must
/// not widen a bulk retry).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filters {
    pub stage: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub error_contains: Option<String>,
}

/// The list's query string: the filters and paging (flat: query strings cannot nest).
#[derive(Deserialize)]
struct ListParams {
    stage: Option<String>,
    since: Option<String>,
    until: Option<String>,
    error_contains: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

fn instant(
    field: &str,
    raw: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|text| {
        parse_since(text, now).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_time",
                format!(
                    "'{field}' must be a time like 2026-11-22T10:00:00Z, a day like 2026-11-22 \
                     (IST), or a span back from now like 6h or 2d."
                ),
            )
        })
    })
    .transpose()
}

pub(crate) fn filter(
    app: &App,
    tenant: TenantId,
    f: Filters,
    now: DateTime<Utc>,
) -> Result<FailedFilter, ApiError> {
    let stage = f
        .stage
        .as_deref()
        .map(|name| app.stages.parse(name).map_err(Rejection::from))
        .transpose()?;
    Ok(FailedFilter {
        tenant: Some(tenant),
        stage,
        since: instant("since", f.since.as_deref(), now)?,
        until: instant("until", f.until.as_deref(), now)?,
        error_contains: f.error_contains.filter(|t| !t.trim().is_empty()),
        as_tenant: true,
    })
}

async fn list_failed(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: ListParams = query(raw)?;
    let page = PageRequest::new(params.page, params.per_page)?;
    let filters = Filters {
        stage: params.stage,
        since: params.since,
        until: params.until,
        error_contains: params.error_contains,
    };
    let filter = filter(&app, TenantId(tenant.id), filters, Utc::now())?;
    let failed = runs::list_failed(&app.db, &filter, page).await?;
    Ok(Json(json!(failed.map(RunView::from))))
}

async fn retry(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    crate::body::require_json(&headers, &body)?;
    let filters: Filters = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!(
                "The body must be JSON like {{\"stage\": \"recording_upload\", \"since\": \"6h\", \
                 \"error_contains\": \"exotel\"}}: {e}."
            ),
        )
    })?;
    if filters.stage.is_none() {
        return Err(Rejection::MissingField("stage").into());
    }
    let now = Utc::now();
    let filter = filter(&app, access.tenant_id(), filters, now)?;
    let rearmed = runs::retry_failed(&app.db, &filter, "retried through the API", now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "stage.retried",
        &format!(
            "stage:{}",
            filter
                .stage
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default()
        ),
        json!({"runs": rearmed.len()}),
        now,
    )
    .await?;
    for (stage, id) in &rearmed {
        dispatch::push_committed(&app, stage, &[*id], now).await;
    }
    let ids: Vec<i64> = rearmed.iter().map(|(_, id)| id.0).collect();
    Ok(Json(json!({"retried": ids.len(), "runs": ids})))
}
