//! `reconcile`: for a call whose StatusCallback never came (or came without a duration), asks
//! Exotel's Call Details API, polling with backoff for a bounded window. When Exotel has the
//! final status and duration, they enter the pipeline as a `call_details` event through the same
//! intake as webhooks; if the window (counted from the call's latest event) passes first, the
//! run fails visibly. Every new event of a call that is not final re-arms it.

use super::ingest;
use crate::App;
use crate::integrations::exotel::details::{self, CallDetails};
use crate::integrations::exotel::{ExotelError, HookKind};
use crate::pipeline::intake::{NewEvent, store_event};
use crate::pipeline::stage::{
    Failure, Lane, Stage, StageError, StageOutcome, StageSpec, tenant_of,
};
use crate::tenancy::exotel_credentials;
use async_trait::async_trait;
use caly_entities::{call, stage_run};
use caly_jobs::{CallId, StageName, TenantId};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("reconcile");

/// Its spec. Attempts are bounded by the reconcile window, not the attempt limit.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[ingest::NAME],
    timeout: Duration::from_secs(300),
    max_attempts: None,
    lane: Lane::Batch,
    call_key: Some(|call| format!("{call}:call_details")),
};

/// The stage.
pub struct Reconcile;

#[async_trait]
impl Stage for Reconcile {
    type Subject = call::Model;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        run: &stage_run::Model,
        call: call::Model,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let call_id = CallId(call.id);
        if call.state.is_final() && call.duration_secs.is_some() {
            return Ok(StageOutcome::note(Some(call_id), "nothing to reconcile"));
        }
        let tenant = tenant_of(app, run).await?;
        let creds = exotel_credentials(&app.key, &tenant)?;
        let api = details::ExotelApi {
            http: &app.http,
            egress: &app.settings.egress,
            hosts: &app.settings.exotel_api_hosts,
        };
        let fetched = details::fetch(
            api,
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
                        tenant_id: TenantId(tenant.id),
                        kind: HookKind::CallDetails,
                        encoding: "GET application/json".into(),
                        raw,
                        fields,
                    },
                    now,
                )
                .await?;
                return Ok(StageOutcome::note(
                    Some(call_id),
                    format!(
                        "reconciled from call details (event {})",
                        stored.raw_event_id
                    ),
                ));
            }
            Err(refused @ ExotelError::Refused { .. }) => {
                return Err(StageError::Permanent(Failure::Exotel(refused)));
            }
            Ok(CallDetails::NotYet(reason)) | Err(reason) => Failure::Exotel(reason),
        };
        let settings = app.settings.reconcile;
        let wait = settings.interval(run.polls + 1);
        // The window counts from the call's latest event: every event re-arms this run.
        let window_end =
            call.last_event_at + chrono::Duration::from_std(settings.window).unwrap_or_default();
        if now + chrono::Duration::from_std(wait).unwrap_or_default() > window_end {
            return Err(StageError::Permanent(Failure::GaveUp {
                after: settings.window,
                last: Box::new(reason),
            }));
        }
        Err(StageError::RetryAfter(wait, reason))
    }
}
