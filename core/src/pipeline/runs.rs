//! Stage runs: the durable rows behind every job. Creating, claiming, finishing, retrying and
//! replaying them is the only place that changes their status.

use super::stage::StageSpec;
use crate::platform::pagination::{Page, PageRequest, paginate};
use crate::platform::settings::RetrySettings;
use crate::{CoreError, RunStatus};
use caly_entities::stage_run;
use caly_jobs::{CallId, StageName, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, Set,
    TryInsertResult,
};
use std::time::Duration;

/// What a new stage run is about.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The call's CallSid.
    pub call_sid: String,
    /// The call row, when it exists.
    pub call_id: Option<CallId>,
    /// The stage.
    pub stage: StageName,
    /// Natural key within the stage: one run per key, ever.
    pub dedupe_key: String,
    /// The raw event (ingest runs).
    pub raw_event_id: Option<i64>,
}

impl NewRun {
    /// The run of a once-per-call stage for `call`, keyed by the stage's natural call key.
    pub fn for_call(spec: &StageSpec, call: &caly_entities::call::Model) -> Self {
        let call_id = CallId(call.id);
        let key = spec
            .call_key
            .expect("a stage armed per call declares its call key");
        NewRun {
            tenant_id: TenantId(call.tenant_id),
            call_sid: call.call_sid.clone(),
            call_id: Some(call_id),
            stage: spec.name.clone(),
            dedupe_key: key(call_id),
            raw_event_id: None,
        }
    }
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
) -> Result<Option<StageRunId>, CoreError> {
    insert_scheduled(db, new, dispatched, now, now).await
}

/// Like [`insert_if_absent`], with the first attempt not before `run_at`.
pub async fn insert_scheduled(
    db: &impl ConnectionTrait,
    new: NewRun,
    dispatched: bool,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<StageRunId>, CoreError> {
    let row = stage_run::ActiveModel {
        tenant_id: Set(new.tenant_id.0),
        call_sid: Set(new.call_sid),
        call_id: Set(new.call_id.map(|c| c.0)),
        stage: Set(new.stage.as_str().to_string()),
        dedupe_key: Set(new.dedupe_key),
        raw_event_id: Set(new.raw_event_id),
        status: Set(RunStatus::Pending),
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
        TryInsertResult::Inserted(done) => Some(StageRunId(done.last_insert_id)),
        TryInsertResult::Conflicted | TryInsertResult::Empty => None,
    })
}

/// Re-arms a finished run (succeeded or failed) so it runs again: attempts restart at zero.
/// Returns true when the run was re-armed (a pending or running run is left alone).
pub async fn rearm(
    db: &impl ConnectionTrait,
    run_id: StageRunId,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let result = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Pending))
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
        .filter(stage_run::Column::Id.eq(run_id.0))
        .filter(stage_run::Column::Status.is_in([RunStatus::Succeeded, RunStatus::Failed]))
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
) -> Result<Option<StageRunId>, CoreError> {
    let (stage, key) = (new.stage.clone(), new.dedupe_key.clone());
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
    let id = StageRunId(existing.id);
    let rearmed = rearm(db, id, "re-armed by a new event", now).await?;
    Ok(rearmed.then_some(id))
}

/// Takes a pending, due run for one attempt: status running, attempts + 1, a lease until
/// `now + lease`. Returns `None` when another worker has it or it is not due or finished.
pub async fn claim(
    db: &impl ConnectionTrait,
    run_id: StageRunId,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Option<stage_run::Model>, CoreError> {
    let result = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Running))
        .col_expr(
            stage_run::Column::Attempts,
            Expr::col(stage_run::Column::Attempts).add(1),
        )
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(now + chrono_of(lease)),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Id.eq(run_id.0))
        .filter(stage_run::Column::Status.eq(RunStatus::Pending))
        .filter(stage_run::Column::NextRunAt.lte(now))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(None);
    }
    Ok(stage_run::Entity::find_by_id(run_id.0).one(db).await?)
}

/// Guards a finishing write: only the attempt that claimed the run may finish it.
fn owned_by(run: &stage_run::Model) -> Condition {
    Condition::all()
        .add(stage_run::Column::Id.eq(run.id))
        .add(stage_run::Column::Status.eq(RunStatus::Running))
        .add(stage_run::Column::Attempts.eq(run.attempts))
}

/// Marks a claimed run succeeded.
pub async fn succeed(
    db: &impl ConnectionTrait,
    run: &stage_run::Model,
    outcome: &str,
    call_id: Option<CallId>,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let mut update = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Succeeded))
        .col_expr(stage_run::Column::Outcome, Expr::value(outcome))
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now));
    if let Some(call_id) = call_id {
        update = update.col_expr(stage_run::Column::CallId, Expr::value(call_id.0));
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
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<RunStatus, CoreError> {
    let (next_status, next_run_at) = match kind {
        FailureKind::Permanent => (RunStatus::Failed, now),
        FailureKind::Transient if run.attempts >= max_attempts => (RunStatus::Failed, now),
        FailureKind::Transient => (
            RunStatus::Pending,
            now + chrono_of(retry.backoff(run.attempts)),
        ),
        FailureKind::After(wait) => (RunStatus::Pending, now + chrono_of(wait)),
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
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Failed))
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LastError,
            Expr::value("the worker stopped before finishing on every attempt (lease expired)"),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Status.eq(RunStatus::Running))
        .filter(stage_run::Column::LockedUntil.lt(now))
        .filter(stage_run::Column::Attempts.gte(max_attempts))
        .exec(db)
        .await?;
    let result = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Pending))
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
        .filter(stage_run::Column::Status.eq(RunStatus::Running))
        .filter(stage_run::Column::LockedUntil.lt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// A tenant's failed stage runs, most recently failed first.
pub async fn list_failed(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<stage_run::Model>, CoreError> {
    let query = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant.0))
        .filter(stage_run::Column::Status.eq(RunStatus::Failed))
        .order_by_desc(stage_run::Column::UpdatedAt);
    paginate(db, query, page).await
}
