//! The dispatcher: moves due stage runs from the database into the queue, keeping each queue
//! within its depth bound and taking runs round-robin by tenant, and returns orphaned runs
//! (dead workers) to pending first. Direct pushes (after a webhook or a finished stage) keep
//! to the same fairness: none while runs are held back.

use super::runs::{self, NewRun, Rearm};
use super::stages::charge;
use crate::app::App;
use crate::platform::db::portable_statement;
use crate::{BillingStatus, CoreError, RunStatus};
use caly_entities::{call, stage_run};
use caly_jobs::{StageJob, StageName, StageRunId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// What one dispatcher pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    /// Runs whose worker vanished, returned to pending.
    pub orphans: u64,
    /// Jobs pushed to the queue.
    pub pushed: u64,
}

/// How full pushers fill a queue: half its bound. Depth is read, then pushed to, so pushers
/// running at once can overshoot what they read: the single-flight dispatcher by nothing, each
/// api or worker process by at most [`crate::platform::gauge::MAX_UNREAD_PUSHES`]. The other half of the
/// bound absorbs that while processes × `MAX_UNREAD_PUSHES` stays below `bound / 2`.
pub fn fill_target(app: &App) -> u64 {
    (app.settings.queue_depth_bound / 2).max(1)
}

fn due_condition(app: &App, now: DateTime<Utc>) -> Condition {
    let cutoff = now
        - chrono::Duration::from_std(app.settings.redispatch_after)
            .unwrap_or(chrono::Duration::seconds(60));
    Condition::all()
        .add(stage_run::Column::Status.eq(RunStatus::Pending))
        .add(stage_run::Column::NextRunAt.lte(now))
        .add(
            Condition::any()
                .add(stage_run::Column::DispatchedAt.is_null())
                .add(stage_run::Column::DispatchedAt.lt(cutoff)),
        )
}

/// Each registered stage's attempt limit.
pub fn attempt_limits(app: &App) -> runs::AttemptLimits {
    runs::AttemptLimits {
        per_stage: app
            .stages
            .iter()
            .filter_map(|s| Some((s.spec().name.clone(), s.spec().max_attempts?)))
            .collect(),
        default: app.settings.retry.max_attempts,
    }
}

/// One pass over every stage.
pub async fn dispatch_due(app: &App, now: DateTime<Utc>) -> Result<DispatchReport, CoreError> {
    let mut report = DispatchReport {
        orphans: runs::recover_orphans(&app.db, &attempt_limits(app), now).await?,
        pushed: 0,
    };
    rearm_stranded_charges(app, now).await?;
    for stage in app.stages.iter() {
        report.pushed += dispatch_stage(app, stage.spec().queue(), now).await?;
    }
    Ok(report)
}

/// A call whose duration arrived (or improved) while its charge run was still finishing would
/// otherwise wait for another event: re-arm its charge. Only a charge run that succeeded is
/// re-armed; one that failed stays failed (visible, for someone to retry), so the sweep never
/// loops past the attempt limit.
async fn rearm_stranded_charges(app: &App, now: DateTime<Utc>) -> Result<(), CoreError> {
    // Only calls whose charge run succeeded: a failed one stays failed, and a pending or
    // running one will see the duration itself; so the 500 are always ones to re-arm.
    let succeeded_charges = Query::select()
        .column(stage_run::Column::CallId)
        .from(stage_run::Entity)
        .and_where(stage_run::Column::Stage.eq(charge::NAME.as_str()))
        .and_where(stage_run::Column::Status.eq(RunStatus::Succeeded))
        .to_owned();
    let stranded = call::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(call::Column::BillingStatus.eq(BillingStatus::AwaitingDuration))
                        .add(call::Column::DurationSecs.is_not_null()),
                )
                .add(call::Column::BillingStatus.eq(BillingStatus::AdjustmentDue)),
        )
        .filter(call::Column::Id.in_subquery(succeeded_charges))
        .order_by_asc(call::Column::UpdatedAt)
        .limit(500)
        .all(&app.db)
        .await?;
    for call in stranded {
        let new = NewRun::for_call(&charge::SPEC, &call);
        let note = "re-armed by the stranded-charge sweep";
        runs::ensure(&app.db, new, Rearm::IfSucceeded, note, now).await?;
    }
    Ok(())
}

