//! A request the agent recorded for staff: cancellation, address change, complaint, callback.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The task row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    /// Task id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call it came from.
    pub call_id: i64,
    /// The turn that recorded it.
    pub turn_id: i64,
    /// `cancellation`, `address_change`, `complaint` or `callback`.
    pub kind: String,
    /// `open` or `closed`.
    pub status: String,
    /// The order it concerns, e.g. `#1002`.
    pub order_name: Option<String>,
    /// The caller's number.
    pub caller: Option<String>,
    /// What the caller said.
    #[sea_orm(column_type = "Text")]
    pub details: String,
    /// Staff's note on closing.
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// When recorded.
    pub created_at: DateTimeUtc,
    /// When closed.
    pub closed_at: Option<DateTimeUtc>,
    /// The person who closed it (none when closed by an API key or before this was kept).
    pub closed_by: Option<i64>,
    /// The staff member it is assigned to, if anyone.
    pub assignee_id: Option<i64>,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
