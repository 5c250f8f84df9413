//! A call's Voicebot session: which node holds the socket, the audio format, and how it ended.

use sea_orm::entity::prelude::*;

/// The session row, one per call.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "voice_sessions")]
pub struct Model {
    /// The call.
    #[sea_orm(primary_key, auto_increment = false)]
    pub call_id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The api node holding the socket.
    pub node: String,
    /// Exotel's stream id.
    pub stream_sid: String,
    /// `pcm16` or `mulaw`.
    pub encoding: String,
    /// Samples per second.
    pub sample_rate: i32,
    /// When the stream started.
    pub started_at: DateTimeUtc,
    /// Renewed while the socket is open (a node that died stops renewing).
    pub heartbeat_at: DateTimeUtc,
    /// When the socket closed.
    pub ended_at: Option<DateTimeUtc>,
    /// `callended`, `stopped`, `closed` or why Caly ended it.
    pub stop_reason: Option<String>,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
