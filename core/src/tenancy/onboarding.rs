//! Onboarding a store: connecting Shopify (a pasted `shpat_` admin token, or a Dev Dashboard
//! app's client id and secret through the client-credentials grant) and Exotel (API key, token,
//! account SID and region), each checked with the provider before anything is stored, and the
//! status that says what is done and what is missing. A tenant is ready when both are connected.

use super::shopify::{ClientApp, NewStore, save_store, store_of};
use super::{ExotelCredentials, find};
use crate::integrations::exotel::account::{AccountCheck, check_account};
use crate::integrations::exotel::details::ExotelApi;
use crate::integrations::shopify::{
    OPTIONAL_SCOPE, ShopInfo, ShopifyClient, ShopifyError, ShopifyOrigin, check_connection, grant,
    missing_scopes,
};
use crate::{App, CoreError, Rejection};
use caly_entities::status::StoreStatus;
use caly_entities::tenant;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, Set};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::future::Future;

/// How a store connects to Shopify.
#[derive(Clone, Debug)]
pub enum ShopifyCredentials {
    /// An admin-created custom app's token (`shpat_…`; never expires).
    AdminToken(SecretString),
    /// A Dev Dashboard app owned by the store's organisation.
    ClientCredentials {
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: SecretString,
    },
}

/// A store connected: what Shopify said, and what to warn about.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectedShop {
    /// The shop's name.
    pub name: String,
    /// Its permanent domain.
    pub shop: String,
    /// Its currency.
    pub currency: String,
    /// Its time zone.
    pub timezone: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// `client_credentials` or `admin_token`.
    pub auth: &'static str,
    /// Things that work but not fully (no `read_all_orders`).
    pub warnings: Vec<String>,
}

fn integration(code: &'static str, message: impl Into<String>) -> CoreError {
    Rejection::Integration {
        code,
        message: message.into(),
    }
    .into()
}

/// Which provider a check waits for: its name and the code for "no answer in time".
type Provider = (&'static str, &'static str);
const SHOPIFY: Provider = ("Shopify", "shopify_unreachable");
const EXOTEL: Provider = ("Exotel", "exotel_unreachable");

async fn in_time<T, E>(
    app: &App,
    (what, code): Provider,
    work: impl Future<Output = Result<T, E>>,
) -> Result<Result<T, E>, CoreError> {
    let limit = app.settings.integration_check_timeout;
    tokio::time::timeout(limit, work).await.map_err(|_| {
        integration(
            code,
            format!(
                "{what} did not answer within {} s; try again in a moment.",
                limit.as_secs()
            ),
        )
    })
}

fn shopify_failure(error: ShopifyError, client_app: bool) -> CoreError {
    match error {
        ShopifyError::BadShop(shop) => integration(
            "shopify_invalid_shop",
            format!("'{shop}' is not a shop's permanent domain; use the *.myshopify.com address."),
        ),
        ShopifyError::Refused(e) => integration("shopify_invalid_shop", e.to_string()),
        ShopifyError::Unauthorized(_) if client_app => integration(
            "shopify_unauthorized",
            "Shopify refused the client id and secret; copy them again from the app's settings \
             in the Dev Dashboard.",
        ),
        ShopifyError::Unauthorized(_) => integration(
            "shopify_unauthorized",
            "Shopify refused the access token; it may have been revoked or mistyped.",
        ),
        ShopifyError::Request(_) => integration(
            "shopify_unreachable",
            "Shopify could not be reached; check the shop's domain and try again.",
        ),
        other => integration(
            "shopify_error",
            format!("Shopify answered unexpectedly: {other}."),
        ),
    }
}

