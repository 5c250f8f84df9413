//! Billing: per-minute rates in integer paise with history, and charging a finished call
//! exactly once. Invoices and the ledger join here.

pub mod charge;
pub mod rates;

pub use charge::{ChargeOutcome, charge_call, list_charges};
pub use rates::{DEFAULT_RATE_PAISE_PER_MIN, RatePoint, billable_minutes, charge_paise, rate_at};
