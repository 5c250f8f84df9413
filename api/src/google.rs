//! "Sign in with Google": `GET /api/v1/auth/google/start?return_to=/path` sends the browser to
//! Google with the flow sealed in the `caly_oidc` cookie; `GET /api/v1/auth/google/callback`
//! finishes it, sets the session cookies and sends the browser back to `return_to` (a path on
//! this site).

use crate::access::RequestMeta;
use crate::accounts::{secure, session_cookies, set_cookie};
use crate::{ApiError, ApiState, limits};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use caly_core::Rejection;
use caly_core::tenancy::accounts::google;
use chrono::Utc;
use serde::Deserialize;

/// The cookie carrying a started flow.
const FLOW_COOKIE: &str = "caly_oidc";
const FLOW_PATH: &str = "/api/v1/auth/google";

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/auth/google/start", get(start))
        .route("/api/v1/auth/google/callback", get(callback))
}

#[derive(Deserialize, Default)]
struct StartParams {
    return_to: Option<String>,
}

fn redirect(location: &str, mut headers: HeaderMap) -> Response {
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    (StatusCode::FOUND, headers).into_response()
}

async fn start(
    State(ApiState { app }): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params: StartParams = crate::calls::query(raw)?;
    let started =
        google::start(&app, params.return_to.as_deref().unwrap_or("/"), Utc::now()).await?;
    let mut headers = HeaderMap::new();
    set_cookie(
        &mut headers,
        format!(
            "{FLOW_COOKIE}={}; Path={FLOW_PATH}; HttpOnly; SameSite=Lax; Max-Age=600{}",
            started.sealed_flow,
            secure(&app)
        ),
    );
    Ok(redirect(&started.redirect_to, headers))
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(ApiState { app }): State<ApiState>,
    meta: RequestMeta,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::LOGIN_PER_IP, &meta.rate_key).await?;
    let params: Callback = crate::calls::query(raw)?;
    let failed = |message: &str| Rejection::Integration {
        code: "google_failed",
        message: message.into(),
    };
    if params.error.is_some() {
        return Err(failed("Google sign-in was cancelled or refused.").into());
    }
    let (Some(code), Some(state)) = (params.code, params.state) else {
        return Err(failed("Google's answer has no code; start again.").into());
    };
    let flow = crate::access::cookie(&headers, FLOW_COOKIE)
        .ok_or_else(|| failed("This sign-in was not started here or has expired; start again."))?;
    let (session, return_to) =
        google::finish(&app, &code, &state, flow, &meta.anonymous(), Utc::now()).await?;
    let mut out = session_cookies(&app, &session);
    set_cookie(
        &mut out,
        format!(
            "{FLOW_COOKIE}=; Path={FLOW_PATH}; Max-Age=0; HttpOnly{}",
            secure(&app)
        ),
    );
    Ok(redirect(&return_to, out))
}
