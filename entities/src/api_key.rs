//! A machine's key to a tenant's API, with a name and a scope; stored as a hash.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An API key row. The hash is never serialised.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// Key id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant.
    pub tenant_id: i64,
    /// What the key is for, as its creator named it.
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
    /// SHA-256 of the key.
    #[serde(skip)]
    #[sea_orm(unique)]
    pub key_hash: String,
    /// The key's first characters, to tell keys apart.
    pub key_prefix: String,
    /// The user who made it (none for keys from the CLI or the migrated tenant key).
    pub created_by: Option<i64>,
    /// When it was made.
    pub created_at: DateTimeUtc,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTimeUtc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
