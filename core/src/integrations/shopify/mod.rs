//! Shopify's GraphQL Admin API: a client that goes through the egress policy, sends the token
//! as `X-Shopify-Access-Token`, backs off on throttling, and reports a refused token as the
//! store being disconnected; and the connection check (`shop`, granted scopes).

mod client;
mod connect;
pub mod store;

pub use client::{ShopifyClient, ShopifyError, ShopifyOrigin};
pub use connect::{OPTIONAL_SCOPE, REQUIRED_SCOPES, ShopInfo, check_connection, missing_scopes};
