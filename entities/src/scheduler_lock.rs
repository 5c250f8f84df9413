//! Leases that keep periodic work single-flight across scheduler replicas.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A named lease.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "scheduler_locks")]
pub struct Model {
    /// Lock name, e.g. `dispatch`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// Who holds it.
    pub holder: String,
    /// When the lease lapses.
    pub expires_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
