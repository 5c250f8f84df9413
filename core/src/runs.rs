//! Stage runs: the durable rows behind every job. Creating, claiming, finishing, retrying and
//! replaying them is the only place that changes their status.

use crate::CoreError;
use crate::settings::RetrySettings;
use caly_entities::stage_run;
use caly_jobs::Stage;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, Set,
    TryInsertResult,
};
use std::time::Duration;

/// Stage-run statuses.
pub mod status {
    /// Waiting to run (possibly already pushed to the queue).
    pub const PENDING: &str = "pending";
    /// A worker holds it until `locked_until`.
    pub const RUNNING: &str = "running";
    /// Done.
    pub const SUCCEEDED: &str = "succeeded";
    /// Gave up: permanent error or out of attempts. Replay re-arms it.
    pub const FAILED: &str = "failed";
}

/// What a new stage run is about.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Owning tenant.
    pub tenant_id: i64,
    /// The call's CallSid.
    pub call_sid: String,
    /// The call row, when it exists.
    pub call_id: Option<i64>,
    /// The stage.
    pub stage: Stage,
    /// Natural key within the stage: one run per key, ever.
    pub dedupe_key: String,
    /// The raw event (ingest runs).
    pub raw_event_id: Option<i64>,
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Inserts the run unless one with the same stage and key exists. Returns the new row's id, or
/// `None` when it already existed. `dispatched` marks it as pushed by the caller right away.
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    new: NewRun,
    dispatched: bool,
    now: DateTime<Utc>,
) -> Result<Option<i64>, CoreError> {
    insert_scheduled(db, new, dispatched, now, now).await
}

/// Like [`insert_if_absent`], with the first attempt not before `run_at`.
pub async fn insert_scheduled(
    db: &impl ConnectionTrait,
    new: NewRun,
    dispatched: bool,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, CoreError> {
    let row = stage_run::ActiveModel {
        tenant_id: Set(new.tenant_id),
        call_sid: Set(new.call_sid),
        call_id: Set(new.call_id),
        stage: Set(new.stage.as_str().to_string()),
        dedupe_key: Set(new.dedupe_key),
        raw_event_id: Set(new.raw_event_id),
        status: Set(status::PENDING.to_string()),
        attempts: Set(0),
        next_run_at: Set(run_at),
        dispatched_at: Set(dispatched.then_some(now)),
        locked_until: Set(None),
        last_error: Set(None),
        outcome: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let result = stage_run::Entity::insert(row)
        .on_conflict_do_nothing_on([stage_run::Column::Stage, stage_run::Column::DedupeKey])
        .exec(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(done) => Some(done.last_insert_id),
        TryInsertResult::Conflicted | TryInsertResult::Empty => None,
    })
}

/// Re-arms a finished run (succeeded or failed) so it runs again: attempts restart at zero.
/// Returns true when the run was re-armed (a pending or running run is left alone).
pub async fn rearm(
    db: &impl ConnectionTrait,
    run_id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let result = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(status::PENDING))
        .col_expr(stage_run::Column::Attempts, Expr::value(0))
        .col_expr(stage_run::Column::NextRunAt, Expr::value(now))
        .col_expr(
            stage_run::Column::DispatchedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(stage_run::Column::Outcome, Expr::value(note))
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Id.eq(run_id))
        .filter(stage_run::Column::Status.is_in([status::SUCCEEDED, status::FAILED]))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ensures a run exists and will run: inserts it, or re-arms a finished one when `rearm_finished`.
/// Returns the run's id when it is newly pending (the caller should push it).
pub async fn ensure(
    db: &impl ConnectionTrait,
    new: NewRun,
    rearm_finished: bool,
    now: DateTime<Utc>,
) -> Result<Option<i64>, CoreError> {
    let (stage, key) = (new.stage, new.dedupe_key.clone());
    if let Some(id) = insert_if_absent(db, new, false, now).await? {
        return Ok(Some(id));
    }
    if !rearm_finished {
        return Ok(None);
    }
    let existing = stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .filter(stage_run::Column::DedupeKey.eq(key))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("stage run"))?;
    let rearmed = rearm(db, existing.id, "re-armed by a new event", now).await?;
    Ok(rearmed.then_some(existing.id))
}

