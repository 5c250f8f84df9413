//! `agent_reply`: answers one turn of a conversation and hands the answer back to whoever waits
//! for it: the text-turn request, or for a voice turn the call's socket node, after arming
//! `speak`. Live lane, one run per turn, keyed `turn:{id}`.

use crate::App;
use crate::agent::respond::answer_turn;
use crate::calls::turns::{self, Arm, PENDING, Recorded};
use crate::calls::voice;
use crate::pipeline::runs::NewRun;
use crate::pipeline::stage::{Lane, Stage, StageError, StageOutcome, StageSpec, TurnSubject};
use crate::pipeline::stages::speak;
use crate::voice::farewell::is_farewell;
use crate::voice::phrases;
use async_trait::async_trait;
use caly_entities::stage_run;
use caly_jobs::{CallId, StageName};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("agent_reply");

/// Its spec: a caller is waiting, so few attempts.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[speak::NAME],
    timeout: Duration::from_secs(30),
    max_attempts: Some(2),
    lane: Lane::Live,
    call_key: None,
};

/// The stage.
pub struct AgentReply;

#[async_trait]
impl Stage for AgentReply {
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
        let call_id = Some(CallId(call.id));
        if turn.status != PENDING {
            return Ok(StageOutcome::note(
                call_id,
                format!("turn already {}", turn.status),
            ));
        }
        let ahead = match &subject.answer_ahead {
            Some(ahead) => ahead.take_for(turn).await,
            None => None,
        };
        let (mut answer, memory) = match ahead {
            Some(answered) => answered?,
            None => answer_turn(app, call, turn, None, now).await?,
        };
        // A caller's goodbye on the phone ends the call: the socket node says the cached
        // goodbye, and the turn keeps the words the caller heard, not the agent's "anything
        // else?".
        let voice = turn.source != "text";
        let goodbye = voice && is_farewell(&turn.input) && !answer.handoff;
        if goodbye {
            answer.reply = phrases::GOODBYE.to_string();
        }
        let note = format!("answered by {}", answer.agent);
        // A spoken reply needs `speak`, armed with the answer (already dispatched: the runner
        // pushes it at once); a goodbye is the socket's own cached phrase.
        let speak = (voice && !goodbye).then(|| Arm {
            run: NewRun::for_turn(&speak::NAME, call, turn.id),
            claimed_until: app.hand_on_lease(&speak::NAME),
        });
        let recorded = turns::record_answer(
            &app.db,
            turn,
            &memory,
            answer,
            call.from_number.clone(),
            speak,
            now,
        )
        .await?;
        // Whoever waits hears now, except a voice socket whose reply this armed `speak` for:
        // it hears from `speak`, once there is audio to play.
        if !voice {
            app.handback.notify(&turns::handback_key(turn.id)).await;
        } else if !matches!(recorded, Recorded::Stored(Some(_))) {
            app.handback.notify(&voice::handback_key(call.id)).await;
        }
        let Recorded::Stored(next) = recorded else {
            return Ok(StageOutcome::note(call_id, "the caller stopped waiting"));
        };
        let subject = TurnSubject {
            answer_ahead: None,
            ..subject
        };
        Ok(StageOutcome::note(call_id, note).then_turn(speak::NAME, next, subject))
    }
}
