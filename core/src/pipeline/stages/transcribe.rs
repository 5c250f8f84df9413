//! `transcribe`: the post-call transcript of one stored recording (`{call}:caly` for Caly's
//! own two-channel recording of the bot leg, `{call}:exotel` for Exotel's), cut into pieces of
//! speech per channel, transcribed piece by piece within a timeout, tagged by speaker, redacted
//! unless the store keeps the text, and stored once per (call, source). Then the call's turn
//! text is redacted at rest and its per-turn audio forgotten. Batch lane: a live turn never
//! waits behind an hour of recording.

use crate::App;
use crate::CoreError;
use crate::calls::recordings::{self, RecordingSource};
use crate::calls::transcript::chunks::speech_chunks;
use crate::calls::transcript::redact::redact;
use crate::calls::transcript::{self, NewTranscript, Segment, Speaker, decode::decode};
use crate::calls::{turn_audio, voice};
use crate::integrations::speech::{Audio, SpeechError, SpeechToText};
use crate::pipeline::runs::{self, NewRun, Rearm};
use crate::pipeline::stage::{Failure, Lane, Stage, StageError, StageOutcome, StageSpec};
use crate::tenancy::profile;
use async_trait::async_trait;
use caly_entities::{call, stage_run};
use caly_jobs::{CallId, StageName, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("transcribe");

/// Its spec. `CALY_TRANSCRIBE_TIMEOUT_SECS` bounds the transcript itself; this bounds the
/// whole attempt.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[],
    timeout: Duration::from_secs(2 * 3600),
    max_attempts: None,
    lane: Lane::Batch,
    call_key: None,
};

/// The run's natural key: one transcript per (call, source).
pub fn key(call: CallId, source: RecordingSource) -> String {
    format!("{call}:{}", source.as_str())
}

/// Arms the transcript of the call's recording from `source` (once).
pub async fn arm(
    db: &impl ConnectionTrait,
    call: &call::Model,
    source: RecordingSource,
    now: DateTime<Utc>,
) -> Result<Option<StageRunId>, CoreError> {
    let new = NewRun::for_call_keyed(&NAME, call, key(CallId(call.id), source));
    runs::ensure(db, new, Rearm::Never, "recording stored", now).await
}

fn source_of(run: &stage_run::Model) -> Result<RecordingSource, StageError> {
    match run.dedupe_key.rsplit_once(':').map(|(_, s)| s) {
        Some("caly") => Ok(RecordingSource::Caly),
        Some("exotel") => Ok(RecordingSource::Exotel),
        _ => Err(StageError::Permanent(Failure::NoSubject("recording"))),
    }
}

/// The stage.
pub struct Transcribe;

#[async_trait]
impl Stage for Transcribe {
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
        let (tenant, call_id) = (TenantId(call.tenant_id), CallId(call.id));
        let source = source_of(run)?;
        let redacting = profile::redacts_transcripts(&app.db, tenant).await?;
        let note = match recordings::find(&app.db, call_id, source).await? {
            None => format!("no {} recording", source.as_str()),
            Some(recording) => match app.speech.stt.clone() {
                None => "no speech-to-text engine: transcript skipped".to_string(),
                Some(stt) => {
                    let bytes = app
                        .store
                        .read_all(&recording.object_key)
                        .await
                        .map_err(CoreError::from)?;
                    let content_type = recording.content_type.clone();
                    let made = transcribe_recording(app, stt, source, bytes, content_type);
                    let limit = app.settings.speech.transcript_timeout;
                    let (engine, duration_ms, segments) =
                        tokio::time::timeout(limit, made).await.map_err(|_| {
                            StageError::Transient(Failure::Speech(SpeechError::Provider(format!(
                                "the transcript took longer than {}s",
                                limit.as_secs()
                            ))))
                        })??;
                    let count = segments.len();
                    let segments = segments
                        .into_iter()
                        .map(|s| Segment {
                            text: if redacting { redact(&s.text) } else { s.text },
                            ..s
                        })
                        .collect();
                    let new = NewTranscript {
                        tenant,
                        call: call_id,
                        source,
                        engine,
                        redacted: redacting,
                        duration_ms,
                        segments,
                    };
                    transcript::store(&app.db, new, now).await?;
                    format!("{count} segments from the {} recording", source.as_str())
                }
            },
        };
        let cleaned = after_the_call(app, tenant, call_id, redacting).await?;
        Ok(StageOutcome::note(
            Some(call_id),
            format!("{note}{cleaned}"),
        ))
    }
}

/// Once the live call is over: its turn text redacted at rest, its per-turn audio forgotten.
async fn after_the_call(
    app: &App,
    tenant: TenantId,
    call: CallId,
    redacting: bool,
) -> Result<String, StageError> {
    let live = voice::session_of(&app.db, call)
        .await?
        .is_some_and(|s| s.ended_at.is_none());
    if live {
        return Ok(String::new());
    }
    let redacted = if redacting {
        transcript::redact_turns(&app.db, tenant, call).await?
    } else {
        0
    };
    let forgotten = turn_audio::forget_turn_audio(&app.db, &app.scratch, tenant, call).await?;
    Ok(format!(
        "; {redacted} turns redacted, {forgotten} turn audio pieces forgotten"
    ))
}

/// A piece of speech to transcribe, on the recording's timeline.
struct Piece {
    start_ms: u64,
    end_ms: u64,
    speaker: Speaker,
    audio: Audio,
}

/// Decodes the recording, cuts each channel into speech and transcribes it in time order.
async fn transcribe_recording(
    app: &App,
    stt: Arc<dyn SpeechToText>,
    source: RecordingSource,
    bytes: Vec<u8>,
    content_type: String,
) -> Result<(String, u64, Vec<Segment>), StageError> {
    let vad = app.settings.voice.vad;
    let (duration_ms, pieces) = tokio::task::spawn_blocking(move || {
        let wav = decode(&bytes, &content_type)?;
        let channels = if wav.channels.len() == 2 {
            (0..2).filter_map(|i| wav.channel(i)).collect()
        } else {
            vec![wav.mono()]
        };
        let speakers = transcript::speakers(source, channels.len());
        let duration_ms = channels.iter().map(Audio::duration_ms).max().unwrap_or(0);
        let mut pieces: Vec<Piece> = channels
            .iter()
            .zip(speakers)
            .flat_map(|(audio, speaker)| {
                speech_chunks(audio, vad).into_iter().map(move |c| Piece {
                    start_ms: c.start_ms,
                    end_ms: c.end_ms,
                    speaker,
                    audio: c.audio,
                })
            })
            .collect();
        pieces.sort_by_key(|p| (p.start_ms, p.end_ms));
        Ok::<_, SpeechError>((duration_ms, pieces))
    })
    .await
    .map_err(|e| StageError::Transient(Failure::Speech(SpeechError::Provider(e.to_string()))))?
    .map_err(|e| StageError::Permanent(Failure::Speech(e)))?;
    let limit = app.settings.speech.chunk_timeout;
    let mut segments = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let text = tokio::time::timeout(limit, stt.transcribe(&piece.audio))
            .await
            .map_err(|_| SpeechError::Provider("a piece of the recording took too long".into()))
            .and_then(|r| r)
            .map_err(|e| StageError::Transient(Failure::Speech(e)))?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        segments.push(Segment {
            start_ms: piece.start_ms,
            end_ms: piece.end_ms,
            speaker: piece.speaker,
            text: text.to_string(),
        });
    }
    Ok((stt.name(), duration_ms, segments))
}
