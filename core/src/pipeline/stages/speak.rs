//! `speak`: synthesises a voice turn's reply sentence by sentence, storing each part as soon as
//! it is ready and telling the call's socket node (the notice carries the part), so speaking
//! starts after the first sentence.
//! Live lane, one run per turn (`turn:{id}`); a redelivered run skips the parts already stored.

use crate::App;
use crate::calls::{turn_audio, turns, voice};
use crate::integrations::speech::{SpeechError, sentences};
use crate::pipeline::stage::{
    Failure, Lane, Stage, StageError, StageOutcome, StageSpec, TurnSubject,
};
use async_trait::async_trait;
use caly_entities::stage_run;
use caly_jobs::{CallId, StageName};
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// The stage's name.
pub const NAME: StageName = StageName::new("speak");

/// Its spec: a caller is waiting, so one attempt.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[],
    timeout: Duration::from_secs(60),
    max_attempts: Some(1),
    lane: Lane::Live,
    call_key: None,
};

/// The stage.
pub struct Speak;

#[async_trait]
impl Stage for Speak {
    type Subject = TurnSubject;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        run: &stage_run::Model,
        TurnSubject {
            call,
            turn,
            sample_rate,
            ..
        }: TurnSubject,
        _now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let call_id = Some(CallId(call.id));
        let Some(reply) = turn.reply.clone() else {
            return Ok(StageOutcome::note(call_id, "no reply to speak"));
        };
        if turn.reply_parts.is_some() {
            return Ok(StageOutcome::note(call_id, "already spoken"));
        }
        let rate = sample_rate.unwrap_or(8000);
        // The parts an earlier attempt stored already (only a run taken back after its lease
        // lapsed has one).
        let stored = if run.attempts > 1 {
            turn_audio::reply_parts(&app.scratch, turn.id, 0)
                .await?
                .len()
        } else {
            0
        };
        let tts = app
            .speech
            .tts
            .clone()
            .ok_or_else(|| SpeechError::Unavailable("no text-to-speech engine".into()))
            .map_err(|e| StageError::Permanent(Failure::Speech(e)))?;
        let started = Instant::now();
        let mut first_ms = None;
        let parts = sentences(&reply);
        for (i, sentence) in parts.iter().enumerate().skip(stored) {
            let synthesis = Instant::now();
            let spoken =
                tokio::time::timeout(app.settings.agent_timeout, tts.synthesize(sentence, rate))
                    .await
                    .map_err(|_| SpeechError::Provider("text-to-speech took too long".into()))
                    .and_then(|r| r)
                    .map_err(|e| StageError::Permanent(Failure::Speech(e)))?;
            // The first sentence's synthesis alone: the provider's share of the wait.
            first_ms.get_or_insert(synthesis.elapsed().as_millis() as u64);
            turn_audio::store_reply_part(app, &turn, i as i32, &spoken.samples, rate).await?;
        }
        let took = started.elapsed().as_millis() as u64;
        turns::finish_speaking(
            &app.db,
            &turn,
            parts.len() as i32,
            first_ms.unwrap_or(0),
            took,
        )
        .await?;
        app.handback.notify(&voice::handback_key(call.id)).await;
        Ok(StageOutcome::note(
            call_id,
            format!("spoke {} sentences in {took} ms", parts.len()),
        ))
    }
}
