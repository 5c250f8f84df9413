//! Text turns: `POST /api/v1/calls/{id}/turns` stores the caller's words, hands them to the
//! `agent_reply` stage on the workers and waits for its answer (woken by the hand-back, with a
//! check of the database at most once a second). A turn still unanswered after
//! `CALY_TURN_TIMEOUT_SECS` answers 200 with the fallback line and `handoff: true`. A tenant
//! may send `CALY_TEXT_TURNS_PER_MIN` typed turns a minute, one conversation a third of that
//! (429 with `Retry-After` past either).

use crate::access::{Access, Agent};
use crate::calls::call_id;
use crate::{ApiError, ApiState, limits};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use caly_core::TenantId;
use caly_core::calls::turns::{self, PENDING, TurnView};
use caly_core::pipeline::dispatch;
use caly_core::pipeline::stages::agent_reply;
use caly_core::platform::handback::Woken;
use caly_core::tenancy::accounts::Principal;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/calls/{id}/turns", post(send_turn))
}

/// `{"text": "…"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTurn {
    text: String,
}

/// Longest gap between two looks at the database while waiting.
const RECHECK: Duration = Duration::from_secs(1);

async fn send_turn(
    State(ApiState { app }): State<ApiState>,
    Access {
        principal: Principal { tenant, .. },
        ..
    }: Access<Agent>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    crate::body::require_json(&headers, &body)?;
    let new: NewTurn = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("The body must be JSON like {{\"text\": \"where is my order\"}}: {e}."),
        )
    })?;
    let tenant = TenantId(tenant.id);
    let call = call_id(&id)?;
    // Typed turns cost the platform a model call each and are never billed: bounded per tenant
    // and per conversation (voice turns are billed by the minute and never limited here).
    limits::hit(
        &app,
        &limits::text_turns_per_tenant(&app),
        &tenant.0.to_string(),
    )
    .await?;
    limits::hit(
        &app,
        &limits::text_turns_per_conversation(&app),
        &call.0.to_string(),
    )
    .await?;
    let now = Utc::now();
    let timeout = app.settings.turn_timeout;
    let abandoned_after = timeout.saturating_mul(2);
    let (turn, run) =
        turns::start_turn(&app.db, tenant, call, &new.text, abandoned_after, now).await?;
    // Listen before the work can finish, so the notice cannot pass unseen. Without a
    // subscription the request still gets its answer, by looking once a second.
    let mut waiter = match app.handback.subscribe(&turns::handback_key(turn.id)).await {
        Ok(waiter) => Some(waiter),
        Err(error) => {
            tracing::warn!(%error, "no hand-back subscription; polling for the answer");
            None
        }
    };
    dispatch::push_committed(&app, &agent_reply::NAME, &[run], now).await;
    let started = Instant::now();
    let answered = loop {
        let row = turns::find_turn(&app.db, tenant, turn.id).await?;
        if row.status != PENDING {
            break row;
        }
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            break turns::give_up(&app.db, tenant, turn.id, Utc::now()).await?;
        }
        match waiter.as_mut() {
            Some(listening) => {
                if listening.wait(left.min(RECHECK)).await == Woken::Closed {
                    // The subscription died: look once a second instead of spinning.
                    waiter = None;
                }
            }
            None => tokio::time::sleep(left.min(RECHECK)).await,
        }
    };
    let view = TurnView::from(answered);
    let mut body = json!(view);
    body["turn"] = json!(view.id);
    Ok(Json(body))
}
