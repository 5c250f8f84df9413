//! The stage registry: which stages exist. Everything that lists or parses stages (the
//! dispatcher, the workers, the API, the CLI, replays) asks it, so adding a stage is one module
//! and one line in [`StageRegistry::builtin`].

use super::stage::{ErasedStage, Stage, StageSpec};
use super::stages;
use caly_jobs::{StageName, UnknownStage};
use std::sync::Arc;

/// One registered stage: its spec and its handler.
#[derive(Clone)]
pub struct RegisteredStage {
    spec: StageSpec,
    handler: Arc<dyn ErasedStage>,
}

impl RegisteredStage {
    /// The stage's name, follow-ups, timeout and attempt limit.
    pub fn spec(&self) -> &StageSpec {
        &self.spec
    }

    pub(crate) fn handler(&self) -> &dyn ErasedStage {
        self.handler.as_ref()
    }
}

impl std::fmt::Debug for RegisteredStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RegisteredStage")
            .field(&self.spec.name)
            .finish()
    }
}

/// The stages a deployment runs, in pipeline order. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct StageRegistry {
    stages: Arc<Vec<RegisteredStage>>,
}

impl StageRegistry {
    /// Caly's stages.
    pub fn builtin() -> Self {
        StageRegistry::default()
            .with(stages::ingest::Ingest)
            .with(stages::recording_upload::RecordingUpload)
            .with(stages::charge::Charge)
            .with(stages::reconcile::Reconcile)
            .with(stages::vacuum_queue::VacuumQueue)
            .with(stages::agent_reply::AgentReply)
            .with(stages::prefetch_caller::PrefetchCaller)
            .with(stages::turn_transcribe::TurnTranscribe)
            .with(stages::speak::Speak)
            .with(stages::transcribe::Transcribe)
    }

    /// This registry with one more stage (tests register their own this way).
    ///
    /// # Panics
    /// When a stage of that name is registered already: two stages cannot share a queue.
    pub fn with(self, stage: impl Stage) -> Self {
        let spec = stage.spec();
        assert!(
            self.get(spec.name.as_str()).is_none(),
            "stage '{}' is registered twice",
            spec.name
        );
        let mut stages = self.stages.as_ref().clone();
        stages.push(RegisteredStage {
            spec,
            handler: Arc::new(stage),
        });
        StageRegistry {
            stages: Arc::new(stages),
        }
    }

    /// Every stage, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &RegisteredStage> {
        self.stages.iter()
    }

    /// The stages on the live lane.
    pub fn live_names(&self) -> Vec<StageName> {
        self.iter()
            .filter(|s| s.spec.lane == super::stage::Lane::Live)
            .map(|s| s.spec.name.clone())
            .collect()
    }

    /// The role of a worker process consuming `stages` at `concurrency` jobs per queue, which
    /// sizes its database pools.
    pub fn worker_role(
        &self,
        stages: &[StageName],
        concurrency: usize,
    ) -> crate::platform::pools::ProcessRole {
        let live = self.live_names();
        let live_stages = stages.iter().filter(|s| live.contains(s)).count();
        crate::platform::pools::ProcessRole::Worker {
            batch_stages: stages.len() - live_stages,
            live_stages,
            concurrency,
        }
    }

    /// The role of `caly run`'s one process: the api, a worker consuming every stage at
    /// `concurrency` jobs per queue, and the scheduler.
    pub fn all_in_one_role(
        &self,
        settings: &crate::platform::settings::Settings,
        concurrency: usize,
    ) -> crate::platform::pools::ProcessRole {
        use crate::platform::pools::ProcessRole;
        ProcessRole::Together(vec![
            ProcessRole::api(settings),
            self.worker_role(&self.names(), concurrency),
            ProcessRole::Scheduler,
        ])
    }

    /// Every stage's name, in registration order.
    pub fn names(&self) -> Vec<StageName> {
        self.iter().map(|s| s.spec.name.clone()).collect()
    }

    /// The stage called `name`.
    pub fn get(&self, name: &str) -> Option<&RegisteredStage> {
        self.stages.iter().find(|s| s.spec.name.as_str() == name)
    }

    /// The stage called `name` (trimmed), naming the known stages when there is none.
    pub fn lookup(&self, name: &str) -> Result<&RegisteredStage, UnknownStage> {
        self.get(name.trim()).ok_or_else(|| UnknownStage {
            asked: name.to_string(),
            known: self.names(),
        })
    }

    /// Parses a stage name (trimmed), naming the known stages when it is unknown.
    pub fn parse(&self, name: &str) -> Result<StageName, UnknownStage> {
        self.lookup(name).map(|s| s.spec.name.clone())
    }

    /// Parses a list of names; an empty list means every stage.
    pub fn parse_list(&self, names: &[String]) -> Result<Vec<StageName>, UnknownStage> {
        if names.is_empty() {
            return Ok(self.names());
        }
        names.iter().map(|n| self.parse(n)).collect()
    }

    /// The names joined for help texts and messages: `ingest, recording_upload, ...`.
    pub fn describe(&self) -> String {
        let names: Vec<&str> = self.iter().map(|s| s.spec.name.as_str()).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_stages_are_consistent() {
        let registry = StageRegistry::builtin();
        assert_eq!(
            registry.describe(),
            "ingest, recording_upload, charge, reconcile, vacuum_queue, agent_reply, prefetch_caller, turn_transcribe, speak, transcribe"
        );
        for stage in registry.iter() {
            for next in stage.spec().follow_ups {
                assert!(
                    registry.get(next.as_str()).is_some(),
                    "{} arms unknown stage {next}",
                    stage.spec().name
                );
            }
            assert!(!stage.spec().timeout.is_zero());
        }
        assert_eq!(registry.parse(" charge ").unwrap().as_str(), "charge");
        let err = registry.parse("transcode").unwrap_err();
        assert!(
            err.to_string()
                .contains("ingest, recording_upload, charge, reconcile, vacuum_queue, agent_reply, prefetch_caller, turn_transcribe, speak, transcribe")
        );
        assert_eq!(registry.parse_list(&[]).unwrap().len(), 10);
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_name_cannot_be_registered_twice() {
        let _ = StageRegistry::builtin().with(stages::charge::Charge);
    }
}
