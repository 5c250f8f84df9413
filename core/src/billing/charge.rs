//! Charging a call: once, when it is final and has a duration, at the rate in force at its
//! start. The charge row, the tenant's balance and the call's billing status change in one
//! transaction; the charge's unique call id makes a repeat a no-op.

use super::rates::{billable_minutes, charge_paise, rate_history};
use crate::platform::pagination::{Page, PageRequest, paginate};
use crate::{BillingStatus, CoreError};
use caly_entities::{call, charge, tenant};
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait, TryInsertResult,
};

/// What charging a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The call is not over yet: nothing to charge.
    NotFinal,
    /// The call was charged before.
    AlreadyCharged,
    /// Final, but no duration is known: the call is marked `awaiting_duration`.
    AwaitingDuration,
    /// A duration arrived while the call was being marked as waiting for one: charge again.
    DurationArrivedMeanwhile,
    /// Charged now.
    Charged {
        /// Amount in paise.
        amount_paise: i64,
        /// Seconds billed.
        seconds: i64,
        /// Rate applied, paise per started minute.
        rate_paise_per_min: i64,
    },
}

/// Charges a call if it is final and has a duration (see [`ChargeOutcome`]).
pub async fn charge_call<C>(
    db: &C,
    call: &call::Model,
    now: DateTime<Utc>,
) -> Result<ChargeOutcome, CoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    if !call.state.is_final() {
        return Ok(ChargeOutcome::NotFinal);
    }
    let existing = charge::Entity::find()
        .filter(charge::Column::CallId.eq(call.id))
        .one(db)
        .await?;
    if existing.is_some() {
        return Ok(ChargeOutcome::AlreadyCharged);
    }
    let (Some(seconds), Some(source)) = (call.duration_secs, call.duration_source.clone()) else {
        let marked = call::Entity::update_many()
            .col_expr(
                call::Column::BillingStatus,
                Expr::value(BillingStatus::AwaitingDuration),
            )
            .filter(call::Column::Id.eq(call.id))
            .filter(call::Column::BillingStatus.ne(BillingStatus::Charged))
            .filter(call::Column::DurationSecs.is_null())
            .exec(db)
            .await?;
        return Ok(if marked.rows_affected == 0 {
            ChargeOutcome::DurationArrivedMeanwhile
        } else {
            ChargeOutcome::AwaitingDuration
        });
    };
    let history = rate_history(db, TenantId(call.tenant_id)).await?;
    let rate = super::rate_at(&history, call.started_at.unwrap_or(call.created_at));
    let amount = charge_paise(seconds, rate);

    let txn = db.begin().await?;
    let inserted = charge::Entity::insert(charge::ActiveModel {
        tenant_id: Set(call.tenant_id),
        call_id: Set(call.id),
        billable_seconds: Set(seconds),
        minutes: Set(billable_minutes(seconds)),
        rate_paise_per_min: Set(rate),
        amount_paise: Set(amount),
        duration_source: Set(source),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([charge::Column::CallId])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(ChargeOutcome::AlreadyCharged);
    }
    tenant::Entity::update_many()
        .col_expr(
            tenant::Column::BalancePaise,
            Expr::col(tenant::Column::BalancePaise).add(amount),
        )
        .filter(tenant::Column::Id.eq(call.tenant_id))
        .exec(&txn)
        .await?;
    call::Entity::update_many()
        .col_expr(call::Column::CostPaise, Expr::value(amount))
        .col_expr(
            call::Column::BillingStatus,
            Expr::value(BillingStatus::Charged),
        )
        .col_expr(call::Column::UpdatedAt, Expr::value(now))
        .filter(call::Column::Id.eq(call.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(ChargeOutcome::Charged {
        amount_paise: amount,
        seconds,
        rate_paise_per_min: rate,
    })
}

/// A tenant's charges, newest first.
pub async fn list_charges(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<charge::Model>, CoreError> {
    let query = charge::Entity::find()
        .filter(charge::Column::TenantId.eq(tenant.0))
        .order_by_desc(charge::Column::Id);
    paginate(db, query, page).await
}
