//! The numbers: rollups of calls, turns and charges per tenant and IST day, kept true by
//! change notes the database writes itself (`settle`), and the dashboard and analytics read
//! from them (`dashboard`, `people`); `export` streams the raw rows; `seed` bulk-loads a large
//! realistic tenant for benchmarks.
//!
//! Every read here first settles the tenant's pending changes, so what a page shows includes
//! every change committed before it was asked for.

pub mod dashboard;
pub mod export;
pub mod people;
pub mod range;
pub mod read;
pub mod rollup;
pub mod seed;
pub mod settle;

pub use range::{DayRange, RangeError};
