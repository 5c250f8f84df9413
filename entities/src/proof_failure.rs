//! One failed attempt to prove an order is the caller's.

use sea_orm::entity::prelude::*;

/// The failure row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proof_failures")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The order, as the store names it (`#2041`).
    pub order_name: String,
    /// The conversation it happened in.
    pub call_id: i64,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
