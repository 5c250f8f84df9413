//! A user's place in a team; unique per (team, user).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A team membership row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "team_members")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant (teams never span tenants).
    pub tenant_id: i64,
    /// The team.
    pub team_id: i64,
    /// The user.
    pub user_id: i64,
    /// When the user joined the team.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
