//! `caly tenant connect-shopify`: check a store's token with Shopify, then keep it sealed (the
//! same check as the onboarding API).

use caly_core::tenancy::onboarding::{self, ShopifyCredentials};
use caly_core::{App, TenantId};
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
    let credentials = ShopifyCredentials::AdminToken(SecretString::from(token));
    let shop = onboarding::connect_shopify(app, tenant, shop, credentials, api_url, now).await?;
    println!(
        "shop: {} ({}, {}, {})",
        shop.name, shop.shop, shop.currency, shop.timezone
    );
    println!("granted scopes: {}", shop.scopes.join(", "));
    for warning in &shop.warnings {
        println!("warning: {warning}");
    }
    println!(
        "tenant {tenant}: connected to {} (token stored encrypted)",
        shop.shop
    );
    Ok(())
}
