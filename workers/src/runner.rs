//! Executes one job: claim the stage run, run its handler with panic capture, then record the
//! result (success, retry with backoff, or failed) and push the follow-up runs.

use crate::stages::{self, StageError, StageOutcome};
use caly_core::runs::{self, FailureKind};
use caly_core::{App, dispatch};
use caly_entities::stage_run;
use caly_jobs::{Stage, StageJob};
use chrono::{DateTime, Utc};
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

/// How one job ended, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    /// Another worker had it, or it was not due: nothing done.
    Skipped,
    /// The stage succeeded.
    Succeeded,
    /// The attempt failed; the run is pending again or failed for good (the status).
    Failed(&'static str),
}

async fn run_stage(
    app: &App,
    stage: Stage,
    run: &stage_run::Model,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    match stage {
        Stage::Ingest => stages::ingest::run(app, run, now).await,
        Stage::RecordingUpload => stages::recording_upload::run(app, run, now).await,
        Stage::Charge => stages::charge::run(app, run, now).await,
        Stage::Reconcile => stages::reconcile::run(app, run, now).await,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs a handler, turning a panic into a failed (retryable) attempt.
pub async fn guarded<F>(handler: F) -> Result<StageOutcome, StageError>
where
    F: Future<Output = Result<StageOutcome, StageError>>,
{
    AssertUnwindSafe(handler)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            Err(StageError::Transient(format!(
                "the handler panicked: {}",
                panic_message(panic.as_ref())
            )))
        })
}

/// Executes a job end to end. Errors are recorded on the run, never returned to the queue,
/// so apalis never retries on its own: retries and backoff are the run row's business.
pub async fn execute(app: &App, job: &StageJob) -> Result<JobResult, caly_core::CoreError> {
    let stage = job.stage();
    let now = Utc::now();
    let Some(run) =
        runs::claim(&app.db, job.stage_run_id(), app.settings.orphan_after, now).await?
    else {
        tracing::debug!(stage_run = job.stage_run_id(), %stage, "not claimable; skipped");
        return Ok(JobResult::Skipped);
    };
    let span = tracing::info_span!(
        "stage",
        %stage,
        stage_run = run.id,
        call_sid = %run.call_sid,
        tenant = run.tenant_id,
        attempt = run.attempts
    );
    async move {
        let outcome = guarded(run_stage(app, stage, &run, now)).await;
        let finished = Utc::now();
        match outcome {
            Ok(outcome) => {
                runs::succeed(&app.db, &run, &outcome.note, outcome.call_id, finished).await?;
                tracing::info!(note = %outcome.note, "stage succeeded");
                for (next, id) in outcome.follow_ups {
                    dispatch::push_committed(app, next, &[id], finished).await;
                }
                Ok(JobResult::Succeeded)
            }
            Err(err) => {
                let kind = match err {
                    StageError::Transient(_) => FailureKind::Transient,
                    StageError::Permanent(_) => FailureKind::Permanent,
                    StageError::RetryAfter(wait, _) => FailureKind::After(wait),
                };
                let status = runs::fail(
                    &app.db,
                    &run,
                    &err.to_string(),
                    kind,
                    &app.settings.retry,
                    finished,
                )
                .await?;
                tracing::warn!(error = %err, status, "stage attempt failed");
                Ok(JobResult::Failed(status))
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_failed_attempt() {
        let result = guarded(async {
            if true {
                panic!("bad row {}", 7);
            }
            Ok(StageOutcome::default())
        })
        .await;
        match result {
            Err(StageError::Transient(message)) => assert!(message.contains("bad row 7")),
            other => panic!("expected a transient failure, got {other:?}"),
        }
        let fine = guarded(async { Ok(StageOutcome::note(Some(1), "ok")) }).await;
        assert_eq!(fine.unwrap().note, "ok");
    }
}
