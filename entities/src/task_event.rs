//! One thing that happened to a staff task: created, assigned, commented, closed.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A task event row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "task_events")]
pub struct Model {
    /// Event id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The task.
    pub task_id: i64,
    /// The user who acted; `None` for the agent or an API key.
    pub actor_id: Option<i64>,
    /// `assigned`, `unassigned`, `commented` or `closed`.
    pub kind: String,
    /// The comment, the closing note, or the assignee's name.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
