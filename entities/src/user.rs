//! A person who signs in to Caly. One user may belong to several tenants (see `membership`).

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A user row. The password hash and Google subject are never serialised, nor shown by
/// `Debug` (so a logged model never carries them).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// User id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Sign-in address, lowercased; unique.
    #[sea_orm(unique)]
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id PHC string; `None` for accounts that only sign in with Google.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// The number Exotel's Connect applet dials for this person (`DialWhomNumber`), E.164.
    pub phone: Option<String>,
    /// Google's subject id once the account is linked to Google.
    #[serde(skip)]
    #[sea_orm(unique)]
    pub google_sub: Option<String>,
    /// Which emails the user gets, as a JSON object of booleans.
    #[serde(skip)]
    pub notifications: String,
    /// When the address was proven (by a code, an invitation or Google).
    pub email_verified_at: Option<DateTimeUtc>,
    /// When an admin disabled the account; a disabled user cannot sign in.
    pub disabled_at: Option<DateTimeUtc>,
    /// When the account was created.
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |set: bool| if set { "[hidden]" } else { "none" };
        f.debug_struct("user::Model")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &hidden(self.password_hash.is_some()))
            .field("phone", &self.phone)
            .field("google_sub", &hidden(self.google_sub.is_some()))
            .field("email_verified_at", &self.email_verified_at)
            .field("disabled_at", &self.disabled_at)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
