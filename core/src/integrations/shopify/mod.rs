//! Shopify's GraphQL Admin API: a client that goes through the egress policy, sends the token
//! as `X-Shopify-Access-Token`, backs off on throttling, and reports a refused token as the
//! store being disconnected; the connection check (`shop`, granted scopes); what the agent
//! reads; and a local Shopify-compatible store for the demo and the tests.

pub mod budget;
mod client;
mod connect;
pub mod grant;
pub mod local;
pub mod store;

pub use client::{ShopifyClient, ShopifyError, ShopifyOrigin};
pub use connect::{OPTIONAL_SCOPE, REQUIRED_SCOPES, ShopInfo, check_connection, missing_scopes};
