//! The pipeline: the stage contract and registry, stage runs (the durable truth behind every
//! job), the runner that executes one job, the dispatcher that feeds queues from the database,
//! intake of raw events, replays, and Caly's stages themselves.

pub mod dispatch;
pub mod intake;
pub mod registry;
pub mod replay;
pub mod runner;
pub mod runs;
pub mod stage;
pub mod stages;

pub use registry::StageRegistry;
pub use stage::{Failure, Stage, StageError, StageOutcome, StageSpec, Subject};
