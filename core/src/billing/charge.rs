//! Charging a call: once, when it is final and has a duration, at the rate in force at its
//! start; and, when a better duration arrives after that, one adjustment per duration source.
//! The ledger entry, the tenant's balance and the call's billing status change in one
//! transaction; the entries' natural keys make a repeat a no-op.

use super::ledger::{self, BillBasis, NewEntry};
use super::rates::{billable_minutes, charge_paise, rate_history};
use crate::integrations::exotel::DurationSource;
use crate::{BillingStatus, CoreError};
use caly_entities::call;
use caly_entities::ledger_entry;
use caly_entities::status::LedgerKind;
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

/// What charging a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The call is not over yet: nothing to charge.
    NotFinal,
    /// The call's bill already rests on its best known duration.
    AlreadyCharged,
    /// Final, but no duration is known: the call is marked `awaiting_duration`.
    AwaitingDuration,
    /// A duration arrived while the call was being billed: run again to bill on it.
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
    /// A better duration arrived after the charge: one adjustment entry was written.
    Adjusted {
        /// Change to what the call costs, in paise (may be zero or negative).
        delta_paise: i64,
        /// What the call costs now.
        total_paise: i64,
    },
}

/// Bills a call if it is final and has a duration (see [`ChargeOutcome`]). Everything is read
/// and written in one transaction that first takes the call's row lock (PostgreSQL) or the
/// write lock (SQLite), so two attempts can never both book against the same ledger state.
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
    let (tenant, call_id) = (TenantId(call.tenant_id), CallId(call.id));
    let txn = db.begin().await?;
    // Write first: it takes the call's row lock on PostgreSQL and the write lock on SQLite
    // (waiting its turn) before anything is read, so what is read below cannot go stale.
    call::Entity::update_many()
        .col_expr(call::Column::UpdatedAt, Expr::col(call::Column::UpdatedAt))
        .filter(call::Column::Id.eq(call.id))
        .exec(&txn)
        .await?;
    let entries = ledger::call_entries(&txn, tenant, call_id).await?;
    let (Some(seconds), Some(source)) = (call.duration_secs, call.duration_source.clone()) else {
        if !entries.is_empty() {
            return Ok(ChargeOutcome::AlreadyCharged);
        }
        let outcome = mark_awaiting_duration(&txn, call).await?;
        txn.commit().await?;
        return Ok(outcome);
    };
    let outcome = match entries.first() {
        None => charge(&txn, call, seconds, source, now).await?,
        Some(first) => adjust(&txn, call, &entries, first, seconds, source, now).await?,
    };
    txn.commit().await?;
    Ok(outcome)
}

async fn mark_awaiting_duration(
    txn: &impl ConnectionTrait,
    call: &call::Model,
) -> Result<ChargeOutcome, CoreError> {
    let marked = call::Entity::update_many()
        .col_expr(
            call::Column::BillingStatus,
            Expr::value(BillingStatus::AwaitingDuration),
        )
        .filter(call::Column::Id.eq(call.id))
        .filter(call::Column::BillingStatus.ne(BillingStatus::Charged))
        .filter(call::Column::DurationSecs.is_null())
        .exec(txn)
        .await?;
    Ok(if marked.rows_affected == 0 {
        ChargeOutcome::DurationArrivedMeanwhile
    } else {
        ChargeOutcome::AwaitingDuration
    })
}

/// Records the call's new cost and status, unless its duration source changed since it was
/// loaded (then the call is left `adjustment_due`, so its charge runs again on the newer one).
async fn settle_call(
    txn: &impl ConnectionTrait,
    call: &call::Model,
    total_paise: i64,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    let unchanged = call::Entity::update_many()
        .col_expr(call::Column::CostPaise, Expr::value(total_paise))
        .col_expr(
            call::Column::BillingStatus,
            Expr::value(BillingStatus::Charged),
        )
        .col_expr(call::Column::UpdatedAt, Expr::value(now))
        .filter(call::Column::Id.eq(call.id))
        .filter(call::Column::DurationSource.eq(call.duration_source.clone()))
        .exec(txn)
        .await?;
    if unchanged.rows_affected == 1 {
        return Ok(true);
    }
    call::Entity::update_many()
        .col_expr(call::Column::CostPaise, Expr::value(total_paise))
        .col_expr(
            call::Column::BillingStatus,
            Expr::value(BillingStatus::AdjustmentDue),
        )
        .col_expr(call::Column::UpdatedAt, Expr::value(now))
        .filter(call::Column::Id.eq(call.id))
        .exec(txn)
        .await?;
    Ok(false)
}

