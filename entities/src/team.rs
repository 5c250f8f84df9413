//! A team of a tenant's people, possibly nested under a parent team, with a lead.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A team row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    /// Team id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant.
    pub tenant_id: i64,
    /// Display name.
    pub name: String,
    /// The team this one sits under.
    pub parent_id: Option<i64>,
    /// The team's lead (a member of the tenant).
    pub lead_user_id: Option<i64>,
    /// When it was made.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