/// Checks the credentials with Shopify (the shop and the scopes granted) and, when every
/// required scope is granted, stores the connection. `api_url` is a loopback stand-in for the
/// shop (tests, the demo store).
pub async fn connect_shopify(
    app: &App,
    tenant: TenantId,
    shop: &str,
    credentials: ShopifyCredentials,
    api_url: Option<String>,
    now: DateTime<Utc>,
) -> Result<ConnectedShop, CoreError> {
    find(&app.db, tenant).await?;
    let egress = &app.settings.egress;
    let client_app = matches!(credentials, ShopifyCredentials::ClientCredentials { .. });
    let origin = ShopifyOrigin::new(shop, api_url.as_deref(), egress)
        .map_err(|e| shopify_failure(e, client_app))?;
    let (token, client) = match credentials {
        ShopifyCredentials::AdminToken(token) => (token, None),
        ShopifyCredentials::ClientCredentials {
            client_id,
            client_secret,
        } => {
            let granted = in_time(
                app,
                SHOPIFY,
                grant::client_credentials(&app.http, egress, &origin, &client_id, &client_secret),
            )
            .await?
            .map_err(|e| shopify_failure(e, true))?;
            let client = ClientApp {
                client_id,
                client_secret,
                token_expires_at: now + chrono::Duration::seconds(granted.expires_in as i64),
            };
            (granted.token, Some(client))
        }
    };
    let shopify = ShopifyClient::new(
        app.http.clone(),
        egress.clone(),
        origin,
        token.clone(),
        &app.settings.shopify_api_version,
    );
    let info: ShopInfo = in_time(app, SHOPIFY, check_connection(&shopify))
        .await?
        .map_err(|e| shopify_failure(e, client_app))?;
    let missing = missing_scopes(&info.scopes);
    if !missing.is_empty() {
        return Err(integration(
            "shopify_missing_scopes",
            format!(
                "The app lacks {}: grant {} in the app's API access settings, then connect again.",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            ),
        ));
    }
    let mut warnings = Vec::new();
    if !info.scopes.iter().any(|s| s == OPTIONAL_SCOPE) {
        warnings.push(format!(
            "Without {OPTIONAL_SCOPE}, orders older than 60 days stay invisible to the agent."
        ));
    }
    save_store(
        app,
        NewStore {
            tenant,
            shop: shop.to_string(),
            api_url,
            token,
            scopes: info.scopes.clone(),
            client,
        },
        now,
    )
    .await?;
    Ok(ConnectedShop {
        name: info.name,
        shop: info.myshopify_domain,
        currency: info.currency,
        timezone: info.timezone,
        scopes: info.scopes,
        auth: if client_app {
            "client_credentials"
        } else {
            "admin_token"
        },
        warnings,
    })
}

/// An Exotel account as its owner enters it.
#[derive(Clone, Debug)]
pub struct ExotelAccount {
    /// The account SID.
    pub account_sid: String,
    /// The API key.
    pub api_key: SecretString,
    /// The API token.
    pub api_token: SecretString,
    /// The region (`in`, `sg`) or its API host (`api.in.exotel.com`, `api.exotel.com`).
    pub region: String,
}

/// Exotel connected: the region the account lives in.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectedExotel {
    /// The account SID.
    pub account_sid: String,
    /// The region.
    pub region: String,
    /// Its API host.
    pub host: String,
}

/// Checks the credentials against the chosen region's account endpoint; if that region refuses
/// them but another accepts them, says which region to choose. Stores them sealed when valid.
pub async fn connect_exotel(
    app: &App,
    tenant: TenantId,
    account: ExotelAccount,
) -> Result<ConnectedExotel, CoreError> {
    let row = find(&app.db, tenant).await?;
    let hosts = &app.settings.exotel_api_hosts;
    let region = hosts
        .region_of(&account.region)
        .ok_or_else(|| Rejection::InvalidField {
            field: "region",
            message: format!(
                "must be one of {} (or their API hosts)",
                hosts.regions().join(", ")
            ),
        })?;
    let sid = account.account_sid.trim().to_string();
    let required = [
        ("account_sid", sid.as_str()),
        ("api_key", account.api_key.expose_secret()),
        ("api_token", account.api_token.expose_secret()),
    ];
    if let Some((field, _)) = required.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(Rejection::InvalidField {
            field,
            message: "must not be empty".into(),
        }
        .into());
    }
    let creds = ExotelCredentials {
        key: account.api_key.clone(),
        token: account.api_token.clone(),
    };
    let api = ExotelApi {
        http: &app.http,
        egress: &app.settings.egress,
        hosts,
    };
    let unreachable = |_| {
        integration(
            "exotel_unreachable",
            "Exotel could not be reached or answered with an error; try again in a moment.",
        )
    };
    let check = |region: String| {
        let creds = &creds;
        let sid = &sid;
        async move { check_account(api, &region, sid, creds).await }
    };
    let here = in_time(app, EXOTEL, check(region.clone()))
        .await?
        .map_err(unreachable)?;
    if let AccountCheck::Refused(_) = here {
        for other in hosts.regions().into_iter().filter(|r| *r != region) {
            let there = in_time(app, EXOTEL, check(other.clone())).await?;
            if let Ok(AccountCheck::Valid) = there {
                let host = hosts.host_of(&other).unwrap_or_default();
                return Err(integration(
                    "exotel_wrong_region",
                    format!(
                        "These credentials belong to the '{other}' region ({host}), not '{region}'; \
                         choose that region."
                    ),
                ));
            }
        }
        return Err(integration(
            "exotel_unauthorized",
            "Exotel refused the API key, token or account SID; copy them again from Exotel's \
             API settings.",
        ));
    }
    let id = row.id.to_string();
    let at = |column| crate::platform::crypto::SealedAt::new("tenants", column, &id);
    let mut active: tenant::ActiveModel = row.into();
    active.exotel_sid = Set(sid.clone());
    active.exotel_key_enc = Set(app
        .key
        .seal(account.api_key.expose_secret(), at("exotel_key_enc")));
    active.exotel_token_enc = Set(app
        .key
        .seal(account.api_token.expose_secret(), at("exotel_token_enc")));
    active.exotel_subdomain = Set(region.clone());
    active.update(&app.db).await?;
    Ok(ConnectedExotel {
        account_sid: sid,
        host: hosts.host_of(&region).unwrap_or_default(),
        region,
    })
}

