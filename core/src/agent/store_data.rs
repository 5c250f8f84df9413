//! Where the agent's tools read a store: a trait over the Shopify lookups, so the tool layer
//! works the same against a live store, the local store, or a store that is not connected.

use crate::integrations::shopify::store::{self, Order, Product};
use crate::integrations::shopify::{ShopifyClient, ShopifyError};
use async_trait::async_trait;

/// The store lookups the tools use.
#[async_trait]
pub trait StoreData: Send + Sync {
    /// Orders by the number a shopper reads out.
    async fn orders_by_number(&self, number: &str) -> Result<Vec<Order>, ShopifyError>;
    /// The recent orders of the customers with this phone (E.164), newest first.
    async fn orders_of_phone(&self, e164: &str) -> Result<Vec<Order>, ShopifyError>;
    /// Active products matching any of these words.
    async fn search_products(&self, words: &[&str]) -> Result<Vec<Product>, ShopifyError>;
}

#[async_trait]
impl StoreData for ShopifyClient {
    async fn orders_by_number(&self, number: &str) -> Result<Vec<Order>, ShopifyError> {
        store::orders_by_number(self, number).await
    }

    async fn orders_of_phone(&self, e164: &str) -> Result<Vec<Order>, ShopifyError> {
        let mut orders = Vec::new();
        for customer in store::customers_by_phone(self, e164).await?.iter().take(2) {
            orders.extend(store::orders_of_customer(self, &customer.id).await?);
        }
        orders.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(orders)
    }

    async fn search_products(&self, words: &[&str]) -> Result<Vec<Product>, ShopifyError> {
        store::search_products(self, words).await
    }
}
