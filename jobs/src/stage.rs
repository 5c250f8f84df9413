//! The pipeline's stages, their queue names and the order they run in.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One stage of a call's pipeline. Each stage has its own queue and worker handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Apply one raw Exotel event to its call (create/update, state machine).
    Ingest,
    /// Copy the call's recording from Exotel into the object store.
    RecordingUpload,
    /// Bill a call that reached a final state.
    Charge,
    /// Fill in what lost callbacks never told us, from Exotel's Call Details API.
    Reconcile,
}

/// Every stage, in pipeline order. Later stages (transcribe, agent_reply, qa_flag, report) join here.
pub const ALL_STAGES: [Stage; 4] = [
    Stage::Ingest,
    Stage::RecordingUpload,
    Stage::Charge,
    Stage::Reconcile,
];

impl Stage {
    /// The stable name used in the database, the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::RecordingUpload => "recording_upload",
            Stage::Charge => "charge",
            Stage::Reconcile => "reconcile",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a stage name is not one of [`ALL_STAGES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStage(pub String);

impl fmt::Display for UnknownStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown stage '{}'", self.0)
    }
}

impl std::error::Error for UnknownStage {}

impl FromStr for Stage {
    type Err = UnknownStage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_STAGES
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| UnknownStage(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for stage in ALL_STAGES {
            assert_eq!(stage.as_str().parse::<Stage>().unwrap(), stage);
        }
        assert!("transcode".parse::<Stage>().is_err());
    }
}
