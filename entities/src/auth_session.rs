//! A signed-in session: one user in one tenant, from login until logout, revocation or expiry.
//! Its refresh tokens form one family; reusing a spent one revokes the session.

use sea_orm::entity::prelude::*;

/// A session row; its id is the `sid` claim of the access tokens issued for it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_sessions")]
pub struct Model {
    /// Session id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The user.
    pub user_id: i64,
    /// The tenant the session works in.
    pub tenant_id: i64,
    /// The address the session was opened from.
    pub ip: Option<String>,
    /// When the session was opened.
    pub created_at: DateTimeUtc,
    /// When it was closed (logout, refresh-token reuse, password reset, disabled user).
    pub revoked_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
