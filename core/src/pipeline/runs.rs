//! Stage runs: the durable rows behind every job. Creating, claiming, finishing, retrying and
//! replaying them is the only place that changes their status.

use super::failure_code::FailureCode;
use super::stage::StageSpec;
use crate::platform::pagination::{Page, PageRequest, paginate};
use crate::platform::pg_statement::PgStatement;
use crate::platform::settings::RetrySettings;
use crate::{CoreError, RunStatus};
use caly_entities::stage_run;
use caly_entities::status::RunSubject;
use caly_jobs::{CallId, StageName, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TryInsertResult, UpdateMany,
};
use std::time::Duration;

/// What a new stage run is about.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Owning tenant ([`PLATFORM`] for platform runs).
    pub tenant_id: TenantId,
    /// A call, a tenant or the platform.
    pub subject: RunSubject,
    /// The call's CallSid (empty for other subjects).
    pub call_sid: String,
    /// The call row, when it exists.
    pub call_id: Option<CallId>,
    /// The stage.
    pub stage: StageName,
    /// Natural key within the stage: one run per key, ever.
    pub dedupe_key: String,
    /// The raw event (ingest runs).
    pub raw_event_id: Option<i64>,
    /// The cron tick a scheduled run is for.
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// How the natural key of a live turn's run starts; the turn's id follows.
pub const TURN_KEY_PREFIX: &str = "turn:";

/// The natural key of a run about turn `turn`: `turn:{id}`.
pub fn turn_key(turn: i64) -> String {
    format!("{TURN_KEY_PREFIX}{turn}")
}

/// The tenant id platform runs carry: no tenant's listings ever include them.
pub const PLATFORM: TenantId = TenantId(0);

impl NewRun {
    /// The run of a once-per-call stage for `call`, keyed by the stage's natural call key.
    pub fn for_call(spec: &StageSpec, call: &caly_entities::call::Model) -> Self {
        let key = spec
            .call_key
            .expect("a stage armed per call declares its call key");
        Self::for_call_keyed(&spec.name, call, key(CallId(call.id)))
    }

    /// A run about `call` under its own natural key (stages that run many times per call,
    /// such as one `agent_reply` per turn: `turn:{id}`).
    pub fn for_call_keyed(
        stage: &StageName,
        call: &caly_entities::call::Model,
        key: String,
    ) -> Self {
        NewRun {
            tenant_id: TenantId(call.tenant_id),
            subject: RunSubject::Call,
            call_sid: call.call_sid.clone(),
            call_id: Some(CallId(call.id)),
            stage: stage.clone(),
            dedupe_key: key,
            raw_event_id: None,
            scheduled_for: None,
        }
    }

    /// A run of a live turn's stage (`turn_transcribe`, `agent_reply`, `speak`) for turn
    /// `turn` of `call`, keyed [`turn_key`].
    pub fn for_turn(stage: &StageName, call: &caly_entities::call::Model, turn: i64) -> Self {
        Self::for_call_keyed(stage, call, turn_key(turn))
    }

    /// A run about one tenant under a natural key, e.g. `invoice:{tenant}:2026-11`.
    pub fn for_tenant(stage: &StageName, tenant: TenantId, key: String) -> Self {
        NewRun {
            tenant_id: tenant,
            subject: RunSubject::Tenant,
            call_sid: String::new(),
            call_id: None,
            stage: stage.clone(),
            dedupe_key: key,
            raw_event_id: None,
            scheduled_for: None,
        }
    }

    /// A run about the whole deployment under a natural key, e.g. `backup:2026-11-22`.
    pub fn for_platform(stage: &StageName, key: String) -> Self {
        NewRun {
            subject: RunSubject::Platform,
            ..NewRun::for_tenant(stage, PLATFORM, key)
        }
    }

    /// This run, for the cron tick `tick`.
    pub fn at_tick(mut self, tick: DateTime<Utc>) -> Self {
        self.scheduled_for = Some(tick);
        self
    }
}

