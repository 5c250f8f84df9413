//! `reconcile`: for a call whose StatusCallback never came (or came without a duration), asks
//! Exotel's Call Details API, polling with backoff for a bounded window. When Exotel has the
//! final status and duration, they enter the pipeline as a `call_details` event through the same
//! ingest path as webhooks; if the window passes first, the run fails visibly.

use super::{StageError, StageOutcome};
use caly_core::App;
use caly_core::call_state::CallState;
use caly_core::exotel::HookKind;
use caly_core::exotel::details::{self, CallDetails};
use caly_core::tenants::exotel_credentials;
use caly_core::webhooks::{NewEvent, store_event};
use caly_entities::stage_run;
use chrono::{DateTime, Utc};

/// Runs the stage.
pub async fn run(
    app: &App,
    run: &stage_run::Model,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    let call = super::load_call(app, run).await?;
    let is_final = CallState::parse(&call.state).is_some_and(CallState::is_final);
    if is_final && call.duration_secs.is_some() {
        return Ok(StageOutcome::note(Some(call.id), "nothing to reconcile"));
    }
    let tenant = super::load_tenant(app, run).await?;
    let creds = exotel_credentials(&app.key, &tenant)?;
    let fetched = details::fetch(
        &app.http,
        &tenant.exotel_subdomain,
        &tenant.exotel_sid,
        &creds,
        &call.call_sid,
    )
    .await;
    let reason = match fetched {
        Ok(CallDetails::Ready { fields, raw }) => {
            let stored = store_event(
                app,
                NewEvent {
                    tenant_id: tenant.id,
                    kind: HookKind::CallDetails,
                    encoding: "GET application/json".into(),
                    raw,
                    fields,
                },
                now,
            )
            .await?;
            return Ok(StageOutcome::note(
                Some(call.id),
                format!(
                    "reconciled from call details (event {})",
                    stored.raw_event_id
                ),
            ));
        }
        Ok(CallDetails::NotYet(reason)) | Err(reason) => reason,
    };
    let settings = app.settings.reconcile;
    let wait = settings.interval(run.attempts);
    let window_end =
        run.created_at + chrono::Duration::from_std(settings.window).unwrap_or_default();
    if now + chrono::Duration::from_std(wait).unwrap_or_default() > window_end {
        return Err(StageError::Permanent(format!(
            "{reason}; gave up after {}s of polling",
            settings.window.as_secs()
        )));
    }
    Err(StageError::RetryAfter(wait, reason))
}