async fn charge(
    txn: &impl ConnectionTrait,
    call: &call::Model,
    seconds: i64,
    source: String,
    now: DateTime<Utc>,
) -> Result<ChargeOutcome, CoreError> {
    let history = rate_history(txn, TenantId(call.tenant_id)).await?;
    let rate = super::rate_at(&history, call.started_at.unwrap_or(call.happened_at));
    let amount = charge_paise(seconds, rate);
    let minutes = billable_minutes(seconds);
    let call_id = CallId(call.id);
    let entry = NewEntry {
        tenant: TenantId(call.tenant_id),
        kind: LedgerKind::Charge,
        key: ledger::charge_key(call_id),
        call: Some(call_id),
        amount_paise: amount,
        reason: format!("call charged: {seconds}s ({source}) is {minutes} min at {rate} paise/min"),
        basis: Some(BillBasis {
            seconds,
            minutes,
            rate_paise_per_min: rate,
            duration_source: source,
        }),
    };
    let charged = ChargeOutcome::Charged {
        amount_paise: amount,
        seconds,
        rate_paise_per_min: rate,
    };
    book(txn, call, entry, amount, charged, now).await
}

/// Posts `entry` and records the call's new total in the caller's transaction. Returns `done`
/// when both happened, `AlreadyCharged` when the entry existed, and `DurationArrivedMeanwhile`
/// when the call's duration source changed since it was loaded (it is left `adjustment_due`).
async fn book(
    txn: &impl ConnectionTrait,
    call: &call::Model,
    entry: NewEntry,
    total_paise: i64,
    done: ChargeOutcome,
    now: DateTime<Utc>,
) -> Result<ChargeOutcome, CoreError> {
    if ledger::post(txn, entry, now).await?.is_none() {
        return Ok(ChargeOutcome::AlreadyCharged);
    }
    Ok(if settle_call(txn, call, total_paise, now).await? {
        done
    } else {
        ChargeOutcome::DurationArrivedMeanwhile
    })
}

fn source_rank(source: Option<&str>) -> Option<DurationSource> {
    source.and_then(DurationSource::parse)
}

async fn adjust(
    txn: &impl ConnectionTrait,
    call: &call::Model,
    entries: &[ledger_entry::Model],
    charge: &ledger_entry::Model,
    seconds: i64,
    source: String,
    now: DateTime<Utc>,
) -> Result<ChargeOutcome, CoreError> {
    let billed = entries.last().unwrap_or(charge);
    let billed_source = billed.duration_source.as_deref();
    let better = match (source_rank(Some(&source)), source_rank(billed_source)) {
        (Some(new), Some(old)) => new < old,
        _ => false,
    };
    let total_before: i64 = entries.iter().map(|e| e.amount_paise).sum();
    if !better {
        // Nothing better to bill on: an `adjustment_due` mark (a same-source re-report) is
        // resolved, so the call is not swept again.
        settle_call(txn, call, total_before, now).await?;
        return Ok(ChargeOutcome::AlreadyCharged);
    }
    let rate = charge.rate_paise_per_min.unwrap_or_default();
    let total = charge_paise(seconds, rate);
    let minutes = billable_minutes(seconds);
    let call_id = CallId(call.id);
    let reason = format!(
        "better duration: {seconds}s ({source}) replaces {}s ({}); {} min → {minutes} min at {rate} paise/min",
        billed.billable_seconds.unwrap_or_default(),
        billed_source.unwrap_or("unknown"),
        billed.minutes.unwrap_or_default(),
    );
    let entry = NewEntry {
        tenant: TenantId(call.tenant_id),
        kind: LedgerKind::Adjustment,
        key: ledger::adjustment_key(call_id, &source),
        call: Some(call_id),
        amount_paise: total - total_before,
        reason,
        basis: Some(BillBasis {
            seconds,
            minutes,
            rate_paise_per_min: rate,
            duration_source: source,
        }),
    };
    let adjusted = ChargeOutcome::Adjusted {
        delta_paise: total - total_before,
        total_paise: total,
    };
    book(txn, call, entry, total, adjusted, now).await
}
