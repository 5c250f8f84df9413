//! Caly's core, grouped by domain: `platform` (settings, database, queue, storage, mail, secrets,
//! outbound fetch policy), `pipeline` (stage registry, stage runs, runner, dispatch, intake),
//! `calls` (with conversations' turns and staff tasks), `billing`, `tenancy`, `integrations`
//! (Exotel, Shopify and a local Shopify-compatible store, OpenAI-compatible models) and `agent`
//! (what callers say, who may hear what, the offline and LLM brains) and `voice` (the live
//! Exotel Voicebot call).
//!
//! Used by `caly-api`, `caly-workers`, `caly-scheduler` and the `caly` binary; depends only on
//! `caly-jobs`, `caly-entities` and `caly-migrations` among Caly's crates.

pub mod agent;
pub mod analytics;
pub mod app;
pub mod billing;
pub mod calls;
mod error;
pub mod integrations;
pub mod pipeline;
pub mod platform;
pub mod tenancy;
pub mod voice;

pub use app::App;
pub use caly_entities::status::{BillingStatus, CallState, RunStatus};
pub use caly_jobs::{CallId, StageName, StageRunId, TenantId};
pub use error::{CoreError, Rejection};
