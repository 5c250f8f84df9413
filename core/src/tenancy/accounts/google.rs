//! "Sign in with Google": the OpenID Connect authorization-code flow with PKCE (S256), a state
//! and a nonce. The flow's secrets travel in a short-lived cookie sealed with the master key, so
//! any api process can finish a flow another started.
//!
//! The ID token comes straight from Google's token endpoint over TLS, in exchange for the code,
//! the client secret and the PKCE verifier; as OpenID Connect Core 3.1.3.7 allows for that case,
//! Caly checks its issuer, audience, expiry and nonce rather than its signature.
//!
//! The Google account's verified email links to a Caly user with that email (recording Google's
//! subject id), or creates one: a verified user who owns a new store named after them.

use super::members::{self, NewUser};
use super::sessions::{self, SessionTokens};
use super::{Actor, audit};
use crate::platform::crypto::random_token;
use crate::{App, CoreError, Rejection};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caly_entities::{membership, user};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The Google client (`CALY_GOOGLE_CLIENT_ID`, `CALY_GOOGLE_CLIENT_SECRET`, `CALY_GOOGLE_ISSUER`).
#[derive(Clone, Debug)]
pub struct GoogleSettings {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
    /// The issuer, whose discovery document names the endpoints
    /// (`https://accounts.google.com`).
    pub issuer: String,
}

/// How long a started sign-in may take.
const FLOW_TTL_SECS: i64 = 600;

/// What the flow keeps between the redirect to Google and the callback (sealed in a cookie).
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    return_to: String,
    expires: i64,
}

/// A started sign-in: where to send the browser, and the sealed flow for its cookie.
#[derive(Debug)]
pub struct Started {
    /// Google's authorization URL.
    pub redirect_to: String,
    /// The sealed flow.
    pub sealed_flow: String,
}

/// Where a sign-in flow's sealed state lives: the `caly_oidc` cookie.
const FLOW_SEALED_AT: crate::platform::crypto::SealedAt<'static> =
    crate::platform::crypto::SealedAt {
        table: "cookie",
        column: "caly_oidc",
        row: "flow",
    };

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

fn settings(app: &App) -> Result<&GoogleSettings, CoreError> {
    app.settings.accounts.google.as_ref().ok_or_else(|| {
        Rejection::Integration {
            code: "google_not_configured",
            message: "Sign in with Google is not set up on this deployment.".into(),
        }
        .into()
    })
}

fn failed(message: impl Into<String>) -> CoreError {
    Rejection::Integration {
        code: "google_failed",
        message: message.into(),
    }
    .into()
}

async fn discover(app: &App, google: &GoogleSettings) -> Result<Discovery, CoreError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        google.issuer.trim_end_matches('/')
    );
    let url = app
        .settings
        .egress
        .check(&allowed(&google.issuer), &url)
        .map_err(|e| failed(e.to_string()))?;
    app.http
        .get(url)
        .send()
        .await
        .map_err(|_| failed("Google could not be reached; try again."))?
        .json()
        .await
        .map_err(|_| failed("Google's discovery document is not usable."))
}

fn allowed(issuer: &str) -> crate::platform::egress::AllowList {
    let host = url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    crate::platform::egress::AllowList::parse("", "CALY_GOOGLE_ISSUER")
        .with_host(&host)
        .with_host("oauth2.googleapis.com")
        .with_host("accounts.google.com")
}

/// The redirect URI registered with Google.
pub fn redirect_uri(app: &App) -> String {
    format!("{}/api/v1/auth/google/callback", app.settings.public_base())
}

/// Starts a sign-in: a state, a nonce and a PKCE verifier, sealed for the cookie.
pub async fn start(app: &App, return_to: &str, now: DateTime<Utc>) -> Result<Started, CoreError> {
    let google = settings(app)?;
    let discovery = discover(app, google).await?;
    let flow = Flow {
        state: random_token(""),
        nonce: random_token(""),
        verifier: random_token(""),
        return_to: super::safe_return_path(return_to),
        expires: now.timestamp() + FLOW_TTL_SECS,
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(flow.verifier.as_bytes()));
    let mut url = url::Url::parse(&discovery.authorization_endpoint)
        .map_err(|_| failed("Google's authorization endpoint is not a URL."))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &google.client_id)
        .append_pair("redirect_uri", &redirect_uri(app))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &flow.state)
        .append_pair("nonce", &flow.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(Started {
        redirect_to: url.to_string(),
        sealed_flow: app.key.seal(
            &serde_json::to_string(&flow).expect("serialisable"),
            FLOW_SEALED_AT,
        ),
    })
}

#[derive(Deserialize)]
struct IdClaims {
    iss: String,
    aud: Value,
    exp: i64,
    nonce: Option<String>,
    sub: String,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
}

