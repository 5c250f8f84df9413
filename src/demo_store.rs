//! The embedded default's demo store: Caly's local Shopify-compatible server, seeded with Kesar
//! Ethnic Wear, started with `caly run` and connected to the demo tenant together with its
//! profile, so a newcomer can talk to the agent with no Shopify account. A store the owner
//! connected themselves is never replaced.

use caly_core::integrations::shopify::local::{ALL_SCOPES, LocalShopify, LocalShopifyOptions};
use caly_core::tenancy::profile::{self, StoreProfile};
use caly_core::tenancy::shopify::{self, NewStore};
use caly_core::{App, TenantId};
use chrono::Utc;

/// The demo store's profile.
const PROFILE: &str = include_str!("demo_data/kesar-profile.toml");

/// The demo store's shop domain.
const SHOP: &str = "kesar.myshopify.com";

/// Starts the demo store and connects `tenant` to it, unless the tenant has a real store.
/// Returns the running store (it serves until the process ends).
pub async fn start(app: &App, tenant: TenantId) -> anyhow::Result<Option<LocalShopify>> {
    if !app.settings.egress.allow_loopback {
        println!("demo store: off (CALY_EGRESS_ALLOW_LOOPBACK is false)");
        return Ok(None);
    }
    // Only the demo store itself is ever replaced (its port changes with every start).
    if let Some(existing) = shopify::store_of(&app.db, tenant).await?
        && !(existing.shop == SHOP && existing.api_url.is_some())
    {
        return Ok(None);
    }
    let token = caly_core::platform::crypto::random_token("shpat_demo_");
    let store = LocalShopify::start(LocalShopifyOptions {
        token: token.clone(),
        scopes: ALL_SCOPES.map(String::from).to_vec(),
        schema: None,
        today: Utc::now().date_naive(),
    })
    .await?;
    let now = Utc::now();
    let new = NewStore {
        tenant,
        shop: SHOP.into(),
        api_url: Some(store.base.clone()),
        token: token.into(),
        scopes: ALL_SCOPES.map(String::from).to_vec(),
        client: None,
    };
    shopify::save_store(app, new, now).await?;
    if profile::profile_of(&app.db, tenant).await?.is_none() {
        let demo = StoreProfile::parse(PROFILE, "toml")?;
        profile::save_profile(&app.db, tenant, &demo, now).await?;
    }
    println!(
        "demo store: Kesar Ethnic Wear at {} (orders #1001 to #1010, #2041 in place of #1005; try the customer +919812345678, Rahul Verma)",
        store.base
    );
    Ok(Some(store))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_profile_is_valid() {
        let profile =
            caly_core::tenancy::profile::StoreProfile::parse(super::PROFILE, "toml").unwrap();
        assert_eq!(profile.bot_name, "Meera");
    }
}
