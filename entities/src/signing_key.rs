//! A key that signs access tokens, named by its key id (`kid`); sealed with the master key.

use sea_orm::entity::prelude::*;

/// A signing key row. The newest unretired key signs; every unretired key verifies.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The key id in tokens' headers.
    #[sea_orm(unique)]
    pub kid: String,
    /// The HMAC key, sealed with the master key.
    pub secret_enc: String,
    /// When it was made.
    pub created_at: DateTimeUtc,
    /// When it stopped verifying.
    pub retired_at: Option<DateTimeUtc>,
}

/// No relations are navigated through the ORM; joins are explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
