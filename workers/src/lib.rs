//! Caly's workers: wires the stage registry to apalis, one worker per stage queue. Every job
//! names a stage-run row; `caly_core::pipeline::runner` claims it, runs its stage and records
//! the result. Depends on `caly-core` and `caly-jobs`; nothing depends on it but the binary.

mod monitor;

pub use monitor::{WorkerOptions, run_workers};
