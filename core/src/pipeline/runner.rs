//! Executes one job, the same way for every stage: find the stage in the registry, claim the
//! run, load its subject, run the stage with panic capture and its timeout, then record the
//! result (success, retry with backoff, or failed) and push the follow-up runs.

use super::dispatch;
use super::registry::RegisteredStage;
use super::runs::{self, FailureKind, chrono_of};
use super::stage::{Failure, HandOn, Lane, ReadAhead, StageError, StageOutcome};
use crate::platform::db;
use crate::{App, CoreError, RunStatus};
use caly_entities::stage_run;
use caly_jobs::StageJob;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tracing::Instrument;

/// How one job ended, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    /// No such stage here, another worker had it, or it was not due: nothing done.
    Skipped,
    /// The stage succeeded.
    Succeeded,
    /// The attempt failed; the run is pending again or failed for good (the status).
    Failed(RunStatus),
    /// The attempt lost its lease (the run was taken back): nothing was recorded.
    LostLease,
    /// No database connection came free: the attempt was given back, the run is pending.
    GaveBack,
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs a stage's future, turning a panic into a failed (retryable) attempt and cutting it off
/// after `timeout`.
pub async fn guarded<F>(timeout: Duration, handler: F) -> Result<StageOutcome, StageError>
where
    F: Future<Output = Result<StageOutcome, StageError>>,
{
    let caught = AssertUnwindSafe(handler).catch_unwind();
    match tokio::time::timeout(timeout, caught).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(StageError::Transient(Failure::Panicked(panic_message(
            panic.as_ref(),
        )))),
        Err(_) => Err(StageError::Transient(Failure::TimedOut(timeout))),
    }
}

/// Executes a job end to end. Errors are recorded on the run, never returned to the queue,
/// so apalis never retries on its own: retries and backoff are the run row's business.
pub async fn execute(app: &App, job: &StageJob) -> Result<JobResult, CoreError> {
    let Some(stage) = app.stages.get(job.stage().as_str()) else {
        tracing::error!(stage = %job.stage(), stage_run = %job.stage_run_id(), "no such stage in this process's registry");
        return Ok(JobResult::Skipped);
    };
    // A caller waits on a live stage: its writes do not wait for the log flush.
    let live;
    let app = if stage.spec().lane == Lane::Live {
        live = app.on_live_lane();
        &live
    } else {
        app
    };
    let now = Utc::now();
    // A live turn's subject is read alongside the claim (discarded if the claim fails).
    let (claimed, ahead) = tokio::join!(
        runs::claim(&app.db, job.stage_run_id(), app.settings.lease, now),
        stage.handler().read_ahead(app, job),
    );
    let run = match claimed {
        Ok(Some(run)) => run,
        Ok(None) => {
            tracing::debug!(stage_run = %job.stage_run_id(), stage = %job.stage(), "not claimable; skipped");
            return Ok(JobResult::Skipped);
        }
        Err(CoreError::Db(err)) if db::is_pool_timeout(&err) => {
            offer_again(app, job).await;
            return Ok(JobResult::Skipped);
        }
        Err(err) => return Err(err),
    };
    run_claimed(app, stage, run, ahead).await
}

/// How long a job or an attempt that found no database connection free waits before it is
/// offered again: long enough for the pool to drain a little, short beside any stage's work.
const BUSY_WAIT: Duration = Duration::from_secs(1);

/// A job whose claim found no database connection free goes back on its queue (after a short
/// wait, while this worker's slot stays taken, which slows its intake): nothing was claimed,
/// so nothing else changes.
async fn offer_again(app: &App, job: &StageJob) {
    tracing::warn!(
        stage_run = %job.stage_run_id(),
        stage = %job.stage(),
        waited_ms = app.settings.db.acquire_timeout.as_millis() as u64,
        "waited for a database connection to claim the run and none came free; the job goes back on its queue"
    );
    tokio::time::sleep(BUSY_WAIT).await;
    if let Err(error) = app.queue.push(job.clone()).await {
        tracing::warn!(stage_run = %job.stage_run_id(), %error, "could not put the job back; the dispatcher offers it again");
    }
}

/// Runs a write that records an attempt's result, trying again while the database has no
/// connection free, for up to half a lease (the lease, renewed at most a third of a lease ago,
/// still holds the run meanwhile): work done is not left unrecorded for want of a connection.
async fn recording<T, F, Fut>(app: &App, mut write: F) -> Result<T, CoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CoreError>>,
{
    let until = tokio::time::Instant::now() + app.settings.lease / 2;
    loop {
        match write().await {
            Err(CoreError::Db(err))
                if db::is_pool_timeout(&err) && tokio::time::Instant::now() < until =>
            {
                tracing::warn!(
                    waited_ms = app.settings.db.acquire_timeout.as_millis() as u64,
                    "waited for a database connection to record the attempt; trying again"
                );
            }
            other => return other,
        }
    }
}

/// Runs an attempt on a run this worker holds, in the stage's span.
async fn run_claimed(
    app: &App,
    stage: &RegisteredStage,
    run: stage_run::Model,
    ahead: Option<ReadAhead>,
) -> Result<JobResult, CoreError> {
    let span = tracing::info_span!(
        "stage",
        stage = %stage.spec().name,
        stage_run = run.id,
        call_sid = %run.call_sid,
        tenant = run.tenant_id,
        attempt = run.attempts
    );
    attempt(app, stage, run, ahead).instrument(span).await
}

