//! Money a store is given or pays outside its calls: the operator records a credit (goodwill,
//! a refund of a disputed call) or a payment received, each once under the operator's own
//! reference (whatever its kind), so a retried request never moves the balance twice. The entry
//! and its audit event are written in one transaction.

use crate::billing::ledger::{self, NewEntry};
use crate::tenancy::accounts::{Actor, audit};
use crate::{CoreError, Rejection};
use caly_entities::ledger_entry;
use caly_entities::status::LedgerKind;
use caly_jobs::TenantId;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;

/// The largest single credit or payment: ₹1,00,00,000.
pub const MAX_AMOUNT_PAISE: i64 = 1_000_000_000;

/// A credit or payment the operator records (the request body, as JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// `credit` or `payment`.
    pub kind: String,
    /// What it takes off the balance, in paise (more than zero).
    pub amount_paise: i64,
    /// Why, as the store will read it on its billing page.
    pub reason: String,
    /// The operator's own reference (a ticket, a bank transfer id): one entry per reference.
    pub reference: String,
}

/// What [`record`] did.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The entry (the earlier one when the reference was used before).
    pub entry: ledger_entry::Model,
    /// Whether this request wrote it.
    pub created: bool,
}

fn invalid(field: &'static str, message: &str) -> CoreError {
    Rejection::InvalidField {
        field,
        message: message.into(),
    }
    .into()
}

impl Grant {
    /// The ledger kind, the amount and the reason, checked.
    fn checked(&self) -> Result<(LedgerKind, i64, String), CoreError> {
        let kind = match self.kind.as_str() {
            "credit" => LedgerKind::Credit,
            "payment" => LedgerKind::Payment,
            _ => return Err(invalid("kind", "must be 'credit' or 'payment'")),
        };
        if !(1..=MAX_AMOUNT_PAISE).contains(&self.amount_paise) {
            return Err(invalid(
                "amount_paise",
                "must be between 1 and 1000000000 paise (₹1,00,00,000)",
            ));
        }
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(invalid("reason", "must be 1 to 200 characters"));
        }
        let reference_ok = (1..=64).contains(&self.reference.len())
            && self
                .reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
        if !reference_ok {
            return Err(invalid(
                "reference",
                "must be 1 to 64 letters, digits, '.', '_', ':' or '-'",
            ));
        }
        Ok((kind, self.amount_paise, reason.to_string()))
    }
}

/// Records a credit or payment for `tenant` by `actor` (audited as `billing.credited` or
/// `billing.payment_recorded` in the tenant's log), once per reference: asked again with the same
/// reference, kind, amount and reason, it returns the entry written the first time; with any of
/// them different, it refuses (`conflict`).
pub async fn record(
    db: &(impl ConnectionTrait + TransactionTrait),
    tenant: TenantId,
    grant: &Grant,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Recorded, CoreError> {
    let (kind, amount, reason) = grant.checked()?;
    let key = format!("grant:{}", grant.reference);
    crate::tenancy::find(db, tenant).await?;
    // The write comes first: on SQLite a transaction that reads before it writes cannot wait
    // for another writer.
    let txn = db.begin().await?;
    let entry = NewEntry {
        tenant,
        kind,
        key: key.clone(),
        call: None,
        amount_paise: -amount,
        basis: None,
        reason: reason.clone(),
    };
    let written = ledger::post(&txn, entry, now).await?;
    if let Some(id) = written {
        let action = match kind {
            LedgerKind::Payment => "billing.payment_recorded",
            _ => "billing.credited",
        };
        let details =
            json!({"entry_id": id, "credited_paise": amount, "reference": grant.reference});
        let target = format!("tenant:{}", tenant.0);
        audit::record(&txn, actor, action, &target, details, now).await?;
    }
    let created = written.is_some();
    let entry = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TenantId.eq(tenant.0))
        .filter(ledger_entry::Column::EntryKey.eq(key))
        .one(&txn)
        .await?
        .ok_or(CoreError::NotFound("ledger entry"))?;
    txn.commit().await?;
    let same = entry.kind == kind && entry.amount_paise == -amount && entry.reason == reason;
    if !created && !same {
        return Err(Rejection::AccountConflict(format!(
            "The reference '{}' was already used for a {} of {} paise; use a new reference.",
            grant.reference,
            entry.kind.as_str(),
            -entry.amount_paise
        ))
        .into());
    }
    Ok(Recorded { entry, created })
}
