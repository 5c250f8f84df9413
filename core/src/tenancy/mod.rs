//! Tenants: creation, API-key and webhook-secret checks, secret rotation, sealed Exotel
//! credentials, the connected Shopify store, the store's profile. Users, roles and sessions join here.

mod hours;
pub mod llm;
pub mod profile;
pub mod shopify;
mod tenants;

pub use tenants::{
    CreatedTenant, ExotelCredentials, NewTenant, add_rate, by_api_key, by_webhook_secret, create,
    exotel_credentials, find, list, rotate_webhook_secret, webhook_urls,
};
