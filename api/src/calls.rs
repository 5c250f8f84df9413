//! The tenant REST API: calls (filtered, paginated), one call in full (with its conversation's
//! turns), its recording link,
//! replays, and the money ledger (charges and adjustments). Every handler takes the tenant
//! from [`Access`](crate::access::Access).

use crate::access::{Access, Admin, Agent, Viewer};
use crate::{ApiError, ApiState};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use caly_core::analytics::dashboard::WEEKDAYS;
use caly_core::calls::transcript::{self, redact::redact};
use caly_core::calls::{self, CallFilter};
use caly_core::pipeline::{dispatch, replay};
use caly_core::platform::pagination::PageRequest;
use caly_core::tenancy::accounts::{Principal, audit, members};
use caly_core::tenancy::profile;
use caly_core::{CallId, CallState, Rejection, TenantId, billing};
use caly_entities::status::Channel;
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/calls", get(list_calls).post(open_conversation))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/calls/{id}/recording", get(recording_link))
        .route("/api/v1/calls/{id}/stages/{stage}/replay", post(replay))
        .route("/api/v1/charges", get(list_charges))
}

pub(crate) fn query<T: DeserializeOwned>(raw: Option<String>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("The query string is invalid: {e}."),
        )
    })
}

pub(crate) fn call_id(raw: &str) -> Result<CallId, ApiError> {
    crate::body::path_id(raw, "call").map(CallId)
}

/// The call list's query: its filters and page. Empty values mean no filter (an HTML form sends
/// every field).
#[derive(Deserialize, Default)]
pub(crate) struct ListParams {
    pub state: Option<String>,
    pub channel: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub intent: Option<String>,
    pub outcome: Option<String>,
    pub caller: Option<String>,
    pub weekday: Option<String>,
    pub hour: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// A query parameter's trimmed value, `None` when absent or blank.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ListParams {
    /// The filter these parameters ask for, or a 400 naming the bad one.
    pub(crate) fn filter(&self) -> Result<CallFilter, ApiError> {
        let intent = given(&self.intent)
            .map(|name| {
                let fine = name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit());
                fine.then(|| name.to_string()).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_intent",
                        "'intent' must be an intent name like order_status.",
                    )
                })
            })
            .transpose()?;
        let outcome = given(&self.outcome)
            .map(|name| {
                calls::OUTCOMES
                    .contains(&name)
                    .then(|| name.to_string())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_outcome",
                            format!("'outcome' must be one of {}.", calls::OUTCOMES.join(", ")),
                        )
                    })
            })
            .transpose()?;
        let weekday = given(&self.weekday)
            .map(|name| {
                WEEKDAYS
                    .iter()
                    .position(|d| d.eq_ignore_ascii_case(name))
                    .map(|i| i as u32)
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_weekday",
                            "'weekday' must be mon, tue, wed, thu, fri, sat or sun.",
                        )
                    })
            })
            .transpose()?;
        let hour = given(&self.hour)
            .map(|text| {
                text.parse::<u32>().ok().filter(|h| *h < 24).ok_or_else(|| {
                    ApiError::bad_request("invalid_hour", "'hour' must be an IST hour, 0 to 23.")
                })
            })
            .transpose()?;
        let filter = CallFilter {
            state: call_state(given(&self.state))?,
            channel: channel(given(&self.channel))?,
            from: ist_date("from", given(&self.from))?,
            to: ist_date("to", given(&self.to))?,
            intent,
            outcome,
            caller: given(&self.caller).map(str::to_string),
            weekday,
            hour,
        };
        if (weekday.is_some() || hour.is_some()) && (filter.from.is_none() || filter.to.is_none()) {
            return Err(ApiError::bad_request(
                "invalid_range",
                "'weekday' and 'hour' need both 'from' and 'to'.",
            ));
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && (to - from).num_days() >= caly_core::analytics::range::MAX_DAYS
            && (weekday.is_some() || hour.is_some())
        {
            return Err(ApiError::bad_request(
                "invalid_range",
                format!(
                    "With 'weekday' or 'hour', a range can cover at most {} days.",
                    caly_core::analytics::range::MAX_DAYS
                ),
            ));
        }
        Ok(filter)
    }
}

#[derive(Deserialize)]
struct PageParams {
    page: Option<u64>,
    per_page: Option<u64>,
}

