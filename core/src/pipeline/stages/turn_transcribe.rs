//! `turn_transcribe`: turns one voice turn's utterance into text with the deployment's
//! speech-to-text, then arms `agent_reply`; or, when the answer worked out ahead is ready at
//! once, stores it with the words and arms `speak` ([`ANSWER_WITH_WORDS_WITHIN`]). Live lane,
//! one run per turn (`turn:{id}`). When speech fails the turn gets the fallback line and a
//! handoff at once, rather than a retry the caller would wait for.

use super::{agent_reply, speak};
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
    // `speak` when the answer is stored with the words (see [`ANSWER_WITH_WORDS_WITHIN`]).
    follow_ups: &[agent_reply::NAME, speak::NAME],
    timeout: Duration::from_secs(30),
    max_attempts: Some(1),
    lane: Lane::Live,
    call_key: None,
};

/// How long the stage waits, once it has heard the words, for the answer being worked out
/// ahead, to store both in one write. About one write's time: an answer ready by then (the
/// offline agent, a store that answers at once) costs the caller one write instead of two;
/// one that is not (a language model) is stored by `agent_reply` as soon as it is ready, the
/// words long stored by then, so the wait never lengthens a turn by more than it.
pub const ANSWER_WITH_WORDS_WITHIN: Duration = Duration::from_millis(2);

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
        // words are heard (since the turn started, when the socket's node runs it), and its
        // answer worked out while they are stored.
        let inputs = app.hand_on_lease(&agent_reply::NAME).map(|_| {
            subject
                .inputs_ahead
                .clone()
                .unwrap_or_else(|| InputsAhead::start(app, call))
        });
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
        // The turn as it is once its words are stored.
        let heard_turn = turn::Model {
            input: text.clone(),
            ..turn.clone()
        };
        let answer =
            inputs.map(|inputs| AnswerAhead::start(app, call, heard_turn.clone(), inputs, now));
        let heard = format!("heard {} characters", text.chars().count());
        let ready = match &answer {
            Some(ahead) => ahead.ready_within(ANSWER_WITH_WORDS_WITHIN).await,
            None => None,
        };
        if let Some(Err(error)) = &ready {
            // `agent_reply` answers afresh, as a retry of its own would.
            tracing::warn!(%error, "the answer worked out ahead failed");
        }
        if let Some(Ok(answered)) = ready {
            // `agent_reply`'s work is done: stored with the words, its run recorded done.
            let subject = TurnSubject {
                turn: heard_turn,
                answer_ahead: None,
                inputs_ahead: None,
                ..subject
            };
            let words = Some((text, took));
            // Stamped now, as `agent_reply` would stamp it, not when the words were heard.
            let at = Utc::now();
            let mut outcome = agent_reply::store_reply(app, subject, answered, words, at).await?;
            outcome.note = format!("{heard}; {}", outcome.note);
            return Ok(outcome);
        }
        // Armed with the transcript, already dispatched (the runner pushes it at once) or
        // claimed (this worker runs it at once).
        let new = Arm {
            run: NewRun::for_turn(&agent_reply::NAME, call, turn.id),
            claimed_until: app.hand_on_lease(&agent_reply::NAME),
        };
        let next = turns::set_transcript(&app.db, turn, &text, took, new, now).await?;
        let outcome = StageOutcome::note(Some(CallId(call.id)), heard);
        let subject = TurnSubject {
            answer_ahead: answer,
            inputs_ahead: None,
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
