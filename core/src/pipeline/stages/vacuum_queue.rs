//! `vacuum_queue`: removes finished jobs from every stage queue. A platform run per cron tick
//! (`vacuum_queue:{tick}`); only the latest missed tick is caught up.

use crate::App;
use crate::pipeline::stage::{Lane, PlatformSubject, Stage, StageError, StageOutcome, StageSpec};
use async_trait::async_trait;
use caly_entities::stage_run;
use caly_jobs::StageName;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("vacuum_queue");

/// Its spec.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[],
    timeout: Duration::from_secs(120),
    max_attempts: Some(3),
    lane: Lane::Batch,
    call_key: None,
};

/// Finished jobs older than this are removed.
const KEEP_FINISHED: Duration = Duration::from_secs(600);

/// The stage.
pub struct VacuumQueue;

#[async_trait]
impl Stage for VacuumQueue {
    type Subject = PlatformSubject;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        _run: &stage_run::Model,
        _subject: PlatformSubject,
        _now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let removed = app
            .queue
            .vacuum(&app.stages.names(), KEEP_FINISHED)
            .await
            .map_err(crate::CoreError::from)?;
        Ok(StageOutcome::note(
            None,
            format!("removed {removed} finished job(s)"),
        ))
    }
}
