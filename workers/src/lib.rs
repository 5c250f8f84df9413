//! Caly's workers: apalis worker wiring and one handler per pipeline stage.
//!
//! A worker process consumes the queues it is given; every job names a stage-run row, which
//! the runner claims, executes with panic capture, and finishes (success, retry with backoff,
//! or failed). Depends on `caly-core` and `caly-jobs`; nothing depends on it but the binary.

mod monitor;
pub mod runner;
pub mod stages;

pub use monitor::{WorkerOptions, run_workers};
