//! A one-time code mailed to prove an address (sign-up, password reset), stored as a keyed hash.

use sea_orm::entity::prelude::*;

/// An emailed code. Only the newest unconsumed code per (purpose, email, binding) is live.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_codes")]
pub struct Model {
    /// Code id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the code proves: `signup` or `reset`.
    pub purpose: String,
    /// The address it was sent to, lowercased.
    pub email: String,
    /// Keyed hash of the 6-digit code.
    pub code_hash: String,
    /// Keyed hash of the long token in the mailed link, where the mail has one.
    pub link_hash: Option<String>,
    /// Keyed hash of the token given to whoever started a sign-up: only a request carrying it
    /// may use (or resend) this code. `None` for codes that prove the address alone (resets).
    pub binding_hash: Option<String>,
    /// Guesses so far (each checked and counted in one statement).
    pub attempts: i32,
    /// What completing the purpose needs (a pending sign-up), sealed with the master key.
    pub payload: Option<String>,
    /// When the code was mailed.
    pub sent_at: DateTimeUtc,
    /// When the code stops working.
    pub expires_at: DateTimeUtc,
    /// When the code was used or superseded by a newer one.
    pub consumed_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
