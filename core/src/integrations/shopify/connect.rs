//! Checking a store connection: the `shop` and the scopes the token was granted.

use super::{ShopifyClient, ShopifyError};
use serde_json::{Value, json};

/// Scopes the agent needs.
pub const REQUIRED_SCOPES: &[&str] = &[
    "read_orders",
    "read_customers",
    "read_products",
    "read_inventory",
];

/// Without it, orders older than 60 days are invisible (a warning, not a refusal).
pub const OPTIONAL_SCOPE: &str = "read_all_orders";

const CHECK: &str = "query CalyConnection { \
    shop { name myshopifyDomain currencyCode ianaTimezone } \
    currentAppInstallation { accessScopes { handle } } }";

/// What Shopify says about a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopInfo {
    /// The shop's name.
    pub name: String,
    /// Its permanent domain.
    pub myshopify_domain: String,
    /// Its currency.
    pub currency: String,
    /// Its time zone.
    pub timezone: String,
    /// The scopes the token was granted.
    pub scopes: Vec<String>,
}

fn text(data: &Value, pointer: &str) -> String {
    data.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Asks Shopify for the shop and the token's scopes.
pub async fn check_connection(client: &ShopifyClient) -> Result<ShopInfo, ShopifyError> {
    let data = client.query(CHECK, json!({})).await?;
    let scopes = data
        .pointer("/currentAppInstallation/accessScopes")
        .and_then(Value::as_array)
        .ok_or_else(|| ShopifyError::Unusable("no accessScopes".into()))?
        .iter()
        .filter_map(|s| s.get("handle").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    Ok(ShopInfo {
        name: text(&data, "/shop/name"),
        myshopify_domain: text(&data, "/shop/myshopifyDomain"),
        currency: text(&data, "/shop/currencyCode"),
        timezone: text(&data, "/shop/ianaTimezone"),
        scopes,
    })
}

/// The required scopes the token lacks. A `write_` scope implies its `read_` scope.
pub fn missing_scopes(granted: &[String]) -> Vec<&'static str> {
    let has = |scope: &str| {
        let write = scope.replacen("read_", "write_", 1);
        granted.iter().any(|g| g == scope || *g == write)
    };
    REQUIRED_SCOPES
        .iter()
        .copied()
        .filter(|scope| !has(scope))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_are_named_and_writes_imply_reads() {
        let granted: Vec<String> = ["read_orders", "write_products", "read_all_orders"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            missing_scopes(&granted),
            vec!["read_customers", "read_inventory"]
        );
    }
}
