//! Caly's workers: wires the stage registry to apalis, one worker per batch stage queue, and a push-woken consumer per live stage. Every job
//! names a stage-run row; `caly_core::pipeline::runner` claims it, runs its stage and records
//! the result. Depends on `caly-core` and `caly-jobs`; nothing depends on it but the binary.

mod live;
mod monitor;

pub use monitor::{WorkerOptions, run_workers};
