//! Signing in and out: `POST /api/v1/auth/login`, `/refresh`, `/logout`, `/password/forgot`,
//! `/password/reset` (sign-up is in `signup`). A session comes back as JSON (for apps using the
//! `Authorization` header) and as cookies (for the browser): `caly_session` (httpOnly,
//! SameSite=Lax), `caly_refresh` (httpOnly, SameSite=Strict, only sent to `/api/v1/auth`) and
//! `caly_csrf` (readable, to echo in `X-CSRF-Token`), with `__Host-`/`__Secure-` names over
//! https. Every route here refuses cross-site browser requests ([`NotCrossSite`]).

use crate::access::{self, MaybeSignedIn, NotCrossSite, RequestMeta, cookie_names};
use crate::body::JsonBody;
use crate::limits;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use caly_core::tenancy::accounts::login::{self, ResetProof};
use caly_core::tenancy::accounts::sessions::{self, SessionTokens};
use caly_core::tenancy::accounts::{Via, audit};
use caly_core::{App, Rejection};
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/auth/login", post(log_in))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(log_out))
        .route("/api/v1/auth/password/forgot", post(forgot_password))
        .route("/api/v1/auth/password/reset", post(reset_password))
}

pub(crate) fn secure(app: &App) -> &'static str {
    if app.settings.is_https() {
        "; Secure"
    } else {
        ""
    }
}

pub(crate) fn set_cookie(headers: &mut HeaderMap, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// The session's cookies.
pub(crate) fn session_cookies(app: &App, session: &SessionTokens) -> HeaderMap {
    let secure = secure(app);
    let names = cookie_names(app);
    let (session_cookie, refresh_cookie, csrf_cookie) = (names.session, names.refresh, names.csrf);
    let mut headers = HeaderMap::new();
    set_cookie(
        &mut headers,
        format!(
            "{session_cookie}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            session.access_token, session.expires_in
        ),
    );
    set_cookie(
        &mut headers,
        format!(
            "{refresh_cookie}={}; Path=/api/v1/auth; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            session.refresh_token, session.refresh_expires_in
        ),
    );
    set_cookie(
        &mut headers,
        format!(
            "{csrf_cookie}={}; Path=/; SameSite=Lax; Max-Age={}{secure}",
            session.csrf_token, session.refresh_expires_in
        ),
    );
    headers
}

/// The session as JSON and as cookies.
pub(crate) fn session_response(app: &App, status: StatusCode, session: SessionTokens) -> Response {
    let headers = session_cookies(app, &session);
    let body = json!({
        "access_token": session.access_token,
        "token_type": "Bearer",
        "expires_in": session.expires_in,
        "refresh_token": session.refresh_token,
        "refresh_expires_in": session.refresh_expires_in,
        "csrf_token": session.csrf_token,
        "user": {
            "id": session.user.id,
            "email": session.user.email,
            "name": session.user.name,
            "phone": session.user.phone,
        },
        "tenant": {"id": session.tenant.id, "name": session.tenant.name},
        "role": session.role,
    });
    (status, headers, Json(body)).into_response()
}

fn cleared_cookies(app: &App) -> HeaderMap {
    let secure = secure(app);
    let names = cookie_names(app);
    let mut headers = HeaderMap::new();
    for (name, path) in [
        (names.session, "/"),
        (names.refresh, "/api/v1/auth"),
        (names.csrf, "/"),
    ] {
        set_cookie(
            &mut headers,
            format!("{name}=; Path={path}; Max-Age=0; SameSite=Lax{secure}"),
        );
    }
    headers
}

/// `{"email"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailOnly {
    email: String,
}

/// `{"email", "password", "tenant_id"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: SecretString,
    tenant_id: Option<i64>,
}

