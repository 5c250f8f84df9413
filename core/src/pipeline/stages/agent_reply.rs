//! `agent_reply`: answers one turn of a conversation (text now, voice next) and hands the
//! answer back to whoever waits for it. One run per turn, keyed `turn:{id}`.

use crate::App;
use crate::agent::respond::answer_turn;
use crate::calls::turns::{self, PENDING};
use crate::pipeline::stage::{Failure, Stage, StageError, StageOutcome, StageSpec};
use async_trait::async_trait;
use caly_entities::{call, stage_run};
use caly_jobs::{CallId, StageName, TenantId};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("agent_reply");

/// Its spec: a caller is waiting, so few attempts.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[],
    timeout: Duration::from_secs(30),
    max_attempts: Some(2),
    call_key: None,
};

/// The stage.
pub struct AgentReply;

#[async_trait]
impl Stage for AgentReply {
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
        let call_id = Some(CallId(call.id));
        let turn_id: i64 = run
            .dedupe_key
            .strip_prefix("turn:")
            .and_then(|id| id.parse().ok())
            .ok_or(StageError::Permanent(Failure::NoSubject("turn")))?;
        let turn = turns::find_turn(&app.db, TenantId(call.tenant_id), turn_id).await?;
        if turn.status != PENDING {
            return Ok(StageOutcome::note(
                call_id,
                format!("turn already {}", turn.status),
            ));
        }
        let (answer, memory) = answer_turn(app, &call, &turn, now).await?;
        let note = format!("answered by {}", answer.agent);
        let stored = turns::record_answer(
            &app.db,
            &turn,
            &memory,
            answer,
            call.from_number.clone(),
            now,
        )
        .await?;
        app.handback.notify(&turns::handback_key(turn.id)).await;
        if !stored {
            return Ok(StageOutcome::note(call_id, "the caller stopped waiting"));
        }
        Ok(StageOutcome::note(call_id, note))
    }
}