fn claims_of(id_token: &str) -> Result<IdClaims, CoreError> {
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or_else(|| failed("Google's ID token is not a JWT."))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| failed("Google's ID token is not readable."))?;
    serde_json::from_slice(&bytes).map_err(|_| failed("Google's ID token is not readable."))
}

/// Finishes a sign-in: checks the state, exchanges the code (with the PKCE verifier), checks the
/// ID token, links or creates the user, and opens a session. Returns it and where to go.
pub async fn finish(
    app: &App,
    code: &str,
    state: &str,
    sealed_flow: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(SessionTokens, String), CoreError> {
    let google = settings(app)?;
    // Bound to its cookie: only a flow sealed for it opens (never a value from elsewhere).
    let flow: Flow = app
        .key
        .open(sealed_flow, FLOW_SEALED_AT)
        .ok()
        .filter(|_| sealed_flow.starts_with("v3:"))
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(|| failed("This sign-in was not started here or has expired; start again."))?;
    if flow.expires < now.timestamp()
        || !crate::platform::crypto::constant_time_eq(&flow.state, state)
    {
        return Err(failed(
            "This sign-in was not started here or has expired; start again.",
        ));
    }
    let discovery = discover(app, google).await?;
    let url = app
        .settings
        .egress
        .check(&allowed(&google.issuer), &discovery.token_endpoint)
        .map_err(|e| failed(e.to_string()))?;
    let response = app
        .http
        .post(url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri(app)),
            ("client_id", &google.client_id),
            ("client_secret", google.client_secret.expose_secret()),
            ("code_verifier", &flow.verifier),
        ])
        .send()
        .await
        .map_err(|_| failed("Google could not be reached; try again."))?;
    if !response.status().is_success() {
        return Err(failed("Google did not accept the sign-in; start again."));
    }
    let tokens: Value = response
        .json()
        .await
        .map_err(|_| failed("Google's answer is not usable."))?;
    let claims = claims_of(tokens["id_token"].as_str().unwrap_or_default())?;
    let audience_ok = match &claims.aud {
        Value::String(aud) => *aud == google.client_id,
        Value::Array(list) => list.iter().any(|a| a.as_str() == Some(&google.client_id)),
        _ => false,
    };
    let issuer_ok = claims.iss.trim_end_matches('/') == discovery.issuer.trim_end_matches('/');
    if !issuer_ok
        || !audience_ok
        || claims.exp <= now.timestamp()
        || claims.nonce.as_deref() != Some(flow.nonce.as_str())
    {
        return Err(failed("Google's ID token did not check out; start again."));
    }
    let (Some(email), Some(true)) = (claims.email.clone(), claims.email_verified) else {
        return Err(failed("Google did not share a verified email address."));
    };
    let email = super::normalise_email(&email)?;
    let user = link_or_create(app, &claims, &email, actor, now).await?;
    // The first store the person is not suspended in.
    let tenant_id = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .filter(membership::Column::DisabledAt.is_null())
        .order_by_asc(membership::Column::Id)
        .one(&app.db)
        .await?
        .map(|m| m.tenant_id)
        .ok_or(Rejection::AccountDisabled)?;
    let actor = actor.in_tenant(tenant_id).as_user(user.id, &user.email);
    let session = sessions::open(app, user, tenant_id, &actor, now).await?;
    audit::record(
        &app.db,
        &actor,
        "auth.login_google",
        &format!("session:{}", session.session_id),
        json!({}),
        now,
    )
    .await?;
    Ok((session, flow.return_to))
}

async fn link_or_create(
    app: &App,
    claims: &IdClaims,
    email: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<user::Model, CoreError> {
    if let Some(user) = user::Entity::find()
        .filter(user::Column::GoogleSub.eq(&claims.sub))
        .one(&app.db)
        .await?
    {
        return Ok(user);
    }
    if let Some(user) = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&app.db)
        .await?
    {
        // Google verified the address, so it is the same person: link the accounts.
        let mut active: user::ActiveModel = user.into();
        active.google_sub = Set(Some(claims.sub.clone()));
        active.email_verified_at = Set(Some(now));
        return Ok(active.update(&app.db).await?);
    }
    let name = claims
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
    let txn = app.db.begin().await?;
    let name: String = name.chars().take(200).collect();
    let new = NewUser {
        email,
        name: &name,
        password_hash: None,
        google_sub: Some(claims.sub.clone()),
    };
    let store_name = format!("{name}'s store");
    let (user, tenant) = members::create_owner(
        &txn,
        &app.key,
        new,
        &store_name,
        app.settings.default_rate_paise,
        now,
    )
    .await?;
    let actor = actor.in_tenant(tenant.id).as_user(user.id, &user.email);
    audit::record(
        &txn,
        &actor,
        "auth.signup_google",
        &format!("user:{}", user.id),
        json!({"tenant": tenant.id}),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}
