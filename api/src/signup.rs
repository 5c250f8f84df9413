//! Signing up: `POST /api/v1/auth/signup` `{"email", "password", "company", "name"?}` mails a
//! code bound to the answer's `signup_token` (also the `caly_signup` cookie, or
//! `__Host-caly_signup` over https); `/signup/resend` and `/signup/verify` work only with that
//! token, so a second sign-up for the same address, by anyone, never reaches the first. Every
//! route here refuses cross-site browser requests ([`NotCrossSite`]).

use crate::access::{self, NotCrossSite, RequestMeta};
use crate::accounts::{secure, session_response, set_cookie};
use crate::body::JsonBody;
use crate::limits;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use caly_core::tenancy::accounts::signup::{self, SignupRequest};
use caly_core::{App, Rejection};
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/auth/signup", post(start_signup))
        .route("/api/v1/auth/signup/resend", post(resend_code))
        .route("/api/v1/auth/signup/verify", post(verify_signup))
}

/// `{"email", "password", "company", "name"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Signup {
    email: String,
    password: SecretString,
    company: String,
    #[serde(default)]
    name: String,
}

/// The cookie that carries a pending sign-up's token in a browser, and its path: only the
/// sign-up routes over http; over https `__Host-caly_signup` (which must have path `/`), so no
/// sibling subdomain or plain-http page can plant a token of its own.
fn signup_cookie(app: &App) -> (&'static str, &'static str) {
    if app.settings.is_https() {
        ("__Host-caly_signup", "/")
    } else {
        ("caly_signup", "/api/v1/auth/signup")
    }
}

/// The code's answer, with the sign-up's token as a cookie too.
fn code_sent_response(app: &App, sent: signup::CodeSent) -> Response {
    let (name, path) = signup_cookie(app);
    let mut headers = HeaderMap::new();
    set_cookie(
        &mut headers,
        format!(
            "{name}={}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={}{}",
            sent.signup_token,
            sent.expires_in,
            secure(app)
        ),
    );
    (StatusCode::ACCEPTED, headers, Json(json!(sent))).into_response()
}

/// The sign-up's token: from the body, else from its cookie.
fn signup_token(app: &App, headers: &HeaderMap, sent: Option<String>) -> Result<String, ApiError> {
    sent.filter(|t| !t.trim().is_empty())
        .or_else(|| access::cookie(headers, signup_cookie(app).0).map(str::to_string))
        .ok_or_else(|| {
            Rejection::InvalidField {
                field: "signup_token",
                message: "is required: send the signup_token the sign-up answered with (a \
                          browser sends it as a cookie)"
                    .into(),
            }
            .into()
        })
}

async fn start_signup(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    JsonBody(body): JsonBody<Signup>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::SIGNUP_PER_IP, &meta.rate_key).await?;
    let sent = signup::start(
        &app,
        SignupRequest {
            email: body.email,
            password: body.password,
            name: body.name,
            company: body.company,
        },
        Utc::now(),
    )
    .await?;
    Ok(code_sent_response(&app, sent))
}

/// `{"email", "signup_token"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resend {
    email: String,
    signup_token: Option<String>,
}

async fn resend_code(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Resend>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::SIGNUP_PER_IP, &meta.rate_key).await?;
    let token = signup_token(&app, &headers, body.signup_token)?;
    let sent = signup::resend(&app, &body.email, &token, Utc::now()).await?;
    Ok(code_sent_response(&app, sent))
}

/// `{"email", "code", "signup_token"?}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailCode {
    email: String,
    code: String,
    signup_token: Option<String>,
}

async fn verify_signup(
    State(ApiState { app }): State<ApiState>,
    _: NotCrossSite,
    meta: RequestMeta,
    headers: HeaderMap,
    JsonBody(body): JsonBody<EmailCode>,
) -> Result<Response, ApiError> {
    limits::hit(&app, &limits::VERIFY_PER_IP, &meta.rate_key).await?;
    let token = signup_token(&app, &headers, body.signup_token)?;
    let session = signup::verify(
        &app,
        &body.email,
        &body.code,
        &token,
        &meta.anonymous(),
        Utc::now(),
    )
    .await?;
    let mut response = session_response(&app, StatusCode::CREATED, session);
    let (name, path) = signup_cookie(&app);
    let secure = secure(&app);
    set_cookie(
        response.headers_mut(),
        format!("{name}=; Path={path}; Max-Age=0; SameSite=Strict{secure}"),
    );
    Ok(response)
}
