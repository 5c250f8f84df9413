//! What a call cost: exactly one row per call, in integer paise.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A charge for one call.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "charges")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call (unique).
    #[sea_orm(unique)]
    pub call_id: i64,
    /// Seconds billed.
    pub billable_seconds: i64,
    /// Started minutes billed.
    pub minutes: i64,
    /// Rate applied, paise per minute.
    pub rate_paise_per_min: i64,
    /// minutes × rate, in paise.
    pub amount_paise: i64,
    /// Which duration field was used.
    pub duration_source: String,
    /// When the charge was made.
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
