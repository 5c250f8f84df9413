//! An invitation by email to join a tenant with a role; its link's token is stored as a hash.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An invitation row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    /// Invitation id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The inviting tenant.
    pub tenant_id: i64,
    /// The invited address, lowercased.
    pub email: String,
    /// The role the invitee gets.
    pub role: String,
    /// SHA-256 of the link's token.
    #[serde(skip)]
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Who invited.
    pub invited_by: Option<i64>,
    /// When it was sent.
    pub created_at: DateTimeUtc,
    /// When the link stops working.
    pub expires_at: DateTimeUtc,
    /// When it was accepted.
    pub accepted_at: Option<DateTimeUtc>,
    /// When it was withdrawn.
    pub revoked_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
