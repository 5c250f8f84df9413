//! `turn_transcribe`: turns one voice turn's utterance into text with the deployment's
//! speech-to-text, then arms `agent_reply`. Live lane, one run per turn (`turn:{id}`). When
//! speech fails the turn gets the fallback line and a handoff at once, rather than a retry the
//! caller would wait for.

use super::agent_reply;
use crate::App;
use crate::agent::respond::{AnswerAhead, InputsAhead};
use crate::calls::turns::{self, Arm};
use crate::calls::{turn_audio, voice};
use crate::integrations::speech::{Audio, SpeechError};
use crate::pipeline::runs::NewRun;
use crate::pipeline::stage::{
    Failure, Lane, Stage, StageError, StageOutcome, StageSpec, TurnSubject,
};
use async_trait::async_trait;
use caly_entities::{stage_run, turn};
use caly_jobs::{CallId, StageName, TenantId};
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// The stage's name.
pub const NAME: StageName = StageName::new("turn_transcribe");

/// Its spec: a caller is waiting, so one attempt; the turn's own deadline says the fallback.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[agent_reply::NAME],
    timeout: Duration::from_secs(30),
    max_attempts: Some(1),
    lane: Lane::Live,
    call_key: None,
};

/// The stage.
pub struct TurnTranscribe;

#[async_trait]
impl Stage for TurnTranscribe {
    type Subject = TurnSubject;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        _run: &stage_run::Model,
        subject: TurnSubject,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let TurnSubject { call, turn, .. } = &subject;
        let tenant = TenantId(call.tenant_id);
        if turn.status != turns::PENDING {
            return Ok(StageOutcome::note(
                Some(CallId(call.id)),
                format!("turn already {}", turn.status),
            ));
        }
        // Handed on, `agent_reply` runs next here: what it reads is read while the caller's
        // words are heard, and its answer worked out while they are stored.
        let inputs = app
            .hand_on_lease(&agent_reply::NAME)
            .map(|_| InputsAhead::start(app, call));
        let heard = match transcribe(app, turn, subject.utterance.clone()).await {
            Ok(heard) => heard,
            Err(err) => {
                turns::fail_turn(
                    &app.db,
                    tenant,
                    turn.id,
                    "speech-to-text failed",
                    Utc::now(),
                )
                .await?;
                app.handback.notify(&voice::handback_key(call.id)).await;
                return Err(StageError::Permanent(Failure::Speech(err)));
            }
        };
        let (text, took) = heard;
        if text.trim().is_empty() {
            turns::mark_unheard(&app.db, tenant, turn.id, Utc::now()).await?;
            app.handback.notify(&voice::handback_key(call.id)).await;
            return Ok(StageOutcome::note(Some(CallId(call.id)), "nothing heard"));
        }
        let answer = inputs.map(|inputs| {
            let heard = turn::Model {
                input: text.clone(),
                ..turn.clone()
            };
            AnswerAhead::start(app, call, heard, inputs, now)
        });
        // Armed with the transcript, already dispatched (the runner pushes it at once) or
        // claimed (this worker runs it at once).
        let new = Arm {
            run: NewRun::for_turn(&agent_reply::NAME, call, turn.id),
            claimed_until: app.hand_on_lease(&agent_reply::NAME),
        };
        let next = turns::set_transcript(&app.db, turn, &text, took, new, now).await?;
        let heard = format!("heard {} characters", text.chars().count());
        let outcome = StageOutcome::note(Some(CallId(call.id)), heard);
        let subject = TurnSubject {
            answer_ahead: answer,
            ..subject
        };
        Ok(outcome.then_turn(agent_reply::NAME, next, subject))
    }
}

/// Hears `turn`: its utterance as read alongside the claim, else from scratch.
async fn transcribe(
    app: &App,
    turn: &caly_entities::turn::Model,
    read_ahead: Option<Audio>,
) -> Result<(String, u64), SpeechError> {
    let stt = app
        .speech
        .stt
        .clone()
        .ok_or_else(|| SpeechError::Unavailable("no speech-to-text engine".into()))?;
    let audio = match read_ahead {
        Some(audio) => audio,
        None => turn_audio::caller_audio(&app.scratch, turn)
            .await
            .map_err(|e| SpeechError::Unreadable(e.to_string()))?,
    };
    let started = Instant::now();
    let text = tokio::time::timeout(app.settings.agent_timeout, stt.transcribe(&audio))
        .await
        .map_err(|_| SpeechError::Provider("speech-to-text took too long".into()))??;
    Ok((text, started.elapsed().as_millis() as u64))
}