/// What is done and what is missing.
#[derive(Clone, Debug, Serialize)]
pub struct OnboardingStatus {
    /// The Shopify side.
    pub shopify: ShopifyStatus,
    /// The Exotel side.
    pub exotel: ExotelStatus,
    /// Whether the webhook URLs can be shown (the secret is kept sealed).
    pub webhook_urls_available: bool,
    /// Both connected.
    pub ready: bool,
    /// What is left to do, in words.
    pub missing: Vec<String>,
}

/// Shopify's part of the status.
#[derive(Clone, Debug, Serialize)]
pub struct ShopifyStatus {
    /// Connected and usable.
    pub connected: bool,
    /// The shop's domain.
    pub shop: Option<String>,
    /// `client_credentials` or `admin_token`.
    pub auth: Option<&'static str>,
    /// Required scopes not granted.
    pub missing_scopes: Vec<&'static str>,
    /// Why Shopify disconnected it.
    pub last_error: Option<String>,
}

/// Exotel's part of the status.
#[derive(Clone, Debug, Serialize)]
pub struct ExotelStatus {
    /// Credentials stored.
    pub connected: bool,
    /// The account SID.
    pub account_sid: Option<String>,
    /// The region.
    pub region: Option<String>,
}

/// The tenant's onboarding status.
pub async fn status(app: &App, tenant: TenantId) -> Result<OnboardingStatus, CoreError> {
    let row = find(&app.db, tenant).await?;
    let store = store_of(&app.db, tenant).await?;
    let shopify = match store {
        Some(store) => {
            let scopes: Vec<String> = store.scopes.split(',').map(str::to_string).collect();
            let missing = missing_scopes(&scopes);
            ShopifyStatus {
                connected: store.status != StoreStatus::Disconnected && missing.is_empty(),
                shop: Some(store.shop.clone()),
                auth: Some(if store.client_id.is_some() {
                    "client_credentials"
                } else {
                    "admin_token"
                }),
                missing_scopes: missing,
                last_error: store.last_error,
            }
        }
        None => ShopifyStatus {
            connected: false,
            shop: None,
            auth: None,
            missing_scopes: Vec::new(),
            last_error: None,
        },
    };
    let exotel_connected = !row.exotel_sid.is_empty();
    let exotel = ExotelStatus {
        connected: exotel_connected,
        account_sid: exotel_connected.then(|| row.exotel_sid.clone()),
        region: exotel_connected.then(|| {
            app.settings
                .exotel_api_hosts
                .region_of(&row.exotel_subdomain)
                .unwrap_or(row.exotel_subdomain.clone())
        }),
    };
    let mut missing = Vec::new();
    if !shopify.connected {
        missing.push("Connect Shopify.".to_string());
    }
    if !exotel.connected {
        missing.push("Connect Exotel.".to_string());
    }
    Ok(OnboardingStatus {
        ready: shopify.connected && exotel.connected,
        webhook_urls_available: row.webhook_secret_enc.is_some(),
        shopify,
        exotel,
        missing,
    })
}
