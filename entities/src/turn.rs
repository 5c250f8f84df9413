//! One turn of a conversation: what the caller said and how the agent answered.

use sea_orm::entity::prelude::*;

/// The turn row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "turns")]
pub struct Model {
    /// Turn id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call.
    pub call_id: i64,
    /// 1, 2, … within the call.
    pub seq: i32,
    /// `pending`, `answered` or `timed_out`.
    pub status: String,
    /// What the caller said.
    #[sea_orm(column_type = "Text")]
    pub input: String,
    /// What the agent said.
    #[sea_orm(column_type = "Text", nullable)]
    pub reply: Option<String>,
    /// The caller's intent label.
    pub intent: Option<String>,
    /// The agent that answered (an intent label).
    pub agent: Option<String>,
    /// The brain's confidence in the intent.
    pub confidence: Option<f64>,
    /// Whether the caller was verified after this turn.
    pub verified: bool,
    /// Whether a person should take over.
    pub handoff: bool,
    /// Tool calls as JSON (results withheld where the caller may not see them).
    #[sea_orm(column_type = "Text")]
    pub tool_calls: String,
    /// Milliseconds per step as JSON.
    #[sea_orm(column_type = "Text")]
    pub latency: String,
    /// What went wrong, when the fallback line was said.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    /// How the turn came in: `text`, `voice` or `dtmf`.
    pub source: String,
    /// How many parts the spoken reply has, once all are synthesised (voice turns).
    pub reply_parts: Option<i32>,
    /// When the caller spoke.
    pub created_at: DateTimeUtc,
    /// When the answer was stored.
    pub answered_at: Option<DateTimeUtc>,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