/// Parses `2026-11-21` as an IST day, a 400 naming `field` when it is not one.
pub(crate) fn ist_date(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
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

fn call_state(raw: Option<&str>) -> Result<Option<CallState>, ApiError> {
    raw.map(|text| {
        CallState::parse(text).ok_or_else(|| {
            let names: Vec<&str> = CallState::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(
                "invalid_state",
                format!("'state' must be one of {}.", names.join(", ")),
            )
        })
    })
    .transpose()
}

async fn list_calls(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Viewer>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: ListParams = query(raw)?;
    let filter = params.filter()?;
    let page = PageRequest::new(params.page, params.per_page)?;
    let calls = calls::list_calls(&app.db, TenantId(tenant.id), &filter, page).await?;
    Ok(Json(json!(calls)))
}

fn channel(raw: Option<&str>) -> Result<Option<Channel>, ApiError> {
    raw.map(|text| {
        Channel::parse(text).ok_or_else(|| {
            ApiError::bad_request("invalid_channel", "'channel' must be phone or text.")
        })
    })
    .transpose()
}

/// `POST /api/v1/calls`: `{"channel": "text", "caller": "+91…"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConversation {
    channel: String,
    caller: String,
}

async fn open_conversation(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Agent>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    crate::body::require_json(&headers, &body)?;
    let new: NewConversation = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("The body must be JSON like {{\"channel\": \"text\", \"caller\": \"+919812345678\"}}: {e}."),
        )
    })?;
    if Channel::parse(&new.channel) != Some(Channel::Text) {
        return Err(ApiError::bad_request(
            "invalid_channel",
            "Only 'text' conversations are opened here; phone calls arrive from Exotel.",
        ));
    }
    let now = Utc::now();
    let call =
        calls::conversations::open_text(&app.db, TenantId(tenant.id), &new.caller, now).await?;
    // Look the caller up while they type their first words.
    match calls::prefetch::arm(&app.db, &call, now).await {
        Ok(Some(run)) => {
            let stage = caly_core::pipeline::stages::prefetch_caller::NAME;
            dispatch::push_committed(&app, &stage, &[run], now).await;
        }
        Ok(None) => {}
        // The conversation exists; it only answers without the head start.
        Err(error) => tracing::warn!(%error, "caller prefetch not armed"),
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": call.id, "channel": call.channel, "caller": call.from_number})),
    ))
}

async fn get_call(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, call) = (TenantId(tenant.id), call_id(&id)?);
    let detail = calls::call_detail(&app.db, tenant, call).await?;
    let call_ms = detail
        .call
        .duration_secs
        .and_then(|s| u64::try_from(s).ok())
        .map(|s| s * 1000);
    let mut body = json!(detail);
    let mut turns = calls::turns::turns_of_call(&app.db, tenant, call).await?;
    // While a call is live its turns hold the words the agent works with: shown redacted.
    if profile::redacts_transcripts(&app.db, tenant).await? {
        for turn in &mut turns {
            turn.text = redact(&turn.text);
            turn.reply = turn.reply.as_deref().map(redact);
        }
    }
    body["turns"] = json!(turns);
    body["transcript"] = json!(transcript::transcript_of(&app.db, tenant, call, call_ms).await?);
    // The person who took the handoff: the member whose phone Exotel's Connect applet dialled.
    body["handled_by"] = match &detail.call.dialed_number {
        Some(number) => json!(members::by_phone(&app.db, tenant, number).await?),
        None => Value::Null,
    };
    Ok(Json(body))
}

async fn recording_link(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let call = call_id(&id)?;
    let recording = calls::find_recording(&app.db, access.tenant_id(), call).await?;
    let now = Utc::now();
    audit::record(
        &app.db,
        &access.actor(),
        "recording.link_issued",
        &format!("call:{}", call.0),
        json!({"source": recording.source}),
        now,
    )
    .await?;
    let ttl = app.settings.link_ttl;
    let url = app
        .store
        .signed_url(&recording.object_key, &recording.content_type, ttl, now)
        .await
        .map_err(caly_core::CoreError::from)?;
    Ok(Json(json!({
        "url": url,
        "content_type": recording.content_type,
        "size_bytes": recording.size_bytes,
        "expires_at": now + chrono::Duration::from_std(ttl).unwrap_or_default(),
    })))
}

async fn replay(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    Path((id, stage)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    // The stage is checked before the call, so an unknown stage is a 400 for any call id.
    let spec = app.stages.lookup(&stage).map_err(Rejection::from)?.spec();
    let call = call_id(&id)?;
    let runs = replay::replay(&app.db, spec, access.tenant_id(), call, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "stage.replayed",
        &format!("call:{}", call.0),
        json!({"stage": spec.name, "runs": runs}),
        now,
    )
    .await?;
    dispatch::push_committed(&app, &spec.name, &runs, now).await;
    Ok(Json(json!({"replayed": runs, "stage": spec.name})))
}

async fn list_charges(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Viewer>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: PageParams = query(raw)?;
    let page = PageRequest::new(params.page, params.per_page)?;
    let charges = billing::list_entries(&app.db, TenantId(tenant.id), page).await?;
    let rates = billing::rates::rate_history(&app.db, TenantId(tenant.id)).await?;
    Ok(Json(json!({
        "balance_paise": tenant.balance_paise,
        "rate_paise_per_min": billing::rate_at(&rates, Utc::now()),
        "credit_limit_paise": tenant.credit_limit_paise,
        "charges": charges,
    })))
}
