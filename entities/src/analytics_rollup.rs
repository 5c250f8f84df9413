//! One rollup row: the sums for a tenant's IST day along one dimension (`hour`, `intent`,
//! `agent`, `latency`, `handoff`) and one key of it. Rebuilt a whole day at a time from the
//! calls, turns and charges of that day; never edited in place.

use sea_orm::entity::prelude::*;

/// The rollup row. Which sums a dimension fills is documented in `caly_core::analytics`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "analytics_rollups")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// The IST day the calls happened on.
    pub day: Date,
    /// `hour`, `intent`, `agent`, `latency` or `handoff`.
    pub dimension: String,
    /// The hour (`00`–`23`), intent, agent, latency bucket (ms) or handoff number.
    pub key: String,
    /// Calls.
    pub calls: i64,
    /// Calls the AI answered.
    pub answered: i64,
    /// Calls the AI resolved.
    pub resolved: i64,
    /// Calls handed off to a person.
    pub handed_off: i64,
    /// Calls ending in a callback request.
    pub callbacks: i64,
    /// Missed calls.
    pub missed: i64,
    /// Sum of known durations, seconds.
    pub duration_secs: i64,
    /// Calls with a known duration.
    pub durations: i64,
    /// Minutes billed (latest charge or adjustment).
    pub minutes: i64,
    /// What the calls cost, paise.
    pub spend_paise: i64,
    /// Turns.
    pub turns: i64,
    /// Sum of answered turns' latency, ms.
    pub latency_ms: i64,
    /// Answered turns with a latency.
    pub latencies: i64,
    /// Turns answered with the fallback line.
    pub errors: i64,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
