//! A tenant's own language model (overrides the platform's), its key sealed.

use sea_orm::entity::prelude::*;

/// The override row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_overrides")]
pub struct Model {
    /// Owning tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    /// OpenAI-compatible base URL.
    #[sea_orm(column_type = "Text")]
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// API key, sealed under the master key.
    #[sea_orm(column_type = "Text")]
    pub api_key_enc: String,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
