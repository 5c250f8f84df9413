//! The pipeline: the stage contract and registry, stage runs (the durable truth behind every
//! job), the runner that executes one job, the dispatcher that feeds queues from the database,
//! intake of raw events, replays, and Caly's stages themselves.

pub mod dispatch;
pub mod failure_code;
pub mod intake;
pub mod registry;
pub mod replay;
pub mod run_view;
pub mod runner;
pub mod runs;
pub mod stage;
pub mod stages;
mod turn_subject;

pub use failure_code::FailureCode;
pub use registry::StageRegistry;
pub use stage::{
    Failure, Lane, PlatformSubject, Stage, StageError, StageOutcome, StageSpec, Subject,
    TenantSubject,
};
