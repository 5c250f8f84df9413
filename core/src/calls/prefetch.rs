//! Prefetching the caller's recent orders when a call or text conversation starts: armed as a
//! `prefetch_caller` run when the tenant has a connected store, stored per call, and read into
//! the conversation's context by the agent (which then answers from it without waiting on
//! Shopify; who may hear what is still decided by the tool layer).

use crate::CoreError;
use crate::integrations::shopify::store::Order;
use crate::pipeline::runs::{self, NewRun, Rearm};
use crate::pipeline::stages::prefetch_caller;
use caly_entities::status::StoreStatus;
use caly_entities::{call, caller_prefetch, shopify_store};
use caly_jobs::StageRunId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Arms the prefetch of `call`'s caller when the tenant has a connected store and the caller's
/// number is known. Once per call.
pub async fn arm(
    db: &impl ConnectionTrait,
    call: &call::Model,
    now: DateTime<Utc>,
) -> Result<Option<StageRunId>, CoreError> {
    if call.from_number.is_none() {
        return Ok(None);
    }
    let connected = shopify_store::Entity::find_by_id(call.tenant_id)
        .filter(shopify_store::Column::Status.eq(StoreStatus::Connected))
        .one(db)
        .await?
        .is_some();
    if !connected {
        return Ok(None);
    }
    let new = NewRun::for_call(&prefetch_caller::SPEC, call);
    runs::ensure(db, new, Rearm::Never, "", now).await
}

/// Stores the caller's orders for `call`.
pub async fn save(
    db: &impl ConnectionTrait,
    call: &call::Model,
    orders: &[Order],
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let json = serde_json::to_string(orders).unwrap_or_else(|_| "[]".into());
    caller_prefetch::Entity::insert(caller_prefetch::ActiveModel {
        call_id: Set(call.id),
        tenant_id: Set(call.tenant_id),
        orders: Set(json),
        fetched_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(caller_prefetch::Column::CallId)
            .update_columns([
                caller_prefetch::Column::Orders,
                caller_prefetch::Column::FetchedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The caller's prefetched orders for `call`, once fetched.
pub async fn load(
    db: &impl ConnectionTrait,
    call: &call::Model,
) -> Result<Option<(Vec<Order>, DateTime<Utc>)>, CoreError> {
    let row = caller_prefetch::Entity::find_by_id(call.id)
        .filter(caller_prefetch::Column::TenantId.eq(call.tenant_id))
        .one(db)
        .await?;
    Ok(row.and_then(|r| {
        let orders = serde_json::from_str(&r.orders).ok()?;
        Some((orders, r.fetched_at))
    }))
}
