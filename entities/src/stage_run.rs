//! One run of one pipeline stage for one subject: the durable truth behind every queued job.

use crate::status::{RunStatus, RunSubject};
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A stage run with its attempts, schedule and last error.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "stage_runs")]
pub struct Model {
    /// Row id; the queued job carries it.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant (0 for platform runs).
    pub tenant_id: i64,
    /// What the run is about: a call, a tenant or the platform.
    pub subject: RunSubject,
    /// The call's CallSid (known before the call row exists); empty for other subjects.
    pub call_sid: String,
    /// The call row, once ingest created it.
    pub call_id: Option<i64>,
    /// Stage name (a name in the stage registry).
    pub stage: String,
    /// Natural key of the run within its stage (unique with `stage`).
    pub dedupe_key: String,
    /// The raw event an ingest run applies.
    pub raw_event_id: Option<i64>,
    /// Where the run is.
    pub status: RunStatus,
    /// Attempts started so far (a "not ready yet" poll gives its attempt back).
    pub attempts: i32,
    /// "Not ready yet" polls so far (they back off on their own and do not use up attempts).
    pub polls: i32,
    /// Earliest time the next attempt may start.
    pub next_run_at: DateTimeUtc,
    /// When the run was last pushed to the queue.
    pub dispatched_at: Option<DateTimeUtc>,
    /// A running attempt's lease; past it, the run is an orphan and is re-queued.
    pub locked_until: Option<DateTimeUtc>,
    /// The last failure, if any.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// The stable code of the last failure, which tenants see instead of its text.
    pub error_code: Option<String>,
    /// For a scheduled (cron) run: the tick it is for.
    pub scheduled_for: Option<DateTimeUtc>,
    /// A short note on how the last successful attempt ended.
    pub outcome: Option<String>,
    /// When the run was created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
