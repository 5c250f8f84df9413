//! The per-tenant money ledger. Every movement (charge, adjustment, credit, payment) is one
//! entry under a natural key that is unique per tenant, written with the matching balance
//! change in the caller's transaction, and never edited. The balance (what the tenant owes) is
//! therefore always the sum of the entries; [`balance_check`] proves it.

use crate::CoreError;
use crate::platform::pagination::{Page, PageRequest, paginate};
use caly_entities::status::LedgerKind;
use caly_entities::{ledger_entry, tenant};
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, TryInsertResult,
};
use serde::Serialize;

/// A money movement about to be written.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Owning tenant.
    pub tenant: TenantId,
    /// What moved the money.
    pub kind: LedgerKind,
    /// Natural key, unique per tenant (see [`charge_key`], [`adjustment_key`]).
    pub key: String,
    /// The call, for charges and adjustments.
    pub call: Option<CallId>,
    /// Effect on the balance: positive adds to what the tenant owes.
    pub amount_paise: i64,
    /// What a call's bill is now based on (charges and adjustments).
    pub basis: Option<BillBasis>,
    /// Why, in a sentence.
    pub reason: String,
}

/// The duration and rate a call's bill is based on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillBasis {
    /// Seconds billed.
    pub seconds: i64,
    /// Started minutes billed.
    pub minutes: i64,
    /// Paise per started minute.
    pub rate_paise_per_min: i64,
    /// Which duration field.
    pub duration_source: String,
}

/// The key of a call's one charge.
pub fn charge_key(call: CallId) -> String {
    format!("charge:{call}")
}

/// The key of a call's one adjustment for a duration source.
pub fn adjustment_key(call: CallId, source: &str) -> String {
    format!("adjustment:{call}:{source}")
}

/// Writes an entry and moves the tenant's balance by its amount, in the caller's transaction.
/// Returns `None` when an entry with that key exists already (nothing is written).
pub async fn post(
    txn: &impl ConnectionTrait,
    entry: NewEntry,
    now: DateTime<Utc>,
) -> Result<Option<i64>, CoreError> {
    debug_assert!(match entry.kind {
        LedgerKind::Charge => entry.amount_paise >= 0,
        LedgerKind::Credit | LedgerKind::Payment => entry.amount_paise <= 0,
        LedgerKind::Adjustment => true,
    });
    let basis = entry.basis.clone();
    let inserted = ledger_entry::Entity::insert(ledger_entry::ActiveModel {
        tenant_id: Set(entry.tenant.0),
        kind: Set(entry.kind),
        entry_key: Set(entry.key),
        call_id: Set(entry.call.map(|c| c.0)),
        amount_paise: Set(entry.amount_paise),
        billable_seconds: Set(basis.as_ref().map(|b| b.seconds)),
        minutes: Set(basis.as_ref().map(|b| b.minutes)),
        rate_paise_per_min: Set(basis.as_ref().map(|b| b.rate_paise_per_min)),
        duration_source: Set(basis.map(|b| b.duration_source)),
        reason: Set(entry.reason),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        ledger_entry::Column::TenantId,
        ledger_entry::Column::EntryKey,
    ])
    .exec(txn)
    .await?;
    let id = match inserted {
        TryInsertResult::Inserted(done) => done.last_insert_id,
        TryInsertResult::Conflicted | TryInsertResult::Empty => return Ok(None),
    };
    tenant::Entity::update_many()
        .col_expr(
            tenant::Column::BalancePaise,
            Expr::col(tenant::Column::BalancePaise).add(entry.amount_paise),
        )
        .filter(tenant::Column::Id.eq(entry.tenant.0))
        .exec(txn)
        .await?;
    Ok(Some(id))
}

/// A call's entries (its charge, then its adjustments), oldest first.
pub async fn call_entries(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
) -> Result<Vec<ledger_entry::Model>, CoreError> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tenant.0))
        .filter(ledger_entry::Column::CallId.eq(call.0))
        .order_by_asc(ledger_entry::Column::Id)
        .all(db)
        .await?)
}

/// A tenant's entries, newest first.
pub async fn list_entries(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<ledger_entry::Model>, CoreError> {
    let query = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tenant.0))
        .order_by_desc(ledger_entry::Column::Id);
    paginate(db, query, page).await
}

/// A tenant's stored balance next to the sum of its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BalanceCheck {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The balance kept on the tenant row.
    pub balance_paise: i64,
    /// The sum of the tenant's entries.
    pub ledger_sum_paise: i64,
}

impl BalanceCheck {
    /// True when the two agree.
    pub fn holds(&self) -> bool {
        self.balance_paise == self.ledger_sum_paise
    }
}

/// Compares a tenant's balance with the sum of its ledger.
pub async fn balance_check(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<BalanceCheck, CoreError> {
    let row = tenant::Entity::find_by_id(tenant.0)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("tenant"))?;
    let sum: Option<i64> = ledger_entry::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(ledger_entry::Column::AmountPaise)),
                "BIGINT",
            )),
            "sum",
        )
        .filter(ledger_entry::Column::TenantId.eq(tenant.0))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    Ok(BalanceCheck {
        tenant_id: tenant,
        balance_paise: row.balance_paise,
        ledger_sum_paise: sum.unwrap_or(0),
    })
}
