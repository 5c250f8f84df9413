//! A tenant's connected Shopify store (one per tenant).

use crate::status::StoreStatus;
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The store, its sealed token and its state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "shopify_stores")]
pub struct Model {
    /// Owning tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    /// The permanent `*.myshopify.com` domain.
    pub shop: String,
    /// A loopback origin standing in for `https://{shop}` (tests, the demo store).
    pub api_url: Option<String>,
    /// The Admin API token, sealed under the master key.
    #[serde(skip)]
    pub token_enc: String,
    /// Granted access scopes, comma-separated.
    pub scopes: String,
    /// Connected or disconnected.
    pub status: StoreStatus,
    /// Why it was disconnected.
    pub last_error: Option<String>,
    /// When it was connected.
    pub connected_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// The Dev Dashboard app's client id, for stores connected with the client-credentials
    /// grant (none for a pasted `shpat_` token).
    pub client_id: Option<String>,
    /// The app's client secret, sealed with the master key.
    pub client_secret_enc: Option<String>,
    /// When the cached access token expires (client-credentials tokens last about 24 hours;
    /// none for a token that does not expire).
    pub token_expires_at: Option<DateTimeUtc>,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
