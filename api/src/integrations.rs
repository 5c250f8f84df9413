//! Onboarding and integration settings:
//! - `GET /api/v1/onboarding` (viewer): what is done and missing; `ready` when Shopify and Exotel
//!   are both connected.
//! - `GET /api/v1/integrations` (admin): the settings, never a secret.
//! - `PUT /api/v1/integrations/shopify` (admin): `{"shop", "token"}` or
//!   `{"shop", "client_id", "client_secret"}`.
//! - `PUT /api/v1/integrations/exotel` (admin): `{"account_sid", "api_key", "api_token",
//!   "region"}`; answers the webhook and Voicebot URLs to paste into the Exotel flow.
//! - `GET /api/v1/integrations/webhooks` and `POST /api/v1/integrations/webhooks/rotate`
//!   (admin): the URLs again; new URLs, the old ones working through the grace period.

use crate::access::{Access, Admin, Viewer};
use crate::body::JsonBody;
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use caly_core::tenancy::accounts::audit;
use caly_core::tenancy::onboarding::{self, ExotelAccount, ShopifyCredentials};
use caly_core::tenancy::{self, shopify};
use caly_core::{App, Rejection, TenantId};
use chrono::Utc;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/onboarding", get(onboarding_status))
        .route("/api/v1/integrations", get(settings))
        .route("/api/v1/integrations/shopify", put(connect_shopify))
        .route("/api/v1/integrations/exotel", put(connect_exotel))
        .route("/api/v1/integrations/webhooks", get(webhooks))
        .route(
            "/api/v1/integrations/webhooks/rotate",
            post(rotate_webhooks),
        )
}

async fn onboarding_status(
    State(ApiState { app }): State<ApiState>,
    access: Access<Viewer>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        onboarding::status(&app, access.tenant_id()).await?
    )))
}

async fn settings(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
) -> Result<Json<Value>, ApiError> {
    let tenant = &access.principal.tenant;
    let store = shopify::store_of(&app.db, access.tenant_id()).await?;
    let shopify = store.map(|s| {
        json!({
            "shop": s.shop,
            "status": s.status,
            "scopes": s.scopes.split(',').collect::<Vec<_>>(),
            "auth": if s.client_id.is_some() { "client_credentials" } else { "admin_token" },
            "client_id": s.client_id,
            "token_expires_at": s.token_expires_at,
            "last_error": s.last_error,
            "connected_at": s.connected_at,
        })
    });
    let exotel = (!tenant.exotel_sid.is_empty())
        .then(|| json!({"account_sid": tenant.exotel_sid, "region": tenant.exotel_subdomain}));
    Ok(Json(json!({"shopify": shopify, "exotel": exotel})))
}

/// `{"shop", "token"}` or `{"shop", "client_id", "client_secret"}`; `api_url` is a loopback
/// stand-in for the shop, accepted only with `CALY_SHOPIFY_API_URL_OVERRIDE=true`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShopifyBody {
    shop: String,
    token: Option<SecretString>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    api_url: Option<String>,
}

async fn connect_shopify(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    JsonBody(body): JsonBody<ShopifyBody>,
) -> Result<Json<Value>, ApiError> {
    let credentials = match (body.token, body.client_id, body.client_secret) {
        (Some(token), None, None) => ShopifyCredentials::AdminToken(token),
        (None, Some(client_id), Some(client_secret)) => ShopifyCredentials::ClientCredentials {
            client_id,
            client_secret,
        },
        _ => {
            return Err(Rejection::InvalidField {
                field: "token",
                message: "send either 'token' (shpat_…) or both 'client_id' and 'client_secret'"
                    .into(),
            }
            .into());
        }
    };
    // Caly talks to https://{shop}.myshopify.com. Another address is test equipment, and a
    // store's admin choosing where Caly sends its requests (with the token) is how a server
    // gets turned against its own network: only an operator may allow it.
    if body.api_url.is_some() && !app.settings.security.shopify_api_url_override {
        return Err(Rejection::InvalidField {
            field: "api_url",
            message: "is not accepted: Caly connects to https://{shop}.myshopify.com (an operator \
                      can allow test servers with CALY_SHOPIFY_API_URL_OVERRIDE)"
                .into(),
        }
        .into());
    }
    let now = Utc::now();
    let connected = onboarding::connect_shopify(
        &app,
        access.tenant_id(),
        &body.shop,
        credentials,
        body.api_url,
        now,
    )
    .await?;
    audit::record(
        &app.db,
        &access.actor(),
        "integration.shopify_connected",
        &format!("shop:{}", connected.shop),
        json!({"auth": connected.auth, "scopes": connected.scopes}),
        now,
    )
    .await?;
    Ok(Json(json!(connected)))
}

/// `{"account_sid", "api_key", "api_token", "region"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExotelBody {
    account_sid: String,
    api_key: SecretString,
    api_token: SecretString,
    region: String,
}

fn urls(app: &App, tenant: TenantId, secret: &SecretString) -> Value {
    let mut urls = serde_json::Map::new();
    for (name, url) in tenancy::webhook_urls(&app.settings.public_base(), tenant, secret) {
        urls.insert(name.to_string(), json!(url));
    }
    Value::Object(urls)
}

async fn connect_exotel(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
    JsonBody(body): JsonBody<ExotelBody>,
) -> Result<Json<Value>, ApiError> {
    let tenant = access.tenant_id();
    let connected = onboarding::connect_exotel(
        &app,
        tenant,
        ExotelAccount {
            account_sid: body.account_sid,
            api_key: body.api_key,
            api_token: body.api_token,
            region: body.region,
        },
    )
    .await?;
    let now = Utc::now();
    audit::record(
        &app.db,
        &access.actor(),
        "integration.exotel_connected",
        &format!("exotel:{}", connected.account_sid),
        json!({"region": connected.region}),
        now,
    )
    .await?;
    let secret = tenancy::webhook_secret(&app.key, &access.principal.tenant)?;
    let mut answer = json!(connected);
    answer["webhooks"] = secret
        .map(|s| urls(&app, tenant, &s))
        .unwrap_or(Value::Null);
    Ok(Json(answer))
}

async fn webhooks(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
) -> Result<Json<Value>, ApiError> {
    let secret = tenancy::webhook_secret(&app.key, &access.principal.tenant)?.ok_or_else(|| {
        Rejection::AccountConflict(
            "This store's webhook secret was made before Caly kept it; rotate it to get URLs to \
             show (the current ones keep working through the grace period)."
                .into(),
        )
    })?;
    Ok(Json(urls(&app, access.tenant_id(), &secret)))
}

async fn rotate_webhooks(
    State(ApiState { app }): State<ApiState>,
    access: Access<Admin>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    let grace = app.settings.secret_grace;
    let tenant = access.tenant_id();
    let secret = tenancy::rotate_webhook_secret(&app.db, &app.key, tenant, grace, now).await?;
    audit::record(
        &app.db,
        &access.actor(),
        "integration.webhook_secret_rotated",
        &format!("tenant:{}", tenant.0),
        json!({"grace_secs": grace.as_secs()}),
        now,
    )
    .await?;
    let mut answer = urls(&app, tenant, &secret);
    answer["previous_valid_until"] =
        json!(now + chrono::Duration::from_std(grace).unwrap_or_default());
    Ok(Json(answer))
}