/// A std duration as a chrono one (saturating).
pub(crate) fn chrono_of(d: Duration) -> chrono::Duration {
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
        subject: Set(new.subject),
        scheduled_for: Set(new.scheduled_for),
        error_code: Set(None),
        call_sid: Set(new.call_sid),
        call_id: Set(new.call_id.map(|c| c.0)),
        stage: Set(new.stage.as_str().to_string()),
        dedupe_key: Set(new.dedupe_key),
        raw_event_id: Set(new.raw_event_id),
        status: Set(RunStatus::Pending),
        attempts: Set(0),
        polls: Set(0),
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

/// PostgreSQL: the SQL of an `INSERT` that arms `new`, already marked dispatched (the caller
/// pushes it at once), for each row of the CTE `source` (none when `source` has no rows),
/// unless a run with the same stage and key exists; it returns the new run's row. `key` is an
/// SQL expression over `source` for the natural key, or `None` for `new.dedupe_key`. With
/// `claimed_until`, the run starts already claimed (running, first attempt, leased until
/// then) by the worker that writes it, which runs it at once. Used inside one statement with
/// the write the run follows, so both commit together.
pub(crate) fn insert_dispatched_from(
    statement: &mut PgStatement,
    source: &str,
    new: &NewRun,
    key: Option<&str>,
    claimed_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    let start = match claimed_until {
        Some(until) => RunStart::Claimed(until),
        None => RunStart::Pending,
    };
    insert_run_from(statement, source, new, key, start, now)
}

/// How a run written inside another write starts.
#[derive(Debug, Clone)]
pub(crate) enum RunStart {
    /// Pending, marked dispatched.
    Pending,
    /// Running, first attempt, leased until then to the writer.
    Claimed(DateTime<Utc>),
    /// Succeeded already, first attempt, with this outcome: its work was done by the writer,
    /// within the same write (a live turn's answer stored with its transcript).
    Done(String),
}

/// [`insert_dispatched_from`] with any [`RunStart`].
pub(crate) fn insert_run_from(
    statement: &mut PgStatement,
    source: &str,
    new: &NewRun,
    key: Option<&str>,
    start: RunStart,
    now: DateTime<Utc>,
) -> String {
    let key = match key {
        Some(expression) => expression.to_string(),
        None => statement.bind(new.dedupe_key.clone()),
    };
    let tenant = statement.bind(new.tenant_id.0);
    let subject = statement.bind(new.subject);
    let call_sid = statement.bind(new.call_sid.clone());
    let call = statement.bind(new.call_id.map(|c| c.0));
    let stage = statement.bind(new.stage.as_str());
    let raw_event = statement.bind(new.raw_event_id);
    let scheduled = statement.bind(new.scheduled_for);
    let (status, attempts, claimed_until, outcome) = match start {
        RunStart::Pending => (RunStatus::Pending, 0, None, None),
        RunStart::Claimed(until) => (RunStatus::Running, 1, Some(until), None),
        RunStart::Done(outcome) => (RunStatus::Succeeded, 1, None, Some(outcome)),
    };
    let status = statement.bind(status);
    let locked_until = statement.bind(claimed_until);
    let outcome = statement.bind(outcome);
    let at = statement.bind(now);
    format!(
        "INSERT INTO stage_runs (tenant_id, subject, call_sid, call_id, stage, dedupe_key, \
            raw_event_id, scheduled_for, status, attempts, polls, next_run_at, dispatched_at, \
            locked_until, outcome, created_at, updated_at) \
         SELECT {tenant}, {subject}, {call_sid}, {call}, {stage}, {key}, {raw_event}, \
            {scheduled}, {status}, {attempts}, 0, {at}, {at}, {locked_until}, {outcome}, {at}, \
            {at} \
         FROM {source} \
         ON CONFLICT (stage, dedupe_key) DO NOTHING RETURNING *"
    )
}

/// Which finished runs may be armed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rearm {
    /// None: an existing run is left as it is.
    Never,
    /// Only a run that succeeded (a failed run stays failed until someone retries it).
    IfSucceeded,
    /// Only a run that failed (a bulk retry).
    IfFailed,
    /// A run that succeeded or failed.
    IfFinished,
}

impl Rearm {
    fn statuses(self) -> &'static [RunStatus] {
        match self {
            Rearm::Never => &[],
            Rearm::IfSucceeded => &[RunStatus::Succeeded],
            Rearm::IfFailed => &[RunStatus::Failed],
            Rearm::IfFinished => &[RunStatus::Succeeded, RunStatus::Failed],
        }
    }
}

/// Re-arms a finished run (succeeded or failed) so it runs again: attempts restart at zero.
/// Returns true when the run was re-armed (a pending or running run is left alone).
pub async fn rearm(
    db: &impl ConnectionTrait,
    run_id: StageRunId,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    rearm_if(db, run_id, note, Rearm::IfFinished, now).await
}

