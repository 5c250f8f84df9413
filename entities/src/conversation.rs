//! A call's conversation memory (what the agent remembers between turns), as JSON.

use sea_orm::entity::prelude::*;

/// The memory row, one per call.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    /// The call.
    #[sea_orm(primary_key, auto_increment = false)]
    pub call_id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// `caly_core::agent::conversation::Conversation` as JSON.
    #[sea_orm(column_type = "Text")]
    pub memory: String,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
