//! Tenant-scoped reads of calls: every query here filters by tenant id, so one tenant can never
//! see another's calls, events, stage runs, recordings or charges.

use crate::platform::pagination::{Page, PageRequest, paginate};
use crate::platform::time;
use crate::{CallState, CoreError};
use caly_entities::{call, charge, raw_event, recording, stage_run};
use caly_jobs::{CallId, TenantId};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

/// Filters for listing calls. Dates are IST calendar days, inclusive.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls in this state.
    pub state: Option<CallState>,
    /// First IST day.
    pub from: Option<NaiveDate>,
    /// Last IST day.
    pub to: Option<NaiveDate>,
}

/// Lists a tenant's calls, newest first.
pub async fn list_calls(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &CallFilter,
    page: PageRequest,
) -> Result<Page<call::Model>, CoreError> {
    let mut query = call::Entity::find().filter(call::Column::TenantId.eq(tenant.0));
    if let Some(state) = filter.state {
        query = query.filter(call::Column::State.eq(state));
    }
    if let Some(from) = filter.from {
        query = query.filter(call::Column::CreatedAt.gte(time::ist_day_start(from)));
    }
    if let Some(to) = filter.to.and_then(|d| d.succ_opt()) {
        query = query.filter(call::Column::CreatedAt.lt(time::ist_day_start(to)));
    }
    let query = query
        .order_by_desc(call::Column::CreatedAt)
        .order_by_desc(call::Column::Id);
    paginate(db, query, page).await
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
    tenant: TenantId,
    call: CallId,
) -> Result<call::Model, CoreError> {
    call::Entity::find_by_id(call.0)
        .filter(call::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("call"))
}

/// A call with its events, stage runs, recordings and charge.
pub async fn call_detail(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call_id: CallId,
) -> Result<CallDetail, CoreError> {
    let call = find_call(db, tenant, call_id).await?;
    let raw_events = raw_event::Entity::find()
        .filter(raw_event::Column::TenantId.eq(tenant.0))
        .filter(raw_event::Column::CallSid.eq(call.call_sid.as_str()))
        .order_by_asc(raw_event::Column::Id)
        .all(db)
        .await?;
    let stages = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant.0))
        .filter(stage_run::Column::CallSid.eq(call.call_sid.as_str()))
        .order_by_asc(stage_run::Column::Id)
        .all(db)
        .await?;
    let recordings = recording::Entity::find()
        .filter(recording::Column::TenantId.eq(tenant.0))
        .filter(recording::Column::CallId.eq(call.id))
        .all(db)
        .await?;
    let charge = charge::Entity::find()
        .filter(charge::Column::TenantId.eq(tenant.0))
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

/// The call's first stored recording.
pub async fn find_recording(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
) -> Result<recording::Model, CoreError> {
    recording::Entity::find()
        .filter(recording::Column::TenantId.eq(tenant.0))
        .filter(recording::Column::CallId.eq(call.0))
        .order_by_asc(recording::Column::Id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("recording"))
}
