//! A call's prefetched caller orders (JSON), read into the conversation's context.

use sea_orm::entity::prelude::*;

/// The prefetch row, one per call.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "caller_prefetches")]
pub struct Model {
    /// The call.
    #[sea_orm(primary_key, auto_increment = false)]
    pub call_id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The caller's recent orders as Shopify returned them (JSON list).
    #[sea_orm(column_type = "Text")]
    pub orders: String,
    /// When they were fetched.
    pub fetched_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
