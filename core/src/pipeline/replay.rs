//! Replaying one stage of one call: re-arms its finished runs, or creates the run of a
//! once-per-call stage that never ran. Tenant-scoped like every call query.

use super::runs::{self, NewRun};
use super::stage::StageSpec;
use crate::calls::find_call;
use crate::{CoreError, Rejection};
use caly_entities::stage_run;
use caly_jobs::{CallId, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// Re-runs the stage described by `spec` (from the registry) for one of the tenant's calls.
/// Returns the runs to push.
pub async fn replay(
    db: &impl ConnectionTrait,
    spec: &StageSpec,
    tenant: TenantId,
    call_id: CallId,
    now: DateTime<Utc>,
) -> Result<Vec<StageRunId>, CoreError> {
    let call = find_call(db, tenant, call_id).await?;
    let existing = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant.0))
        .filter(stage_run::Column::CallSid.eq(call.call_sid.as_str()))
        .filter(stage_run::Column::Stage.eq(spec.name.as_str()))
        .all(db)
        .await?;
    if existing.is_empty() {
        if spec.call_key.is_none() {
            return Err(Rejection::NothingToReplay.into());
        }
        let new = NewRun::for_call(spec, &call);
        let created = runs::insert_if_absent(db, new, false, now).await?;
        return Ok(created.into_iter().collect());
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
    Ok(ids)
}
