//! `agent_reply`: answers one turn of a conversation and hands the answer back to whoever waits
//! for it: the text-turn request, or for a voice turn the call's socket node, after arming
//! `speak`. Live lane, one run per turn, keyed `turn:{id}`.

use crate::App;
use crate::agent::respond::{Answered, answer_turn};
use crate::calls::turns::{self, Arm, Heard, PENDING, Recorded, Reply};
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
        if turn.status != PENDING {
            return Ok(StageOutcome::note(
                Some(CallId(call.id)),
                format!("turn already {}", turn.status),
            ));
        }
        let ahead = match &subject.answer_ahead {
            Some(ahead) => ahead.take_for(turn).await,
            None => None,
        };
        let answered = match ahead {
            Some(answered) => answered?,
            None => answer_turn(app, call, turn, subject.inputs_ahead.clone(), now).await?,
        };
        store_reply(app, subject, answered, None, now).await
    }
}

/// Stores `answered`, the answer to the turn of `subject`, arms `speak` for a spoken reply,
/// and tells whoever waits. With `heard` (the words and speech-to-text's time in ms), the
/// turn's words are stored with the answer and this stage's run recorded done, in the same
/// write: `turn_transcribe` worked the answer out as soon as it heard them (`subject`'s turn
/// then carries those words).
pub(crate) async fn store_reply(
    app: &App,
    subject: TurnSubject,
    (mut answer, memory): Answered,
    heard: Option<(String, u64)>,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    let TurnSubject { call, turn, .. } = &subject;
    let call_id = Some(CallId(call.id));
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
    let reply = Reply {
        memory: &memory,
        answer,
        caller: call.from_number.clone(),
    };
    let recorded = match heard {
        Some((text, took_ms)) => {
            let heard = Heard {
                text,
                took_ms,
                replied: NewRun::for_turn(&NAME, call, turn.id),
                replied_note: note.clone(),
            };
            turns::record_heard_answer(&app.db, turn, heard, reply, speak, now).await?
        }
        None => turns::record_answer(&app.db, turn, reply, speak, now).await?,
    };
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
        inputs_ahead: None,
        ..subject
    };
    Ok(StageOutcome::note(call_id, note).then_turn(speak::NAME, next, subject))
}
