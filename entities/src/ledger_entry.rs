//! One money movement in a tenant's ledger. Entries are only ever added, never edited; the
//! tenant's balance is their sum.

use crate::status::LedgerKind;
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A ledger entry, in integer paise.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// Charge, adjustment, credit or payment.
    pub kind: LedgerKind,
    /// Natural key, unique per tenant: `charge:{call}`, `adjustment:{call}:{source}`, ...
    pub entry_key: String,
    /// The call, for charges and adjustments.
    pub call_id: Option<i64>,
    /// What the entry does to the balance (what the tenant owes): positive adds, negative
    /// subtracts.
    pub amount_paise: i64,
    /// Seconds billed (charges and adjustments: the duration the call is now billed on).
    pub billable_seconds: Option<i64>,
    /// Started minutes billed.
    pub minutes: Option<i64>,
    /// Rate applied, paise per minute.
    pub rate_paise_per_min: Option<i64>,
    /// Which duration field the bill is based on.
    pub duration_source: Option<String>,
    /// Why the money moved, in a sentence.
    pub reason: String,
    /// When it was written.
    pub created_at: DateTimeUtc,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
