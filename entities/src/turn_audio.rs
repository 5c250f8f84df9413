//! Audio of a voice turn: the caller's utterance (part 0) or the reply, one part per sentence
//! as it is synthesised. 16-bit little-endian PCM at the call's rate.

use sea_orm::entity::prelude::*;

/// One piece of a turn's audio.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "turn_audio")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call.
    pub call_id: i64,
    /// The turn.
    pub turn_id: i64,
    /// `caller` or `reply`.
    pub kind: String,
    /// 0, 1, … in speaking order.
    pub part: i32,
    /// Samples per second.
    pub sample_rate: i32,
    /// PCM16 LE bytes.
    #[sea_orm(column_type = "VarBinary(StringLen::None)")]
    pub samples: Vec<u8>,
    /// When stored.
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
