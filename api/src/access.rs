//! Who is calling, and may they: the one extractor every tenant-scoped route takes.
//!
//! [`Access<R>`] authenticates the request and yields its [`Principal`] (tenant, user, role)
//! when the role is `R` or above, else 403. It accepts, in order:
//! - `Authorization: Bearer <API key>` (keys start `caly_key_`) or `X-Api-Key: <API key>`;
//! - `Authorization: Bearer <access token>`;
//! - the `caly_session` cookie, where a change (any method but GET, HEAD, OPTIONS) must also
//!   send the session's CSRF token in `X-CSRF-Token` (it is in the `caly_csrf` cookie and in
//!   the login response).
//!
//! Every tenant-scoped query takes its tenant id from [`Access::tenant_id`], nowhere else.

use crate::{ApiError, ApiState};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use caly_core::TenantId;
use caly_core::platform::crypto::constant_time_eq;
use caly_core::platform::net;
use caly_core::tenancy::accounts::{Actor, Principal, Role, Via, api_keys, sessions};
use caly_core::{CoreError, Rejection};
use chrono::Utc;
use std::marker::PhantomData;
use std::net::SocketAddr;

/// The session cookie (the access token).
pub const SESSION_COOKIE: &str = "caly_session";
/// The refresh cookie (sent only to `/api/v1/auth`).
pub const REFRESH_COOKIE: &str = "caly_refresh";
/// The CSRF cookie (readable by the page's script, to echo in `X-CSRF-Token`).
pub const CSRF_COOKIE: &str = "caly_csrf";
/// The names the session's cookies go by. Over https (`CALY_PUBLIC_URL`), the session and CSRF
/// cookies take the `__Host-` prefix (secure, this host only, path `/`) and the refresh cookie
/// `__Secure-` (its path is `/api/v1/auth`), so a sibling subdomain or a plain-http page
/// cannot plant or overwrite them.
#[derive(Clone, Copy, Debug)]
pub struct CookieNames {
    /// The access token's cookie.
    pub session: &'static str,
    /// The refresh token's cookie.
    pub refresh: &'static str,
    /// The CSRF token's cookie.
    pub csrf: &'static str,
}

/// The cookie names for this deployment.
pub fn cookie_names(app: &caly_core::App) -> CookieNames {
    if app.settings.is_https() {
        CookieNames {
            session: "__Host-caly_session",
            refresh: "__Secure-caly_refresh",
            csrf: "__Host-caly_csrf",
        }
    } else {
        CookieNames {
            session: SESSION_COOKIE,
            refresh: REFRESH_COOKIE,
            csrf: CSRF_COOKIE,
        }
    }
}

/// The header a cookie-authenticated change must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The least role a route allows, as a type.
pub trait MinRole: Send + Sync + 'static {
    /// The role.
    const ROLE: Role;
}

macro_rules! min_role {
    ($($name:ident => $role:expr),* $(,)?) => {$(
        /// Allows this role and the roles above it.
        pub struct $name;
        impl MinRole for $name {
            const ROLE: Role = $role;
        }
    )*};
}

min_role! {
    Viewer => Role::Viewer,
    Agent => Role::Agent,
    Supervisor => Role::Supervisor,
    Admin => Role::Admin,
    Owner => Role::Owner,
}

/// Where a request came from, for the audit log and rate limits.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    /// The client's address: the peer's, or, when the peer is one of `CALY_TRUSTED_PROXIES`,
    /// the one its `X-Forwarded-For` names.
    pub ip: Option<String>,
    /// What per-address rate limits count this request under: the address, an IPv6 client's
    /// /64, or `unknown`.
    pub rate_key: String,
    /// The request's id (`x-request-id`).
    pub request_id: Option<String>,
}

impl RequestMeta {
    /// Reads the client's address (behind trusted proxies) and the request id.
    pub fn of(parts: &Parts, state: &ApiState) -> RequestMeta {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| {
                // Every X-Forwarded-For line, in order: a proxy may add its own line after the
                // client's, and the client's must not be read as the last hop.
                let forwarded: Vec<&str> = parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
                net::client_address(
                    addr.ip(),
                    forwarded.as_deref(),
                    &state.app.settings.security.trusted_proxies,
                )
            });
        RequestMeta {
            ip: client.map(|ip| ip.to_string()),
            rate_key: client.map_or_else(|| "unknown".into(), net::limit_key),
            request_id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }

    /// An anonymous actor from this request (before anyone is signed in).
    pub fn anonymous(&self) -> Actor {
        Actor {
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
            ..Actor::default()
        }
    }
}

impl FromRequestParts<ApiState> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        Ok(RequestMeta::of(parts, state))
    }
}

/// A request a browser did not send from another site: refused (403 `cross_site`) when
/// `Sec-Fetch-Site` says `cross-site`, or when an `Origin` is neither this site's (its `Host`
/// or `CALY_PUBLIC_URL`) nor one of `CALY_CORS_ORIGINS`. Sign-in, sign-up and invitation
/// acceptance take it, so another site cannot sign a visitor into an account of its choosing.
/// Clients that are not browsers send neither header and pass.
pub struct NotCrossSite;

/// Whether `origin` (`scheme://host[:port]`) is this site's or an allowed one.
fn origin_allowed(state: &ApiState, headers: &HeaderMap, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    let host_of = |o: &str| {
        o.split_once("://")
            .map(|(_, rest)| rest.to_ascii_lowercase())
    };
    let request_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let settings = &state.app.settings;
    let public = settings.public_base();
    origin == public
        || settings.cors_origins.iter().any(|o| o == origin)
        || (request_host.is_some() && host_of(origin) == request_host)
}

impl FromRequestParts<ApiState> for NotCrossSite {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let cross_site = header("sec-fetch-site").is_some_and(|v| v == "cross-site")
            || header("origin").is_some_and(|o| !origin_allowed(state, &parts.headers, o));
        if cross_site {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "cross_site",
                "This request came from another site; sign in on Caly's own pages.",
            ));
        }
        Ok(NotCrossSite)
    }
}

/// An authenticated request whose role is `R` or above.
pub struct Access<R: MinRole> {
    /// Who is calling.
    pub principal: Principal,
    /// From where.
    pub meta: RequestMeta,
    role: PhantomData<R>,
}

impl<R: MinRole> Access<R> {
    /// The tenant every query of this request is scoped to.
    pub fn tenant_id(&self) -> TenantId {
        self.principal.tenant_id()
    }

    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        self.principal
            .actor(self.meta.ip.clone(), self.meta.request_id.clone())
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Checks the CSRF header against the session's token.
pub fn check_csrf(state: &ApiState, headers: &HeaderMap, session_id: i64) -> Result<(), Rejection> {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if constant_time_eq(sent, &sessions::csrf_token(&state.app, session_id)) {
        Ok(())
    } else {
        Err(Rejection::CsrfFailed)
    }
}

const NO_CREDENTIALS: &str =
    "Sign in, or send an API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.";

/// Authenticates a request (any role).
pub async fn authenticate(parts: &Parts, state: &ApiState) -> Result<Principal, CoreError> {
    let app = &state.app;
    let now = Utc::now();
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let bearer = header(header::AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer "));
    let api_key = bearer
        .filter(|v| v.starts_with("caly_key_"))
        .or_else(|| header("x-api-key"));
    if let Some(key) = api_key {
        return api_keys::authenticate(&app.db, key, now)
            .await?
            .ok_or(Rejection::Unauthenticated("That API key is not valid or was revoked.").into());
    }
    if let Some(token) = bearer {
        return sessions::authenticate(app, token.trim(), now).await;
    }
    let Some(token) = cookie(&parts.headers, cookie_names(app).session) else {
        return Err(Rejection::Unauthenticated(NO_CREDENTIALS).into());
    };
    let principal = sessions::authenticate(app, token, now).await?;
    let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let (true, Via::Session(session_id)) = (changes, principal.via) {
        check_csrf(state, &parts.headers, session_id)?;
    }
    Ok(principal)
}

/// The request's principal when it carries valid credentials, else `None` (for routes anyone
/// may call that do more for someone signed in: logout, accepting an invitation).
pub struct MaybeSignedIn(pub Option<Principal>);

impl FromRequestParts<ApiState> for MaybeSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        Ok(MaybeSignedIn(authenticate(parts, state).await.ok()))
    }
}

impl<R: MinRole> FromRequestParts<ApiState> for Access<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let principal = authenticate(parts, state).await?;
        principal.role.require(R::ROLE)?;
        Ok(Access {
            principal,
            meta: RequestMeta::of(parts, state),
            role: PhantomData,
        })
    }
}
