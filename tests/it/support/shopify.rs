//! The tests' Shopify: Caly's local store (`caly_core::integrations::shopify::local`) with every
//! query checked against Shopify's real Admin schema beside the repository.

use caly_core::integrations::shopify::local::{LocalShopify, LocalShopifyOptions, Schema};
use std::sync::{Arc, OnceLock};

/// Shopify's published Admin schema, read once.
pub fn schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/specs/shopify-admin-2025-01.json.gz"
            );
            Arc::new(Schema::load(std::path::Path::new(path)).expect("Shopify's schema"))
        })
        .clone()
}

/// Starts a local store accepting `token` and granting `scopes`, seeded as of today.
pub async fn fake_shopify(token: &str, scopes: &[&str]) -> LocalShopify {
    LocalShopify::start(LocalShopifyOptions {
        token: token.to_string(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        schema: Some(schema()),
        today: chrono::Utc::now().date_naive(),
    })
    .await
    .expect("the local store starts")
}
