//! Tenants: creation, webhook-secret checks, secret rotation, sealed Exotel credentials, the
//! connected Shopify store, the store's profile; and people's accounts (users, roles, sessions,
//! API keys, the audit log) in [`accounts`].

pub mod accounts;
mod hours;
pub mod llm;
pub mod onboarding;
pub mod profile;
pub mod shopify;
mod tenants;

pub use tenants::{
    CreatedTenant, ExotelCredentials, NewTenant, add_rate, by_webhook_secret, create,
    create_unconnected, exotel_credentials, find, list, rotate_webhook_secret, set_billing,
    tenant_at, webhook_secret, webhook_urls,
};
