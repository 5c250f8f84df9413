//! How a live call ends: the outcome recorded before the socket closes (the sync Passthru that
//! follows reads it), a callback task when no one is in to take a handoff, the session closed,
//! the agent's spoken replies redacted, and Caly's own two-channel recording stored beside
//! Exotel's, its transcript armed.

use super::outcome::{Outcome, Reason};
use super::recorder::Recorder;
use crate::App;
use crate::CoreError;
use crate::calls::recordings::{self, RecordingSource, StoredRecording};
use crate::calls::voice;
use crate::pipeline::dispatch;
use crate::pipeline::stages::transcribe;
use caly_entities::{call, task};
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

/// A handoff when people are in; otherwise a callback request for staff.
pub async fn handoff_or_callback(
    app: &App,
    call: &call::Model,
    turn: Option<i64>,
    reason: Reason,
    open_now: bool,
    now: DateTime<Utc>,
) -> Result<Outcome, CoreError> {
    if open_now {
        return Ok(Outcome::HandedOff);
    }
    if let Some(turn) = turn {
        task::Entity::insert(task::ActiveModel {
            tenant_id: Set(call.tenant_id),
            call_id: Set(call.id),
            turn_id: Set(turn),
            kind: Set("callback".into()),
            status: Set("open".into()),
            order_name: Set(None),
            caller: Set(call.from_number.clone()),
            details: Set(format!(
                "call back: {} outside support hours",
                reason.as_str()
            )),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([task::Column::TurnId, task::Column::Kind])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&app.db)
        .await?;
    }
    Ok(Outcome::Callback)
}

/// True when the agent recorded a callback request in this turn.
pub async fn took_callback(app: &App, turn: i64) -> Result<bool, CoreError> {
    Ok(task::Entity::find()
        .filter(task::Column::TurnId.eq(turn))
        .filter(task::Column::Kind.eq("callback"))
        .one(&app.db)
        .await?
        .is_some())
}

/// Records the outcome and closes the session; then stores Caly's recording of the bot leg.
pub async fn finish(
    app: &App,
    call: &call::Model,
    decided: (Outcome, Reason),
    stop_reason: &str,
    recorder: &Recorder,
) -> Result<(), CoreError> {
    let (tenant, id) = (TenantId(call.tenant_id), CallId(call.id));
    voice::record_outcome(&app.db, tenant, id, decided.0, decided.1).await?;
    voice::end_session(&app.db, id, stop_reason, Utc::now()).await?;
    // The words were redacted as each turn was answered; the agent's spoken replies (kept whole
    // until they were synthesised) are redacted now that the call is over.
    if crate::tenancy::profile::redacts_transcripts(&app.db, tenant).await? {
        crate::calls::transcript::redact_turns(&app.db, tenant, id).await?;
    }
    if recorder.is_empty() {
        return Ok(());
    }
    let content_type = "audio/wav";
    let key = recordings::object_key(tenant, id, RecordingSource::Caly, content_type);
    let size = app
        .store
        .put_bytes(&key, &recorder.to_wav(), content_type)
        .await?;
    recordings::record(
        &app.db,
        StoredRecording {
            tenant,
            call: id,
            source: RecordingSource::Caly,
            object_key: key,
            content_type: content_type.into(),
            size_bytes: size,
        },
        Utc::now(),
    )
    .await?;
    // Its transcript, on the batch lane: the call is over.
    let now = Utc::now();
    if let Some(run) = transcribe::arm(&app.db, call, RecordingSource::Caly, now).await? {
        dispatch::push_committed(app, &transcribe::NAME, &[run], now).await;
    }
    Ok(())
}
