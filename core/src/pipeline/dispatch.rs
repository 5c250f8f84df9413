//! The dispatcher: moves due stage runs from the database into the queue, keeping each queue
//! within its depth bound, and returns orphaned runs (dead workers) to pending first.

use super::runs::{self, NewRun};
use super::stages::charge;
use crate::app::App;
use crate::{BillingStatus, CoreError, RunStatus};
use caly_entities::{call, stage_run};
use caly_jobs::{StageJob, StageName, StageRunId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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

/// One pass over every stage.
pub async fn dispatch_due(app: &App, now: DateTime<Utc>) -> Result<DispatchReport, CoreError> {
    let mut report = DispatchReport {
        orphans: runs::recover_orphans(&app.db, app.settings.retry.max_attempts, now).await?,
        pushed: 0,
    };
    rearm_stranded_charges(app, now).await?;
    for stage in app.stages.iter() {
        report.pushed += dispatch_stage(app, stage.spec().queue(), now).await?;
    }
    Ok(report)
}

/// A call marked `awaiting_duration` whose duration arrived while its charge run was still
/// finishing would otherwise wait for another event: re-arm its charge.
async fn rearm_stranded_charges(app: &App, now: DateTime<Utc>) -> Result<(), CoreError> {
    let stranded = call::Entity::find()
        .filter(call::Column::BillingStatus.eq(BillingStatus::AwaitingDuration))
        .filter(call::Column::DurationSecs.is_not_null())
        .limit(500)
        .all(&app.db)
        .await?;
    for call in stranded {
        runs::ensure(&app.db, NewRun::for_call(&charge::SPEC, &call), true, now).await?;
    }
    Ok(())
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
    let ids: Vec<i64> = stage_run::Entity::find()
        .select_only()
        .column(stage_run::Column::Id)
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .filter(due_condition(app, now))
        .order_by_asc(stage_run::Column::NextRunAt)
        .limit(room.min(1000))
        .into_tuple()
        .all(&app.db)
        .await?;
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

/// Pushes runs created by a committed transaction at once, when their queue has room; the
/// dispatcher picks up whatever is held back or fails to push.
pub async fn push_committed(app: &App, stage: &StageName, ids: &[StageRunId], now: DateTime<Utc>) {
    if ids.is_empty() {
        return;
    }
    for &id in ids {
        match app.gauge.reserve(&app.queue, stage, fill_target(app)).await {
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
