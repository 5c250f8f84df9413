//! A tenant's Shopify connection: stored with its token sealed under the master key, turned
//! back into a client, and marked disconnected when Shopify refuses the token.

use crate::App;
use crate::CoreError;
use crate::integrations::shopify::{ShopifyClient, ShopifyError, ShopifyOrigin, grant};
use caly_entities::shopify_store;
use caly_entities::status::StoreStatus;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};

/// A store connection that passed its check.
#[derive(Debug, Clone)]
pub struct NewStore {
    /// The tenant.
    pub tenant: TenantId,
    /// The permanent `*.myshopify.com` domain.
    pub shop: String,
    /// A loopback stand-in for the shop's origin.
    pub api_url: Option<String>,
    /// The Admin API token (sealed before storing).
    pub token: SecretString,
    /// The scopes Shopify granted.
    pub scopes: Vec<String>,
    /// The Dev Dashboard app behind a client-credentials token (none for a pasted token).
    pub client: Option<ClientApp>,
}

/// A Dev Dashboard app whose client-credentials token Caly keeps fresh.
#[derive(Debug, Clone)]
pub struct ClientApp {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret (sealed before storing).
    pub client_secret: SecretString,
    /// When the current token expires.
    pub token_expires_at: DateTime<Utc>,
}

/// The sealed columns of `shopify_stores`, whose rows are keyed by tenant id.
const TOKEN: &str = "token_enc";
const CLIENT_SECRET: &str = "client_secret_enc";

/// Where a store's sealed value lives (bound to the tenant's row).
pub fn store_at<'a>(
    column: &'static str,
    tenant_id: &'a str,
) -> crate::platform::crypto::SealedAt<'a> {
    crate::platform::crypto::SealedAt::new("shopify_stores", column, tenant_id)
}