/// Due runs of `stage`, at most `limit`, taken fairly across tenants: each tenant's oldest
/// first, then each tenant's second, and so on (round-robin), so one busy store never starves
/// the others.
async fn due_round_robin(
    app: &App,
    stage: &StageName,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, CoreError> {
    let cutoff = now
        - chrono::Duration::from_std(app.settings.redispatch_after)
            .unwrap_or(chrono::Duration::seconds(60));
    let sql = "SELECT id FROM ( \
          SELECT id, next_run_at, \
            ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY next_run_at, id) AS turn \
          FROM stage_runs \
          WHERE stage = $1 AND status = $2 AND next_run_at <= $3 \
            AND (dispatched_at IS NULL OR dispatched_at < $4) \
        ) due ORDER BY turn, next_run_at, id LIMIT $5";
    let values: [sea_orm::Value; 5] = [
        stage.as_str().into(),
        RunStatus::Pending.into(),
        now.into(),
        cutoff.into(),
        (limit.min(1000) as i64).into(),
    ];
    let statement = portable_statement(app.db.get_database_backend(), sql, values);
    let rows = app.db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| row.try_get::<i64>("", "id").map_err(CoreError::from))
        .collect()
}

async fn dispatch_stage(
    app: &App,
    stage: &StageName,
    now: DateTime<Utc>,
) -> Result<u64, CoreError> {
    let depth = app.queue.depth(stage).await?;
    let room = fill_target(app).saturating_sub(depth);
    if room == 0 {
        return Ok(0);
    }
    let ids = due_round_robin(app, stage, room, now).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    stage_run::Entity::update_many()
        .col_expr(stage_run::Column::DispatchedAt, Expr::value(now))
        .filter(stage_run::Column::Id.is_in(ids.clone()))
        .filter(due_condition(app, now))
        .exec(&app.db)
        .await?;
    for &id in &ids {
        app.queue
            .push(StageJob::new(StageRunId(id), stage.clone()))
            .await?;
    }
    Ok(ids.len() as u64)
}

/// True when due runs of `stage` wait in the database, held back from a full queue.
async fn has_backlog(app: &App, stage: &StageName, now: DateTime<Utc>) -> Result<bool, CoreError> {
    let waiting = stage_run::Entity::find()
        .select_only()
        .column(stage_run::Column::Id)
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .filter(stage_run::Column::Status.eq(RunStatus::Pending))
        .filter(stage_run::Column::DispatchedAt.is_null())
        .filter(stage_run::Column::NextRunAt.lte(now))
        .limit(1)
        .into_tuple::<i64>()
        .one(&app.db)
        .await?;
    Ok(waiting.is_some())
}

/// May this process push one run of `stage` straight to its queue (after a webhook or a
/// finished stage)? Only while the queue has room and nothing is held back for the dispatcher:
/// once runs wait in the database, they are handed out round-robin by tenant, and a direct
/// push would let a busy store jump that line. While held back, the database is asked again at
/// most once per [`crate::platform::gauge::REFRESH`].
pub async fn reserve_direct_push(app: &App, stage: &StageName) -> Result<bool, CoreError> {
    if app.gauge.held_back_recheck_due(stage) {
        if has_backlog(app, stage, Utc::now()).await? {
            app.gauge.mark_held_back(stage);
            return Ok(false);
        }
        app.gauge.clear_held_back(stage);
    }
    if app.gauge.is_held_back(stage) {
        return Ok(false);
    }
    let room = app
        .gauge
        .reserve(&app.queue, stage, fill_target(app))
        .await?;
    if !room {
        app.gauge.mark_held_back(stage);
    }
    Ok(room)
}

/// Pushes a live-lane run that was inserted already marked dispatched (a caller waits on it):
/// no depth check and no marking, one push. If the push fails, the dispatcher offers the run
/// again once its dispatch is stale, and the turn's own deadline answers the caller first.
pub async fn push_live(app: &App, stage: &StageName, id: StageRunId) {
    if let Err(err) = app.queue.push(StageJob::new(id, stage.clone())).await {
        tracing::warn!(%stage, stage_run = %id, error = %err, "live push failed; the dispatcher will retry");
    }
}

/// Pushes runs created by a committed transaction at once, when their queue has room; the
/// dispatcher picks up whatever is held back or fails to push.
pub async fn push_committed(app: &App, stage: &StageName, ids: &[StageRunId], now: DateTime<Utc>) {
    if ids.is_empty() {
        return;
    }
    for &id in ids {
        match reserve_direct_push(app, stage).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                tracing::warn!(%stage, error = %err, "queue depth unknown; leaving runs to the dispatcher");
                return;
            }
        }
        let marked = stage_run::Entity::update_many()
            .col_expr(stage_run::Column::DispatchedAt, Expr::value(now))
            .filter(stage_run::Column::Id.eq(id.0))
            .filter(due_condition(app, now))
            .exec(&app.db)
            .await;
        match marked {
            Ok(r) if r.rows_affected == 1 => {
                if let Err(err) = app.queue.push(StageJob::new(id, stage.clone())).await {
                    tracing::warn!(%stage, stage_run = %id, error = %err, "push failed; the dispatcher will retry");
                }
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(%stage, stage_run = %id, error = %err, "could not mark run dispatched")
            }
        }
    }
}
