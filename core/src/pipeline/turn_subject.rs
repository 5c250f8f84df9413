//! The subject of a live turn's run (`turn:{id}`): the call, the turn and the rate its socket
//! speaks at. A caller waits on every round trip, so on PostgreSQL all three are read in one
//! statement, keyed by the run's id, alongside the run's claim rather than after it.

use super::runs::TURN_KEY_PREFIX;
use super::stage::{Failure, StageError, StageOutcome, Subject};
use crate::App;
use crate::agent::respond::{AnswerAhead, InputsAhead};
use crate::calls::turn_audio;
use crate::calls::turns::{Armed, ClaimedRun};
use crate::integrations::speech::Audio;
use crate::platform::db::is_postgres;
use crate::platform::pg_statement::{PgStatement, columns_of};
use async_trait::async_trait;
use caly_entities::{call, stage_run, turn};
use caly_jobs::{CallId, StageJob, StageName, StageRunId, TenantId};
use sea_orm::{ConnectionTrait, FromQueryResult};

/// A live turn's call and turn.
#[derive(Debug, Clone)]
pub struct TurnSubject {
    /// The call.
    pub call: call::Model,
    /// The turn.
    pub turn: turn::Model,
    /// The sample rate of the call's Voicebot socket, for a voice call (`speak` synthesises
    /// at it).
    pub sample_rate: Option<u32>,
    /// The turn's answer, worked out ahead by the stage before (only on a subject handed on,
    /// [`HandOn`]).
    pub answer_ahead: Option<AnswerAhead>,
    /// The turn's utterance, read alongside the claim when the job said where it waits, or
    /// handed over by the socket that heard it.
    pub utterance: Option<Audio>,
    /// What answering the turn reads, being read since the turn started (only on a subject
    /// the socket's node runs itself).
    pub inputs_ahead: Option<InputsAhead>,
}

impl TurnSubject {
    /// The subject of a turn of `call`, with nothing read or worked out ahead.
    pub fn new(call: call::Model, turn: turn::Model, sample_rate: Option<u32>) -> Self {
        TurnSubject {
            call,
            turn,
            sample_rate,
            answer_ahead: None,
            utterance: None,
            inputs_ahead: None,
        }
    }
}

/// A live turn's run armed already claimed by this process ([`crate::App::hand_on_lease`]): a
/// follow-up, by the worker that ran the stage before it, or a voice turn's first stage, by the
/// socket that heard it. It runs at once, with its subject as written.
#[derive(Debug, Clone)]
pub struct HandOn {
    /// The follow-up stage.
    pub stage: StageName,
    /// Its run: running, first attempt, leased to this worker.
    pub run: stage_run::Model,
    /// The call, the turn as the arming write left it, the socket's rate.
    pub subject: TurnSubject,
}

impl StageOutcome {
    /// Adds a live turn's follow-up `stage`, armed as `armed`: pushed when dispatched, handed
    /// on when claimed. `subject` is the turn's subject before the arming write.
    pub(crate) fn then_turn(
        mut self,
        stage: StageName,
        armed: Option<Armed>,
        subject: TurnSubject,
    ) -> Self {
        match armed {
            Some(Armed::Dispatched(id)) => self.follow_ups.push((stage, id)),
            Some(Armed::Claimed(claimed)) => {
                let ClaimedRun { run, turn } = *claimed;
                self.handed_on = Some(HandOn {
                    stage,
                    run,
                    subject: TurnSubject { turn, ..subject },
                });
            }
            None => {}
        }
        self
    }
}

/// The turn a live-turn run is about (`turn:{id}`).
fn turn_of_run(run: &stage_run::Model) -> Result<i64, StageError> {
    run.dedupe_key
        .strip_prefix(TURN_KEY_PREFIX)
        .and_then(|id| id.parse().ok())
        .ok_or(StageError::Permanent(Failure::NoSubject("turn")))
}

#[async_trait]
impl Subject for TurnSubject {
    async fn load(app: &App, run: &stage_run::Model) -> Result<Self, StageError> {
        let turn_id = turn_of_run(run)?;
        let tenant = TenantId(run.tenant_id);
        let (call, turn, session) = tokio::try_join!(
            call::Model::load(app, run),
            async { Ok(crate::calls::turns::find_turn(&app.db, tenant, turn_id).await?) },
            async {
                let call = CallId(run.call_id.unwrap_or_default());
                Ok::<_, StageError>(crate::calls::voice::session_of(&app.db, call).await?)
            },
        )?;
        let rate = session.map(|s| s.sample_rate as u32);
        Ok(TurnSubject::new(call, turn, rate))
    }

    async fn read_ahead(app: &App, job: &StageJob) -> Option<Self> {
        if !is_postgres(&app.db) {
            return None;
        }
        let utterance = async {
            let key = job.input()?;
            match turn_audio::utterance_at(&app.scratch, key).await {
                Ok(audio) => audio.map(|audio| (key, audio)),
                Err(error) => {
                    tracing::debug!(%error, "utterance read-ahead failed; reading it after");
                    None
                }
            }
        };
        let (row, utterance) = tokio::join!(Self::read_row(app, job.stage_run_id()), utterance);
        let mut subject = row?;
        // Only the utterance of this very turn.
        subject.utterance = utterance
            .filter(|(key, _)| *key == turn_audio::utterance_key(subject.call.id, subject.turn.seq))
            .map(|(_, audio)| audio);
        Some(subject)
    }
}

impl TurnSubject {
    /// The call, the turn and the socket's rate of live-turn run `run`, in one statement.
    async fn read_row(app: &App, run: StageRunId) -> Option<Self> {
        let mut statement = PgStatement::new();
        let id = statement.bind(run.0);
        statement.push(&format!(
            "SELECT {}, {}, v.sample_rate AS v_sample_rate FROM stage_runs r \
             JOIN turns t ON t.id = CAST(SUBSTR(r.dedupe_key, {from}) AS BIGINT) \
                AND t.tenant_id = r.tenant_id \
             JOIN calls c ON c.id = t.call_id AND c.tenant_id = r.tenant_id \
             LEFT JOIN voice_sessions v ON v.call_id = c.id \
             WHERE r.id = {id} AND r.dedupe_key LIKE '{TURN_KEY_PREFIX}%'",
            columns_of::<turn::Column>("t", "t_"),
            columns_of::<call::Column>("c", "c_"),
            // SQL counts from 1: the id starts just after the prefix.
            from = TURN_KEY_PREFIX.len() + 1,
        ));
        let row = match app.db.query_one_raw(statement.build()).await {
            Ok(row) => row?,
            Err(error) => {
                tracing::debug!(%error, "turn read-ahead failed; loading after the claim");
                return None;
            }
        };
        Some(TurnSubject::new(
            call::Model::from_query_result(&row, "c_").ok()?,
            turn::Model::from_query_result(&row, "t_").ok()?,
            row.try_get::<Option<i32>>("", "v_sample_rate")
                .ok()?
                .map(|rate| rate as u32),
        ))
    }
}