/// Stores (or replaces) the tenant's store connection, connected.
pub async fn save_store(
    app: &App,
    new: NewStore,
    now: DateTime<Utc>,
) -> Result<shopify_store::Model, CoreError> {
    crate::tenancy::find(&app.db, new.tenant).await?;
    let id = new.tenant.0.to_string();
    let row = shopify_store::ActiveModel {
        tenant_id: Set(new.tenant.0),
        shop: Set(new.shop.trim().to_ascii_lowercase()),
        api_url: Set(new.api_url),
        token_enc: Set(app
            .key
            .seal(new.token.expose_secret(), store_at(TOKEN, &id))),
        scopes: Set(new.scopes.join(",")),
        status: Set(StoreStatus::Connected),
        last_error: Set(None),
        connected_at: Set(now),
        updated_at: Set(now),
        client_id: Set(new.client.as_ref().map(|c| c.client_id.clone())),
        client_secret_enc: Set(new.client.as_ref().map(|c| {
            app.key.seal(
                c.client_secret.expose_secret(),
                store_at(CLIENT_SECRET, &id),
            )
        })),
        token_expires_at: Set(new.client.as_ref().map(|c| c.token_expires_at)),
    };
    shopify_store::Entity::insert(row)
        .on_conflict(
            OnConflict::column(shopify_store::Column::TenantId)
                .update_columns([
                    shopify_store::Column::Shop,
                    shopify_store::Column::ApiUrl,
                    shopify_store::Column::TokenEnc,
                    shopify_store::Column::Scopes,
                    shopify_store::Column::Status,
                    shopify_store::Column::LastError,
                    shopify_store::Column::ConnectedAt,
                    shopify_store::Column::UpdatedAt,
                    shopify_store::Column::ClientId,
                    shopify_store::Column::ClientSecretEnc,
                    shopify_store::Column::TokenExpiresAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&app.db)
        .await?;
    store_of(&app.db, new.tenant)
        .await?
        .ok_or(CoreError::NotFound("shopify store"))
}

/// The tenant's store connection, if any.
pub async fn store_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Option<shopify_store::Model>, CoreError> {
    Ok(shopify_store::Entity::find_by_id(tenant.0).one(db).await?)
}

/// A client for a stored connection.
pub fn client_for(app: &App, store: &shopify_store::Model) -> Result<ShopifyClient, CoreError> {
    let egress = &app.settings.egress;
    let origin = ShopifyOrigin::new(&store.shop, store.api_url.as_deref(), egress)
        .map_err(|e| crate::Rejection::InvalidShop(e.to_string()))?;
    let id = store.tenant_id.to_string();
    let token = SecretString::from(app.key.open(&store.token_enc, store_at(TOKEN, &id))?);
    let client = ShopifyClient::new(
        app.http.clone(),
        egress.clone(),
        origin,
        token,
        &app.settings.shopify_api_version,
    );
    Ok(client.with_budget(app.shopify_budget.clone(), &store.shop))
}

/// A client-credentials token is replaced this long before it expires.
pub const REFRESH_BEFORE_EXPIRY: chrono::Duration = chrono::Duration::hours(1);

/// A client for the tenant's store, unless none is connected or Shopify disconnected it. A
/// client-credentials token within [`REFRESH_BEFORE_EXPIRY`] of expiring is replaced first.
pub async fn connected_client(
    app: &App,
    tenant: TenantId,
) -> Result<Option<ShopifyClient>, CoreError> {
    match store_of(&app.db, tenant).await? {
        Some(store) if store.status != StoreStatus::Disconnected => {
            let store = match fresh_token(app, store, Utc::now()).await? {
                Some(store) => store,
                None => return Ok(None),
            };
            Ok(Some(client_for(app, &store)?))
        }
        _ => Ok(None),
    }
}

/// The store with a token good for a while yet: a client-credentials token near its expiry is
/// granted anew and stored. `None` when Shopify refused the app's credentials (the store is then
/// marked disconnected); a grant that fails otherwise keeps the cached token.
pub async fn fresh_token(
    app: &App,
    store: shopify_store::Model,
    now: DateTime<Utc>,
) -> Result<Option<shopify_store::Model>, CoreError> {
    let (Some(client_id), Some(sealed), Some(expires_at)) = (
        store.client_id.clone(),
        store.client_secret_enc.clone(),
        store.token_expires_at,
    ) else {
        return Ok(Some(store));
    };
    if expires_at - REFRESH_BEFORE_EXPIRY > now {
        return Ok(Some(store));
    }
    let egress = &app.settings.egress;
    let origin = ShopifyOrigin::new(&store.shop, store.api_url.as_deref(), egress)
        .map_err(|e| crate::Rejection::InvalidShop(e.to_string()))?;
    let id = store.tenant_id.to_string();
    let secret = SecretString::from(app.key.open(&sealed, store_at(CLIENT_SECRET, &id))?);
    let tenant = TenantId(store.tenant_id);
    match grant::client_credentials(&app.http, egress, &origin, &client_id, &secret).await {
        Ok(granted) => {
            let until = now + chrono::Duration::seconds(granted.expires_in as i64);
            shopify_store::Entity::update_many()
                .col_expr(
                    shopify_store::Column::TokenEnc,
                    Expr::value(
                        app.key
                            .seal(granted.token.expose_secret(), store_at(TOKEN, &id)),
                    ),
                )
                .col_expr(shopify_store::Column::TokenExpiresAt, Expr::value(until))
                .col_expr(shopify_store::Column::UpdatedAt, Expr::value(now))
                .filter(shopify_store::Column::TenantId.eq(tenant.0))
                .exec(&app.db)
                .await?;
            store_of(&app.db, tenant).await
        }
        Err(error @ ShopifyError::Unauthorized(_)) => {
            mark_disconnected(&app.db, tenant, &error.to_string(), now).await?;
            Ok(None)
        }
        Err(error) => {
            tracing::warn!(%error, tenant = tenant.0, "shopify token not renewed; using the cached one");
            Ok(Some(store))
        }
    }
}

/// After a failed Shopify call: when Shopify refused the token (401/403: revoked, or the app
/// uninstalled), marks the store disconnected so the owner sees why. Returns true when it did.
pub async fn note_failure(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    error: &ShopifyError,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    if !matches!(error, ShopifyError::Unauthorized(_)) {
        return Ok(false);
    }
    mark_disconnected(db, tenant, &error.to_string(), now).await?;
    Ok(true)
}

/// Marks the store disconnected (Shopify refused its token), with the reason its owner sees.
pub async fn mark_disconnected(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    shopify_store::Entity::update_many()
        .col_expr(
            shopify_store::Column::Status,
            Expr::value(StoreStatus::Disconnected),
        )
        .col_expr(shopify_store::Column::LastError, Expr::value(reason))
        .col_expr(shopify_store::Column::UpdatedAt, Expr::value(now))
        .filter(shopify_store::Column::TenantId.eq(tenant.0))
        .exec(db)
        .await?;
    Ok(())
}
