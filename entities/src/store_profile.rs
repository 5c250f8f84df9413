//! A store's profile, kept as the validated JSON document (one per tenant).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The profile row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "store_profiles")]
pub struct Model {
    /// Owning tenant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    /// The profile as JSON (see `caly_core::tenancy::profile::StoreProfile`).
    #[sea_orm(column_type = "Text")]
    pub profile: String,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
