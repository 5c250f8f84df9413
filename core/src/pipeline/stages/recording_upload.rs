//! `recording_upload`: copies the call's private Exotel recording into the object store, once
//! per (call, source), under a fixed key.

use super::transcribe;
use crate::App;
use crate::calls::recordings::{self, RecordingSource, StoredRecording};
use crate::integrations::exotel::ExotelError;
use crate::integrations::exotel::recording::{Download, download};
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
pub const NAME: StageName = StageName::new("recording_upload");

/// Its spec. The download has its own timeout (`CALY_FETCH_TIMEOUT_SECS`); this bounds the
/// whole attempt, upload included.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[super::transcribe::NAME],
    timeout: Duration::from_secs(900),
    max_attempts: None,
    lane: Lane::Batch,
    call_key: Some(|call| format!("{call}:exotel")),
};

/// The stage.
pub struct RecordingUpload;

#[async_trait]
impl Stage for RecordingUpload {
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
        let (tenant_id, call_id) = (TenantId(call.tenant_id), CallId(call.id));
        let source = RecordingSource::Exotel;
        if recordings::is_stored(&app.db, call_id, source).await? {
            return with_transcript(app, &call, "recording already stored", now).await;
        }
        let Some(url) = call.recording_url.as_deref() else {
            return Ok(StageOutcome::note(Some(call_id), "call has no recording"));
        };
        let tenant = tenant_of(app, run).await?;
        let creds = exotel_credentials(&app.key, &tenant)?;
        let (egress, hosts) = (&app.settings.egress, &app.settings.recording_hosts);
        let (file, content_type) = match download(&app.http, egress, hosts, url, &creds).await {
            Ok(Download::Saved { file, content_type }) => (file, content_type),
            Ok(Download::NotPublishedYet) => return Err(not_published_yet(app, run, now)),
            Err(err @ (ExotelError::Refused { .. } | ExotelError::NotAudio)) => {
                return Err(StageError::Permanent(err.into()));
            }
            Err(err) => return Err(StageError::Transient(err.into())),
        };
        let key = recordings::object_key(tenant_id, call_id, source, &content_type);
        let size = app
            .store
            .put_file(&key, file.path(), &content_type)
            .await
            .map_err(crate::CoreError::from)?;
        recordings::record(
            &app.db,
            StoredRecording {
                tenant: tenant_id,
                call: call_id,
                source,
                object_key: key,
                content_type,
                size_bytes: size,
            },
            now,
        )
        .await?;
        with_transcript(app, &call, format!("stored {size} bytes"), now).await
    }
}

/// The outcome of a stored recording: its transcript armed (once).
async fn with_transcript(
    app: &App,
    call: &call::Model,
    note: impl Into<String>,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    let mut outcome = StageOutcome::note(Some(CallId(call.id)), note);
    if let Some(id) = transcribe::arm(&app.db, call, RecordingSource::Exotel, now).await? {
        outcome.follow_ups.push((transcribe::NAME, id));
    }
    Ok(outcome)
}

/// Exotel publishes recordings minutes after hang-up (up to 15 at peak): keep asking within
/// the reconcile window, then fail visibly.
fn not_published_yet(app: &App, run: &stage_run::Model, now: DateTime<Utc>) -> StageError {
    let reason = Failure::Exotel(ExotelError::Status {
        what: "recording host",
        status: reqwest::StatusCode::NOT_FOUND,
    });
    let window = app.settings.reconcile.window;
    if now > run.created_at + chrono::Duration::from_std(window).unwrap_or_default() {
        return StageError::Permanent(Failure::GaveUp {
            after: window,
            last: Box::new(reason),
        });
    }
    let wait = app
        .settings
        .retry
        .backoff(run.polls + 1)
        .min(Duration::from_secs(60));
    StageError::RetryAfter(wait, reason)
}
