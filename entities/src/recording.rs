//! A call recording copied into Caly's object store: one per (call, source).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A stored recording object.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "recordings")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call.
    pub call_id: i64,
    /// Where it came from (`exotel`).
    pub source: String,
    /// Object key: `tenants/{tenant}/calls/{call}/{source}.{ext}`.
    pub object_key: String,
    /// Content type as served by Exotel.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// When it was stored.
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
