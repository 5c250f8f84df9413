//! Typed, versioned job payloads for Caly's pipeline, stage names and the row ids they carry.
//!
//! A leaf crate: no I/O, no dependencies on other Caly crates. Producers (api, scheduler) and
//! consumers (workers) share these types. Jobs carry ids, never rows: the database row of the
//! stage run is the truth about attempts, backoff and errors.

mod ids;
mod stage;

pub use ids::{CallId, StageRunId, TenantId};
pub use stage::{StageName, UnknownStage};

use serde::{Deserialize, Serialize};

/// The payload pushed to a stage's queue: "run stage-run row N".
///
/// Tagged and versioned so that a payload shape can change without orphaning queued jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum StageJob {
    /// Version 1: the stage run to execute.
    #[serde(rename = "1")]
    V1 {
        /// Primary key of the `stage_runs` row.
        stage_run_id: StageRunId,
        /// Which stage this is (also implied by the queue; kept for logs).
        stage: StageName,
        /// Where the bytes the stage reads first wait in scratch (a voice turn's utterance),
        /// when the producer knows: the worker fetches them alongside the claim instead of
        /// after it. A key, not the bytes; absent on jobs pushed again by the dispatcher.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<String>,
    },
}

impl StageJob {
    /// Builds the current-version job for a stage run.
    pub fn new(stage_run_id: StageRunId, stage: StageName) -> Self {
        StageJob::V1 {
            stage_run_id,
            stage,
            input: None,
        }
    }

    /// This job, saying its stage's input waits in scratch under `key`.
    pub fn with_input(self, key: String) -> Self {
        match self {
            StageJob::V1 {
                stage_run_id,
                stage,
                ..
            } => StageJob::V1 {
                stage_run_id,
                stage,
                input: Some(key),
            },
        }
    }

    /// The scratch key of the stage's input, when the job names one.
    pub fn input(&self) -> Option<&str> {
        match self {
            StageJob::V1 { input, .. } => input.as_deref(),
        }
    }

    /// The stage-run row this job asks a worker to execute.
    pub fn stage_run_id(&self) -> StageRunId {
        match self {
            StageJob::V1 { stage_run_id, .. } => *stage_run_id,
        }
    }

    /// The stage this job belongs to.
    pub fn stage(&self) -> &StageName {
        match self {
            StageJob::V1 { stage, .. } => stage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_round_trips_with_version_tag() {
        let job = StageJob::new(StageRunId(42), StageName::new("charge"));
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(text, r#"{"v":"1","stage_run_id":42,"stage":"charge"}"#);
        assert_eq!(serde_json::from_str::<StageJob>(&text).unwrap(), job);
        let with_input = job.with_input("call-audio:7:2:caller".into());
        let text = serde_json::to_string(&with_input).unwrap();
        assert_eq!(
            text,
            r#"{"v":"1","stage_run_id":42,"stage":"charge","input":"call-audio:7:2:caller"}"#
        );
        let back = serde_json::from_str::<StageJob>(&text).unwrap();
        assert_eq!(back.input(), Some("call-audio:7:2:caller"));
    }
}
