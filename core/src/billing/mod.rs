//! Billing: per-minute rates in integer paise with history, the per-tenant money ledger, and
//! charging a finished call exactly once (adjusting it when a better duration arrives), and the
//! operator's credits and payments.
//! Invoices join here.

pub mod charge;
pub mod credits;
pub mod ledger;
pub mod money;
pub mod rates;
pub mod summary;

pub use charge::{ChargeOutcome, charge_call};
pub use ledger::{BalanceCheck, balance_check, list_entries};
pub use rates::{DEFAULT_RATE_PAISE_PER_MIN, RatePoint, billable_minutes, charge_paise, rate_at};
