//! Replaying one stage of one call: re-arms its finished runs, or creates the run of a
//! once-per-call stage that never ran. Tenant-scoped like every call query.

use super::registry::StageRegistry;
use super::runs::{self, NewRun};
use crate::calls::find_call;
use crate::{CoreError, Rejection};
use caly_entities::stage_run;
use caly_jobs::{CallId, StageName, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// What a replay re-armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The stage.
    pub stage: StageName,
    /// The runs to push.
    pub runs: Vec<StageRunId>,
}

/// Re-runs the stage called `stage` for one of the tenant's calls.
pub async fn replay(
    db: &impl ConnectionTrait,
    stages: &StageRegistry,
    tenant: TenantId,
    call_id: CallId,
    stage: &str,
    now: DateTime<Utc>,
) -> Result<Replayed, CoreError> {
    let spec = stages.lookup(stage).map_err(Rejection::from)?.spec();
    let stage = spec.name.clone();
    let call = find_call(db, tenant, call_id).await?;
    let existing = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant.0))
        .filter(stage_run::Column::CallSid.eq(call.call_sid.as_str()))
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .all(db)
        .await?;
    if existing.is_empty() {
        if spec.call_key.is_none() {
            return Err(Rejection::NothingToReplay.into());
        }
        let new = NewRun::for_call(spec, &call);
        let runs = runs::insert_if_absent(db, new, false, now).await?;
        return Ok(Replayed {
            stage,
            runs: runs.into_iter().collect(),
        });
    }
    let mut ids = Vec::new();
    for run in existing {
        let id = StageRunId(run.id);
        if runs::rearm(db, id, "replayed", now).await? {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(Rejection::StageBusy.into());
    }
    Ok(Replayed { stage, runs: ids })
}
