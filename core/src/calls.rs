//! Tenant-scoped reads and replays: every query here filters by tenant id, so one tenant can
//! never see another's calls, charges or stage runs.

use crate::runs::{self, NewRun};
use crate::{CoreError, ist};
use caly_entities::{call, charge, raw_event, recording, stage_run};
use caly_jobs::Stage;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

/// Filters for listing calls. Dates are IST calendar days, inclusive.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls in this state.
    pub state: Option<String>,
    /// First IST day.
    pub from: Option<NaiveDate>,
    /// Last IST day.
    pub to: Option<NaiveDate>,
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Rows across all pages.
    pub total: u64,
}

/// Page size bounds.
pub fn clamp_per_page(per_page: Option<u64>) -> u64 {
    per_page.unwrap_or(50).clamp(1, 500)
}

/// Lists a tenant's calls, newest first.
pub async fn list_calls(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    filter: &CallFilter,
    page: u64,
    per_page: u64,
) -> Result<Page<call::Model>, CoreError> {
    let mut query = call::Entity::find().filter(call::Column::TenantId.eq(tenant_id));
    if let Some(state) = &filter.state {
        query = query.filter(call::Column::State.eq(state.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(call::Column::CreatedAt.gte(ist::ist_day_start(from)));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        query = query.filter(call::Column::CreatedAt.lt(ist::ist_day_start(to)));
    }
    let total = query.clone().count(db).await?;
    let page = page.max(1);
    let items = query
        .order_by_desc(call::Column::CreatedAt)
        .order_by_desc(call::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

/// A call with everything known about it.
#[derive(Debug, Clone, Serialize)]
pub struct CallDetail {
    /// The call.
    pub call: call::Model,
    /// Every delivery about it, oldest first.
    pub raw_events: Vec<raw_event::Model>,
    /// Every stage run, oldest first.
    pub stages: Vec<stage_run::Model>,
    /// Stored recordings.
    pub recordings: Vec<recording::Model>,
    /// Its charge, once charged.
    pub charge: Option<charge::Model>,
}

/// One of the tenant's calls by id.
pub async fn find_call(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    call_id: i64,
) -> Result<call::Model, CoreError> {
    call::Entity::find_by_id(call_id)
        .filter(call::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("call"))
}

/// A call with its events, stage runs, recordings and charge.
pub async fn call_detail(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    call_id: i64,
) -> Result<CallDetail, CoreError> {
    let call = find_call(db, tenant_id, call_id).await?;
    let raw_events = raw_event::Entity::find()
        .filter(raw_event::Column::TenantId.eq(tenant_id))
        .filter(raw_event::Column::CallSid.eq(call.call_sid.as_str()))
        .order_by_asc(raw_event::Column::Id)
        .all(db)
        .await?;
    let stages = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant_id))
        .filter(stage_run::Column::CallSid.eq(call.call_sid.as_str()))
        .order_by_asc(stage_run::Column::Id)
        .all(db)
        .await?;
    let recordings = recording::Entity::find()
        .filter(recording::Column::TenantId.eq(tenant_id))
        .filter(recording::Column::CallId.eq(call.id))
        .all(db)
        .await?;
    let charge = charge::Entity::find()
        .filter(charge::Column::TenantId.eq(tenant_id))
        .filter(charge::Column::CallId.eq(call.id))
        .one(db)
        .await?;
    Ok(CallDetail {
        call,
        raw_events,
        stages,
        recordings,
        charge,
    })
}

/// The call's stored recording from `source`.
pub async fn find_recording(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    call_id: i64,
) -> Result<recording::Model, CoreError> {
    recording::Entity::find()
        .filter(recording::Column::TenantId.eq(tenant_id))
        .filter(recording::Column::CallId.eq(call_id))
        .order_by_asc(recording::Column::Id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("recording"))
}

/// A tenant's charges, newest first.
pub async fn list_charges(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    page: u64,
    per_page: u64,
) -> Result<Page<charge::Model>, CoreError> {
    let query = charge::Entity::find().filter(charge::Column::TenantId.eq(tenant_id));
    let total = query.clone().count(db).await?;
    let page = page.max(1);
    let items = query
        .order_by_desc(charge::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

/// A tenant's failed stage runs, newest first.
pub async fn list_failed_runs(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    page: u64,
    per_page: u64,
) -> Result<Page<stage_run::Model>, CoreError> {
    let query = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant_id))
        .filter(stage_run::Column::Status.eq(runs::status::FAILED));
    let total = query.clone().count(db).await?;
    let page = page.max(1);
    let items = query
        .order_by_desc(stage_run::Column::UpdatedAt)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

/// The natural key of a per-call stage run (recording_upload, charge).
pub fn call_stage_key(call_id: i64, stage: Stage) -> String {
    match stage {
        Stage::RecordingUpload => format!("{call_id}:exotel"),
        Stage::Reconcile => format!("{call_id}:call_details"),
        _ => call_id.to_string(),
    }
}

/// Re-runs one stage of one call: re-arms its finished runs (or creates the run for a per-call
/// stage that never ran). Returns the ids to push.
pub async fn replay(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    call_id: i64,
    stage: Stage,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, CoreError> {
    let call = find_call(db, tenant_id, call_id).await?;
    let existing = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant_id))
        .filter(stage_run::Column::CallSid.eq(call.call_sid.as_str()))
        .filter(stage_run::Column::Stage.eq(stage.as_str()))
        .all(db)
        .await?;
    if existing.is_empty() {
        if stage == Stage::Ingest {
            return Err(CoreError::invalid(
                "nothing_to_replay",
                "This call has no events to ingest.",
            ));
        }
        let new = NewRun {
            tenant_id,
            call_sid: call.call_sid.clone(),
            call_id: Some(call.id),
            stage,
            dedupe_key: call_stage_key(call.id, stage),
            raw_event_id: None,
        };
        return Ok(runs::insert_if_absent(db, new, false, now)
            .await?
            .into_iter()
            .collect());
    }
    let mut ids = Vec::new();
    for run in existing {
        if runs::rearm(db, run.id, "replayed", now).await? {
            ids.push(run.id);
        }
    }
    if ids.is_empty() {
        return Err(CoreError::invalid(
            "stage_busy",
            "That stage is already pending or running for this call.",
        ));
    }
    Ok(ids)
}
