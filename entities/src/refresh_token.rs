//! A refresh token of a session, stored as a hash; each is good for one refresh.

use sea_orm::entity::prelude::*;

/// A refresh token row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Token id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The session (token family).
    pub session_id: i64,
    /// SHA-256 of the token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// When it was issued.
    pub created_at: DateTimeUtc,
    /// When it stops working.
    pub expires_at: DateTimeUtc,
    /// When it was exchanged; presenting it again revokes the session.
    pub used_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