/// Signs in. Past the IP limit a request is refused; tries for one account from one address
/// without a success make the next try from there wait longer each time (the owner,
/// elsewhere, is never locked out), and the account's owner is mailed when failures pile up.
async fn log_in(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::LOGIN_PER_IP, &meta.rate_key).await?;
    let account = body.email.trim().to_lowercase();
    let guesser = format!("{account}|{}", meta.rate_key);
    app.limits
        .attempt(&limits::LOGIN_FAILURE_BACKOFF, &guesser)
        .await?;
    let now = Utc::now();
    let session = login::login(
        &app,
        &body.email,
        &body.password,
        body.tenant_id,
        &meta.anonymous(),
        now,
    )
    .await;
    match &session {
        Err(caly_core::CoreError::Rejected(Rejection::BadCredentials)) => {
            let failures = app
                .limits
                .count_hit(&limits::LOGIN_FAILURES_PER_ACCOUNT, &account)
                .await;
            if let Some(failures) =
                failures.filter(|n| *n == limits::LOGIN_FAILURES_PER_ACCOUNT.max)
            {
                // Off the request: the answer must not wait on mail, or differ when it fails.
                let app = app.clone();
                tokio::spawn(async move {
                    if let Err(error) =
                        login::warn_of_failed_logins(&app, &account, failures, now).await
                    {
                        tracing::warn!(%error, "failed-login warning not sent");
                    }
                });
            }
        }
        Ok(_) => {
            app.limits
                .clear(&limits::LOGIN_FAILURE_BACKOFF, &guesser)
                .await
        }
        Err(_) => {}
    }
    Ok(session_response(&app, StatusCode::OK, session?))
}

/// `{"refresh_token"}`, or none with the refresh cookie (then `X-CSRF-Token` too).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: Option<String>,
}

/// The refresh token from the body, or from the cookie with the session's CSRF token.
async fn refresh_token_of(
    state: &ApiState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<String>, ApiError> {
    crate::body::require_json(headers, body)?;
    let parsed: Refresh = if body.iter().all(u8::is_ascii_whitespace) {
        Refresh::default()
    } else {
        serde_json::from_slice(body).map_err(crate::body::body_error)?
    };
    if let Some(token) = parsed.refresh_token {
        return Ok(Some(token));
    }
    let Some(token) = access::cookie(headers, cookie_names(&state.app).refresh) else {
        return Ok(None);
    };
    if let Some(session_id) = sessions::session_of_refresh(&state.app.db, token).await? {
        access::check_csrf(state, headers, session_id)?;
    }
    Ok(Some(token.to_string()))
}

async fn refresh(
    State(state): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let token =
        refresh_token_of(&state, &headers, &body)
            .await?
            .ok_or(Rejection::Unauthenticated(
                "Send the refresh token as {\"refresh_token\": …} or in its cookie.",
            ))?;
    let session = sessions::refresh(&state.app, &token, &meta.anonymous(), Utc::now()).await?;
    Ok(session_response(&state.app, StatusCode::OK, session))
}

async fn log_out(
    State(state): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    MaybeSignedIn(signed_in): MaybeSignedIn,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let app = &state.app;
    // Signed out by the session's access token (header or cookie) or by its refresh token.
    let session = match signed_in.map(|p| (p.via, p)) {
        Some((Via::Session(id), principal)) => Some((
            id,
            principal.actor(meta.ip.clone(), meta.request_id.clone()),
        )),
        _ => match refresh_token_of(&state, &headers, &body).await? {
            Some(token) => sessions::session_of_refresh(&app.db, &token)
                .await?
                .map(|id| (id, meta.anonymous())),
            None => None,
        },
    };
    let (session_id, actor) = session.ok_or(Rejection::Unauthenticated(
        "Send the session's access token or refresh token to sign out.",
    ))?;
    sessions::revoke(&app.db, session_id, now).await?;
    audit::record(
        &app.db,
        &actor,
        "auth.logout",
        &format!("session:{session_id}"),
        json!({}),
        now,
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, cleared_cookies(app)).into_response())
}

async fn forgot_password(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    JsonBody(body): JsonBody<EmailOnly>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::RESET_PER_IP, &meta.rate_key).await?;
    login::forgot_password(&app, &body.email, &meta.anonymous(), Utc::now()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"status": "If the address has an account, a code and a link are on their way."}),
        ),
    )
        .into_response())
}

/// `{"email", "code", "password"}` or `{"token", "password"}`, with `"revoke_api_keys": true`
/// to revoke the API keys the person created.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {
    email: Option<String>,
    code: Option<String>,
    token: Option<String>,
    password: SecretString,
    #[serde(default)]
    revoke_api_keys: bool,
}

async fn reset_password(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    JsonBody(body): JsonBody<Reset>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::RESET_PER_IP, &meta.rate_key).await?;
    let proof = match (body.email, body.code, body.token) {
        (Some(email), Some(code), None) => ResetProof::Code { email, code },
        (None, None, Some(token)) => ResetProof::Link(token),
        _ => {
            return Err(Rejection::InvalidField {
                field: "token",
                message: "send either 'email' and 'code', or 'token' from the link".into(),
            }
            .into());
        }
    };
    login::reset_password(
        &app,
        proof,
        &body.password,
        body.revoke_api_keys,
        &meta.anonymous(),
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, cleared_cookies(&app)).into_response())
}