/// Takes a pending, due run for one attempt: status running, attempts + 1, a lease until
/// `now + lease`. Returns `None` when another worker has it or it is not due or finished.
pub async fn claim(
    db: &impl ConnectionTrait,
    run_id: i64,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Option<stage_run::Model>, CoreError> {
    let result = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(status::RUNNING))
        .col_expr(
            stage_run::Column::Attempts,
            Expr::col(stage_run::Column::Attempts).add(1),
        )
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(now + chrono_of(lease)),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Id.eq(run_id))
        .filter(stage_run::Column::Status.eq(status::PENDING))
        .filter(stage_run::Column::NextRunAt.lte(now))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    Ok(stage_run::Entity::find_by_id(run_id).one(db).await?)
}

/// Guards a finishing write: only the attempt that claimed the run may finish it.
fn owned_by(run: &stage_run::Model) -> Condition {
    Condition::all()
        .add(stage_run::Column::Id.eq(run.id))
        .add(stage_run::Column::Status.eq(status::RUNNING))
        .add(stage_run::Column::Attempts.eq(run.attempts))
}

/// Marks a claimed run succeeded.
pub async fn succeed(
    db: &impl ConnectionTrait,
    run: &stage_run::Model,
    outcome: &str,
    call_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let mut update = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(status::SUCCEEDED))
        .col_expr(stage_run::Column::Outcome, Expr::value(outcome))
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now));
    if let Some(call_id) = call_id {
        update = update.col_expr(stage_run::Column::CallId, Expr::value(call_id));
    }
    let result = update.filter(owned_by(run)).exec(db).await?;
    Ok(result.rows_affected == 1)
}

/// How a failed attempt should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Try again after a backoff, until attempts run out.
    Transient,
    /// Retrying cannot help: fail now.
    Permanent,
    /// Not ready yet: try again after this wait, whatever the attempt count (the handler
    /// decides when to give up).
    After(Duration),
}

/// Records a failed attempt: back to pending after a backoff, or failed for good.
/// Returns the status the run ended in.
pub async fn fail(
    db: &impl ConnectionTrait,
    run: &stage_run::Model,
    error: &str,
    kind: FailureKind,
    retry: &RetrySettings,
    now: DateTime<Utc>,
) -> Result<&'static str, CoreError> {
    let (next_status, next_run_at) = match kind {
        FailureKind::Permanent => (status::FAILED, now),
        FailureKind::Transient if run.attempts >= retry.max_attempts => (status::FAILED, now),
        FailureKind::Transient => (
            status::PENDING,
            now + chrono_of(retry.backoff(run.attempts)),
        ),
        FailureKind::After(wait) => (status::PENDING, now + chrono_of(wait)),
    };
    let error: String = error.chars().take(2000).collect();
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(next_status))
        .col_expr(stage_run::Column::LastError, Expr::value(error))
        .col_expr(stage_run::Column::NextRunAt, Expr::value(next_run_at))
        .col_expr(
            stage_run::Column::DispatchedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(owned_by(run))
        .exec(db)
        .await?;
    Ok(next_status)
}

/// Returns runs whose worker vanished (lease expired) to pending, or fails them once they have
/// used `max_attempts` (a run that kills its worker every time must not loop forever).
/// Returns how many were recovered.
pub async fn recover_orphans(
    db: &impl ConnectionTrait,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<u64, CoreError> {
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(status::FAILED))
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LastError,
            Expr::value("the worker stopped before finishing on every attempt (lease expired)"),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Status.eq(status::RUNNING))
        .filter(stage_run::Column::LockedUntil.lt(now))
        .filter(stage_run::Column::Attempts.gte(max_attempts))
        .exec(db)
        .await?;
    let result = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(status::PENDING))
        .col_expr(stage_run::Column::NextRunAt, Expr::value(now))
        .col_expr(
            stage_run::Column::DispatchedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LastError,
            Expr::value("the worker stopped before finishing (lease expired)"),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Status.eq(status::RUNNING))
        .filter(stage_run::Column::LockedUntil.lt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