async fn rearm_if(
    db: &impl ConnectionTrait,
    run_id: StageRunId,
    note: &str,
    which: Rearm,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let result = restart(now, note, now)
        .filter(stage_run::Column::Id.eq(run_id.0))
        .filter(stage_run::Column::Status.is_in(which.statuses().iter().copied()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// An update that starts runs afresh: pending at `run_at`, attempts and polls at zero, not
/// dispatched, not locked, with `note` as their outcome.
fn restart(run_at: DateTime<Utc>, note: &str, now: DateTime<Utc>) -> UpdateMany<stage_run::Entity> {
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Pending))
        .col_expr(stage_run::Column::Attempts, Expr::value(0))
        .col_expr(stage_run::Column::Polls, Expr::value(0))
        .col_expr(stage_run::Column::NextRunAt, Expr::value(run_at))
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
}

/// The run of `stage` under `key`.
async fn find_by_key(
    db: &impl ConnectionTrait,
    stage: &StageName,
    key: &str,
) -> Result<stage_run::Model, CoreError> {
    stage_run::Entity::find()
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .filter(stage_run::Column::DedupeKey.eq(key))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("stage run"))
}

/// Ensures a run exists and will run: inserts it, or re-arms an existing one as `which` allows.
/// Returns the run's id when it is newly pending (the caller should push it).
pub async fn ensure(
    db: &impl ConnectionTrait,
    new: NewRun,
    which: Rearm,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Option<StageRunId>, CoreError> {
    let (stage, key) = (new.stage.clone(), new.dedupe_key.clone());
    if let Some(id) = insert_if_absent(db, new, false, now).await? {
        return Ok(Some(id));
    }
    if which == Rearm::Never {
        return Ok(None);
    }
    let id = StageRunId(find_by_key(db, &stage, &key).await?.id);
    let rearmed = rearm_if(db, id, note, which, now).await?;
    Ok(rearmed.then_some(id))
}

/// A pending run of `stage` under `key` that waits for a later time becomes due now (a charge
/// waiting out its settle window when the best duration arrives). Returns its id when it moved.
pub async fn bring_forward(
    db: &impl ConnectionTrait,
    stage: &StageName,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<StageRunId>, CoreError> {
    let moved = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::NextRunAt, Expr::value(now))
        .col_expr(
            stage_run::Column::DispatchedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .filter(stage_run::Column::DedupeKey.eq(key))
        .filter(stage_run::Column::Status.eq(RunStatus::Pending))
        .filter(stage_run::Column::NextRunAt.gt(now))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Ok(None);
    }
    Ok(Some(StageRunId(find_by_key(db, stage, key).await?.id)))
}

/// Schedules a run afresh for `run_at`, whatever it did before (unless an attempt is running):
/// inserted, or reset to pending with its attempts back at zero. Returns its id when it is
/// pending now.
pub async fn reschedule(
    db: &impl ConnectionTrait,
    new: NewRun,
    run_at: DateTime<Utc>,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Option<StageRunId>, CoreError> {
    let (stage, key) = (new.stage.clone(), new.dedupe_key.clone());
    if let Some(id) = insert_scheduled(db, new, false, run_at, now).await? {
        return Ok(Some(id));
    }
    let reset = restart(run_at, note, now)
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .filter(stage_run::Column::DedupeKey.eq(key.as_str()))
        .filter(stage_run::Column::Status.ne(RunStatus::Running))
        .exec(db)
        .await?;
    if reset.rows_affected == 0 {
        return Ok(None);
    }
    Ok(Some(StageRunId(find_by_key(db, &stage, &key).await?.id)))
}

/// Takes a pending, due run for one attempt: status running, attempts + 1, a lease until
/// `now + lease`. Returns `None` when another worker has it or it is not due or finished.
pub async fn claim(
    db: &impl ConnectionTrait,
    run_id: StageRunId,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Option<stage_run::Model>, CoreError> {
    let claim = stage_run::Entity::update_many()
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
        .filter(stage_run::Column::NextRunAt.lte(now));
    // One round trip where the database returns the claimed row (a live turn claims three).
    if db.support_returning() {
        return Ok(claim.exec_with_returning(db).await?.into_iter().next());
    }
    if claim.exec(db).await?.rows_affected != 1 {
        return Ok(None);
    }
    Ok(stage_run::Entity::find_by_id(run_id.0).one(db).await?)
}

/// Records pending run `id` done on its first attempt, with `outcome`: its work was done by
/// the write that armed it (a live turn's answer stored with its transcript).
pub async fn record_done(
    db: &impl ConnectionTrait,
    id: StageRunId,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(RunStatus::Succeeded))
        .col_expr(stage_run::Column::Attempts, Expr::value(1))
        .col_expr(stage_run::Column::Outcome, Expr::value(outcome))
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Id.eq(id.0))
        .filter(stage_run::Column::Status.eq(RunStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// Guards a finishing write: only the attempt that claimed the run may finish it.
fn owned_by(run: &stage_run::Model) -> Condition {
    Condition::all()
        .add(stage_run::Column::Id.eq(run.id))
        .add(stage_run::Column::Status.eq(RunStatus::Running))
        .add(stage_run::Column::Attempts.eq(run.attempts))
}

/// Renews a running attempt's lease until `until`, if the attempt still owns the run.
/// Returns false when it no longer does (its lease lapsed and the run was taken back).
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    run: &stage_run::Model,
    until: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let renewed = stage_run::Entity::update_many()
        .col_expr(stage_run::Column::LockedUntil, Expr::value(until))
        .filter(owned_by(run))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Marks a claimed run succeeded, if the attempt still owns it. Returns false when it does
/// not (its lease lapsed and the run was taken back): nothing is recorded.
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
    /// Not ready yet: try again after this wait. The attempt is given back and counted as a
    /// poll instead (the handler decides when to stop polling).
    After(Duration),
    /// Caly itself was busy (no database connection came free): try again after this wait.
    /// The attempt is given back, and it is no poll either.
    GiveBack(Duration),
}

/// Records a failed attempt: back to pending after a backoff, or failed for good.
/// Returns the status the run ended in.
#[allow(clippy::too_many_arguments)]
pub async fn fail(
    db: &impl ConnectionTrait,
    run: &stage_run::Model,
    error: &str,
    code: FailureCode,
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
        FailureKind::After(wait) | FailureKind::GiveBack(wait) => {
            (RunStatus::Pending, now + chrono_of(wait))
        }
    };
    let error: String = error.chars().take(2000).collect();
    let mut update = stage_run::Entity::update_many();
    if let FailureKind::After(_) | FailureKind::GiveBack(_) = kind {
        // Not ready yet, or Caly busy, is not a failed attempt: it gives its attempt back.
        update = update.col_expr(
            stage_run::Column::Attempts,
            Expr::col(stage_run::Column::Attempts).sub(1),
        );
    }
    if let FailureKind::After(_) = kind {
        update = update.col_expr(
            stage_run::Column::Polls,
            Expr::col(stage_run::Column::Polls).add(1),
        );
    }
    update
        .col_expr(stage_run::Column::Status, Expr::value(next_status))
        .col_expr(stage_run::Column::LastError, Expr::value(error))
        .col_expr(stage_run::Column::ErrorCode, Expr::value(code.as_str()))
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

/// Attempt limits for the orphan sweep: each listed stage's own, `default` for the rest.
#[derive(Debug, Clone, Default)]
pub struct AttemptLimits {
    /// Stages with a limit of their own.
    pub per_stage: Vec<(StageName, i32)>,
    /// Every other stage's limit.
    pub default: i32,
}

impl AttemptLimits {
    /// The same limit for every stage.
    pub fn uniform(max_attempts: i32) -> Self {
        AttemptLimits {
            per_stage: Vec::new(),
            default: max_attempts,
        }
    }

    /// Runs that have used up their stage's attempts.
    fn exhausted(&self) -> Condition {
        let listed: Vec<&str> = self.per_stage.iter().map(|(s, _)| s.as_str()).collect();
        let mut cond = Condition::any().add(
            Condition::all()
                .add(stage_run::Column::Stage.is_not_in(listed))
                .add(stage_run::Column::Attempts.gte(self.default)),
        );
        for (stage, max) in &self.per_stage {
            cond = cond.add(
                Condition::all()
                    .add(stage_run::Column::Stage.eq(stage.as_str()))
                    .add(stage_run::Column::Attempts.gte(*max)),
            );
        }
        cond
    }
}

/// Returns runs whose worker vanished (lease expired) to pending, or fails them once they have
/// used their stage's attempts (a run that kills its worker every time must not loop forever).
/// Returns how many were recovered.
pub async fn recover_orphans(
    db: &impl ConnectionTrait,
    limits: &AttemptLimits,
    now: DateTime<Utc>,
) -> Result<u64, CoreError> {
    expired_leases(
        RunStatus::Failed,
        "the worker stopped before finishing on every attempt",
        now,
    )
    .filter(limits.exhausted())
    .exec(db)
    .await?;
    let result = expired_leases(
        RunStatus::Pending,
        "the worker stopped before finishing",
        now,
    )
    .col_expr(stage_run::Column::NextRunAt, Expr::value(now))
    .col_expr(
        stage_run::Column::DispatchedAt,
        Expr::value(None::<DateTime<Utc>>),
    )
    .exec(db)
    .await?;
    Ok(result.rows_affected)
}

/// An update of running runs whose lease lapsed: unlocked, moved to `status`, with `why` (and
/// "(lease expired)") as their error.
fn expired_leases(
    status: RunStatus,
    why: &str,
    now: DateTime<Utc>,
) -> UpdateMany<stage_run::Entity> {
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::Status, Expr::value(status))
        .col_expr(
            stage_run::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            stage_run::Column::LastError,
            Expr::value(format!("{why} (lease expired)")),
        )
        .col_expr(
            stage_run::Column::ErrorCode,
            Expr::value(FailureCode::InternalError.as_str()),
        )
        .col_expr(stage_run::Column::UpdatedAt, Expr::value(now))
        .filter(stage_run::Column::Status.eq(RunStatus::Running))
        .filter(stage_run::Column::LockedUntil.lt(now))
}

/// Which failed runs to list or retry.
#[derive(Debug, Clone, Default)]
pub struct FailedFilter {
    /// Only this tenant's (always set for tenants; operators may cross tenants).
    pub tenant: Option<TenantId>,
    /// Only this stage's.
    pub stage: Option<StageName>,
    /// Only runs that failed at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only runs that failed before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only runs whose error contains this text (case-insensitive).
    pub error_contains: Option<String>,
    /// Match `error_contains` against what tenants see (the code and its sentence) rather
    /// than the internal error text.
    pub as_tenant: bool,
}

impl FailedFilter {
    fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(stage_run::Column::Status.eq(RunStatus::Failed));
        if let Some(tenant) = self.tenant {
            cond = cond.add(stage_run::Column::TenantId.eq(tenant.0));
        }
        if let Some(stage) = &self.stage {
            cond = cond.add(stage_run::Column::Stage.eq(stage.as_str()));
        }
        if let Some(since) = self.since {
            cond = cond.add(stage_run::Column::UpdatedAt.gte(since));
        }
        if let Some(until) = self.until {
            cond = cond.add(stage_run::Column::UpdatedAt.lt(until));
        }
        if let Some(text) = self.error_contains.as_deref().map(str::to_lowercase) {
            cond = cond.add(if self.as_tenant {
                let codes: Vec<&str> = FailureCode::ALL
                    .iter()
                    .filter(|c| {
                        c.as_str().contains(&text) || c.message().to_lowercase().contains(&text)
                    })
                    .map(|c| c.as_str())
                    .collect();
                stage_run::Column::ErrorCode.is_in(codes)
            } else {
                Expr::expr(Func::lower(Expr::col(stage_run::Column::LastError)))
                    .like(format!("%{text}%"))
            });
        }
        cond
    }
}

/// Failed stage runs matching `filter`, most recently failed first.
pub async fn list_failed(
    db: &impl ConnectionTrait,
    filter: &FailedFilter,
    page: PageRequest,
) -> Result<Page<stage_run::Model>, CoreError> {
    let query = stage_run::Entity::find()
        .filter(filter.condition())
        .order_by_desc(stage_run::Column::UpdatedAt)
        .order_by_desc(stage_run::Column::Id);
    paginate(db, query, page).await
}

/// Most runs one retry re-arms (a retry of more is repeated).
pub const MAX_RETRY: u64 = 10_000;

/// Re-arms every failed run matching `filter` once (up to [`MAX_RETRY`]). Returns the runs
/// now pending, to push.
pub async fn retry_failed(
    db: &impl ConnectionTrait,
    filter: &FailedFilter,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(StageName, StageRunId)>, CoreError> {
    let matching: Vec<(i64, String)> = stage_run::Entity::find()
        .select_only()
        .column(stage_run::Column::Id)
        .column(stage_run::Column::Stage)
        .filter(filter.condition())
        .order_by_asc(stage_run::Column::Id)
        .limit(MAX_RETRY)
        .into_tuple()
        .all(db)
        .await?;
    let mut rearmed = Vec::with_capacity(matching.len());
    for (id, stage) in matching {
        if rearm_if(db, StageRunId(id), note, Rearm::IfFailed, now).await? {
            rearmed.push((StageName::from(stage), StageRunId(id)));
        }
    }
    Ok(rearmed)
}
