//! A call's transcript from one recording: timed segments tagged by speaker (JSON), on that
//! recording's own timeline.

use sea_orm::entity::prelude::*;

/// One transcript, per (call, source).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transcripts")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call.
    pub call_id: i64,
    /// The recording it was made from: `caly` or `exotel`.
    pub source: String,
    /// The speech-to-text engine that made it.
    #[sea_orm(column_type = "Text")]
    pub engine: String,
    /// Whether phone numbers, cards and codes were redacted.
    pub redacted: bool,
    /// The recording's length.
    pub duration_ms: i64,
    /// `[{start_ms, end_ms, speaker, text}]` as JSON.
    #[sea_orm(column_type = "Text")]
    pub segments: String,
    /// When made (or last remade).
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