/// Runs a live run this process armed already claimed, on its own task: a follow-up handed on
/// by the attempt before it, or a voice turn's first stage started by the socket that heard
/// it. The run is claimed already and its subject read; `app` is on the live lane. (Should
/// this process not run the stage after all, the claim's lease lapses and the sweeper
/// dispatches the run again.)
pub fn run_handed_on(app: &App, hand_on: HandOn) {
    let app = app.clone();
    tokio::spawn(async move {
        let Some(stage) = app.stages.get(hand_on.stage.as_str()) else {
            tracing::error!(stage = %hand_on.stage, "a handed-on stage is not in this process's registry");
            return;
        };
        let ahead = Box::new(hand_on.subject) as ReadAhead;
        if let Err(error) = run_claimed(&app, stage, hand_on.run, Some(ahead)).await {
            tracing::error!(stage = %hand_on.stage, %error, "handed-on job could not be recorded");
        }
    });
}

/// Keeps a running attempt's lease alive: renews it every third of the lease, never past
/// `ceiling` (the stage's timeout plus one lease after the claim, so the timeout always comes
/// first). Resolves only when the attempt no longer owns the run.
async fn keep_lease(app: &App, run: &stage_run::Model, ceiling: DateTime<Utc>) {
    let lease = app.settings.lease;
    let every = (lease / 3).max(Duration::from_millis(50));
    loop {
        tokio::time::sleep(every).await;
        let until = (Utc::now() + chrono_of(lease)).min(ceiling);
        match runs::heartbeat(&app.db, run, until).await {
            Ok(true) => {}
            Ok(false) => return,
            // The database may be back before the lease lapses: keep trying.
            Err(err) => tracing::warn!(error = %err, "could not renew the lease"),
        }
    }
}

async fn attempt(
    app: &App,
    stage: &RegisteredStage,
    run: stage_run::Model,
    ahead: Option<ReadAhead>,
) -> Result<JobResult, CoreError> {
    let spec = stage.spec();
    let now = Utc::now();
    let ceiling = now + chrono_of(spec.timeout) + chrono_of(app.settings.lease);
    let handler = guarded(
        spec.timeout,
        stage.handler().load_and_run(app, &run, ahead, now),
    );
    let outcome = tokio::select! {
        biased;
        outcome = handler => outcome,
        () = keep_lease(app, &run, ceiling) => {
            tracing::warn!("the attempt lost its lease; stopped without recording anything");
            return Ok(JobResult::LostLease);
        }
    };
    let finished = Utc::now();
    match outcome {
        Ok(outcome) => {
            for next in outcome
                .follow_ups
                .iter()
                .map(|(next, _)| next)
                .chain(outcome.handed_on.as_ref().map(|h| &h.stage))
            {
                debug_assert!(
                    spec.follow_ups.contains(next),
                    "{} armed {next}, which its spec does not declare",
                    spec.name
                );
            }
            // A caller waits on live follow-ups: they are committed (inserted already marked
            // dispatched), so they go before this run's own success is written.
            let (live, later): (Vec<_>, Vec<_>) = outcome
                .follow_ups
                .into_iter()
                .partition(|(next, _)| app.queue.is_live(next));
            if let Some(next) = outcome.handed_on {
                run_handed_on(app, next);
            }
            for (next, id) in live {
                dispatch::push_live(app, &next, id).await;
            }
            let owned = recording(app, || {
                runs::succeed(&app.db, &run, &outcome.note, outcome.call_id, finished)
            })
            .await?;
            if !owned {
                tracing::warn!("the attempt no longer owns the run; its success is not recorded");
                return Ok(JobResult::LostLease);
            }
            tracing::info!(note = %outcome.note, "stage succeeded");
            for (next, id) in later {
                dispatch::push_committed(app, &next, &[id], finished).await;
            }
            Ok(JobResult::Succeeded)
        }
        Err(err) => {
            let kind = match &err {
                StageError::Transient(_) => FailureKind::Transient,
                StageError::Permanent(_) => FailureKind::Permanent,
                StageError::RetryAfter(wait, _) => FailureKind::After(*wait),
                StageError::Busy(_) => FailureKind::GiveBack(BUSY_WAIT),
            };
            let max_attempts = spec.max_attempts.unwrap_or(app.settings.retry.max_attempts);
            let message = err.to_string();
            let status = recording(app, || {
                runs::fail(
                    &app.db,
                    &run,
                    &message,
                    err.failure().code(),
                    kind,
                    &app.settings.retry,
                    max_attempts,
                    finished,
                )
            })
            .await?;
            if let StageError::Busy(_) = err {
                tracing::warn!(
                    waited_ms = app.settings.db.acquire_timeout.as_millis() as u64,
                    "waited for a database connection and none came free; the attempt is given back"
                );
                return Ok(JobResult::GaveBack);
            }
            tracing::warn!(error = %err, %status, "stage attempt failed");
            Ok(JobResult::Failed(status))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_becomes_a_failed_attempt() {
        let result = guarded(Duration::from_secs(5), async {
            if true {
                panic!("bad row {}", 7);
            }
            Ok(StageOutcome::default())
        })
        .await;
        match result {
            Err(StageError::Transient(Failure::Panicked(message))) => {
                assert!(message.contains("bad row 7"))
            }
            other => panic!("expected a transient failure, got {other:?}"),
        }
        let fine = guarded(Duration::from_secs(5), async {
            Ok(StageOutcome::note(None, "ok"))
        })
        .await;
        assert_eq!(fine.unwrap().note, "ok");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_handler_is_cut_off() {
        let result = guarded(Duration::from_secs(1), async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(StageOutcome::default())
        })
        .await;
        assert!(matches!(
            result,
            Err(StageError::Transient(Failure::TimedOut(_)))
        ));
    }
}
