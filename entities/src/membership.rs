//! A user's role in one tenant: owner, admin, supervisor, agent or viewer.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A membership row; unique per (tenant, user).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    /// Membership id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant.
    pub tenant_id: i64,
    /// The user.
    pub user_id: i64,
    /// The role's name.
    pub role: String,
    /// When the user joined the tenant.
    pub created_at: DateTimeUtc,
    /// When an admin of this tenant suspended the person here (their other stores are
    /// untouched); `None` while they may sign in to it.
    pub disabled_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
