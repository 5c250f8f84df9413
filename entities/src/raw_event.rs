//! Every webhook delivery Caly accepted, exactly as received.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One accepted delivery. Duplicates are kept too, marked by `duplicate`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "raw_events")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// Exotel CallSid.
    pub call_sid: String,
    /// `passthru` or `status_callback`.
    pub kind: String,
    /// HTTP method and content type as received, e.g. `POST application/json`.
    pub encoding: String,
    /// The raw query string and body, as received.
    #[sea_orm(column_type = "Text")]
    pub raw: String,
    /// The canonical parsed fields (JSON).
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    /// SHA-256 over tenant, CallSid and canonical fields.
    pub dedupe_key: String,
    /// True when an identical delivery was accepted before.
    pub duplicate: bool,
    /// When Caly accepted it.
    pub received_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
