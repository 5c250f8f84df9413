//! Caly's core: settings, database, queue, object store, secrets, Exotel payloads and the
//! domain rules (call states, billing, stage runs). Used by `caly-api`, `caly-workers`,
//! `caly-scheduler` and the `caly` binary; depends only on `caly-jobs`, `caly-entities` and
//! `caly-migrations` among Caly's crates.

pub mod app;
pub mod billing;
pub mod call_state;
pub mod calls;
pub mod crypto;
pub mod db;
pub mod dispatch;
mod error;
pub mod exotel;
pub mod gauge;
pub mod ist;
pub mod locks;
pub mod mailer;
pub mod phone;
pub mod queue;
pub mod runs;
pub mod settings;
pub mod storage;
pub mod telemetry;
pub mod tenants;
pub mod webhooks;

pub use app::App;
pub use error::CoreError;
