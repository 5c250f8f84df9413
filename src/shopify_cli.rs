//! `caly tenant connect-shopify`: check a store's token with Shopify, then keep it sealed.

use caly_core::integrations::shopify::{
    OPTIONAL_SCOPE, ShopifyClient, ShopifyOrigin, check_connection, missing_scopes,
};
use caly_core::tenancy::shopify::{NewStore, save_store};
use caly_core::{App, TenantId, tenancy};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// Checks the shop and the token's scopes; stores the connection when every required scope is
/// granted, and names the ones that are not.
pub async fn connect(
    app: &App,
    tenant: TenantId,
    shop: &str,
    token: String,
    api_url: Option<String>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    tenancy::find(&app.db, tenant).await?;
    let origin = ShopifyOrigin::new(shop, api_url.as_deref(), &app.settings.egress)?;
    let token = SecretString::from(token);
    let client = ShopifyClient::new(
        app.http.clone(),
        app.settings.egress.clone(),
        origin,
        token.clone(),
        &app.settings.shopify_api_version,
    );
    let info = check_connection(&client).await?;
    println!(
        "shop: {} ({}, {}, {})",
        info.name, info.myshopify_domain, info.currency, info.timezone
    );
    println!("granted scopes: {}", info.scopes.join(", "));
    let missing = missing_scopes(&info.scopes);
    anyhow::ensure!(
        missing.is_empty(),
        "the token lacks {}: grant {} to the app in Shopify, then connect again",
        missing.join(", "),
        if missing.len() == 1 { "it" } else { "them" }
    );
    if !info.scopes.iter().any(|s| s == OPTIONAL_SCOPE) {
        println!(
            "warning: no {OPTIONAL_SCOPE} scope: orders older than 60 days stay invisible to the agent"
        );
    }
    let store = save_store(
        app,
        NewStore {
            tenant,
            shop: shop.to_string(),
            api_url,
            token,
            scopes: info.scopes,
            client: None,
        },
        now,
    )
    .await?;
    println!(
        "tenant {}: connected to {} (token stored encrypted)",
        tenant, store.shop
    );
    Ok(())
}
