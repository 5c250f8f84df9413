//! A tenant's per-minute rate history.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One rate, in force from `effective_from` until the next entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "tenant_rates")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// Paise per started minute.
    pub paise_per_min: i64,
    /// From when this rate applies (by call start time).
    pub effective_from: DateTimeUtc,
    /// When the entry was recorded.
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
