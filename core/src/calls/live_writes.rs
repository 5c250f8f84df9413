//! A live turn's writes on PostgreSQL, each in one statement: one round trip, atomic on its
//! own, because a caller waits on every one of them. Each does what the portable transaction
//! beside its caller does (in [`super::turns`] and [`super::voice`]): the turn's row, the
//! conversation's memory, the staff tasks and the next stage's run commit together.

use super::turns::{ANSWERED, AnswerRow, Arm, Armed, ClaimedRun, Heard, PENDING, Recorded};
use crate::CoreError;
use crate::pipeline::runs::{RunStart, TURN_KEY_PREFIX, insert_dispatched_from, insert_run_from};
use crate::platform::pg_statement::{PgStatement, columns_of};
use caly_entities::{call, stage_run, turn};
use caly_jobs::StageRunId;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde_json::json;

/// A voice turn as [`insert_voice_turn`] stored it.
pub(super) struct InsertedTurn {
    /// The turn.
    pub(super) turn: turn::Model,
    /// Its first stage run: claimed with the call as it is now, when asked to be.
    pub(super) armed: Option<Armed>,
    /// The call, read in the same statement (only when the run was armed claimed).
    pub(super) call: Option<call::Model>,
}

/// Stores a voice call's next turn (numbered after the call's last) and its first stage run,
/// keyed `turn:{id}`: pending for any worker, or claimed until `claimed_until` by this process,
/// which then runs it at once with the call read in the same statement. Two turns racing for
/// one number fail on the unique `(call_id, seq)`; the caller retries.
pub(super) async fn insert_voice_turn(
    db: &impl ConnectionTrait,
    call: &call::Model,
    source: &str,
    input: &str,
    first: &Arm,
    now: DateTime<Utc>,
) -> Result<InsertedTurn, CoreError> {
    let claimed_until = first.claimed_until;
    let mut statement = PgStatement::new();
    let tenant = statement.bind(call.tenant_id);
    let call_id = statement.bind(call.id);
    let pending = statement.bind(PENDING);
    let input = statement.bind(input);
    let source = statement.bind(source);
    let at = statement.bind(now);
    // The run's key is the new turn's: `'turn:' || t.id` (its `dedupe_key` here is unused).
    let key = format!("'{TURN_KEY_PREFIX}' || t.id");
    let run = insert_dispatched_from(
        &mut statement,
        "t",
        &first.run,
        Some(&key),
        claimed_until,
        now,
    );
    let (call_columns, call_join) = match claimed_until {
        Some(_) => (
            format!(", {}", columns_of::<call::Column>("c", "c_")),
            "JOIN calls c ON c.id = t.call_id",
        ),
        None => (String::new(), ""),
    };
    statement.push(&format!(
        "WITH t AS ( \
           INSERT INTO turns (tenant_id, call_id, seq, status, input, source, tool_calls, \
              latency, verified, handoff, created_at) \
           SELECT {tenant}, {call_id}, COALESCE(MAX(seq), 0) + 1, {pending}, {input}, {source}, \
              '[]', '{{}}', false, false, {at} FROM turns WHERE call_id = {call_id} \
           RETURNING *), \
         r AS ({run}) \
         SELECT {}{call_columns} FROM t LEFT JOIN r ON true {call_join}",
        armed_columns()
    ));
    let row = db
        .query_one_raw(statement.build())
        .await?
        .ok_or(CoreError::NotFound("inserted turn"))?;
    let call = match claimed_until {
        Some(_) => Some(call::Model::from_query_result(&row, "c_")?),
        None => None,
    };
    Ok(InsertedTurn {
        turn: turn::Model::from_query_result(&row, "t_")?,
        armed: armed_from(&row, claimed_until.is_some())?,
        call,
    })
}

/// The run a statement armed (its columns prefixed `r_`, NULL when nothing was armed), with
/// the turn as written (prefixed `t_`) when the run was armed claimed.
fn armed_from(row: &sea_orm::QueryResult, claimed: bool) -> Result<Option<Armed>, CoreError> {
    let Some(id) = row.try_get::<Option<i64>>("", "r_id")? else {
        return Ok(None);
    };
    if !claimed {
        return Ok(Some(Armed::Dispatched(StageRunId(id))));
    }
    Ok(Some(Armed::Claimed(Box::new(ClaimedRun {
        run: stage_run::Model::from_query_result(row, "r_")?,
        turn: turn::Model::from_query_result(row, "t_")?,
    }))))
}

/// `SELECT` list of a statement that armed a run in CTE `r` after writing a turn in CTE `t`.
fn armed_columns() -> String {
    format!(
        "{}, {}",
        columns_of::<stage_run::Column>("r", "r_"),
        columns_of::<turn::Column>("t", "t_")
    )
}

/// Stores what speech-to-text heard (with the turn's latency so far) and arms `next` (claimed
/// until `claimed_until` when given), if the turn is still pending. Returns the new run, or
/// `None` when the turn was not pending or the run existed already.
pub(super) async fn store_transcript(
    db: &impl ConnectionTrait,
    turn: &turn::Model,
    text: &str,
    latency: String,
    next: &Arm,
    now: DateTime<Utc>,
) -> Result<Option<Armed>, CoreError> {
    let claimed_until = next.claimed_until;
    let mut statement = PgStatement::new();
    let text = statement.bind(text);
    let latency = statement.bind(latency);
    let id = statement.bind(turn.id);
    let pending = statement.bind(PENDING);
    let run = insert_dispatched_from(&mut statement, "t", &next.run, None, claimed_until, now);
    statement.push(&format!(
        "WITH t AS ( \
           UPDATE turns SET input = {text}, latency = {latency} \
           WHERE id = {id} AND status = {pending} RETURNING *), \
         r AS ({run}) \
         SELECT {} FROM r CROSS JOIN t",
        armed_columns()
    ));
    match db.query_one_raw(statement.build()).await? {
        Some(row) => armed_from(&row, claimed_until.is_some()),
        None => Ok(None),
    }
}

/// Stores the agent's answer, the conversation's new memory and the staff tasks, and arms
/// `next`, if the turn is still pending; with `heard`, also the turn's words and its
/// `agent_reply` run, done.
pub(super) async fn store_answer(
    db: &impl ConnectionTrait,
    turn: &turn::Model,
    answer: AnswerRow,
    heard: Option<Heard>,
    next: Option<&Arm>,
    now: DateTime<Utc>,
) -> Result<Recorded, CoreError> {
    let claimed_until = next.and_then(|next| next.claimed_until);
    let mut statement = PgStatement::new();
    let mut set = Vec::new();
    for (column, placeholder) in [
        ("input", statement.bind(answer.input)),
        ("status", statement.bind(ANSWERED)),
        ("reply", statement.bind(answer.reply)),
        ("intent", statement.bind(answer.intent)),
        ("agent", statement.bind(answer.agent)),
        ("confidence", statement.bind(answer.confidence)),
        ("verified", statement.bind(answer.verified)),
        ("handoff", statement.bind(answer.handoff)),
        ("tool_calls", statement.bind(answer.tool_calls)),
        ("latency", statement.bind(answer.latency)),
        ("error", statement.bind(answer.error)),
        ("answered_at", statement.bind(now)),
    ] {
        set.push(format!("{column} = {placeholder}"));
    }
    let id = statement.bind(turn.id);
    let pending = statement.bind(PENDING);
    let memory = statement.bind(answer.memory);
    let at = statement.bind(now);
    let mut sql = format!(
        "WITH t AS ( \
           UPDATE turns SET {} WHERE id = {id} AND status = {pending} RETURNING *), \
         m AS ( \
           INSERT INTO conversations (call_id, tenant_id, memory, updated_at) \
           SELECT call_id, tenant_id, {memory}, {at} FROM t \
           ON CONFLICT (call_id) DO UPDATE \
           SET memory = excluded.memory, updated_at = excluded.updated_at)",
        set.join(", ")
    );
    if !answer.tasks.is_empty() {
        let tasks: Vec<_> = answer
            .tasks
            .iter()
            .map(|t| json!({"kind": t.kind.label(), "order_name": t.order, "details": t.details}))
            .collect();
        let tasks = statement.bind(serde_json::Value::from(tasks).to_string());
        let caller = statement.bind(answer.caller);
        sql.push_str(&format!(
            ", k AS ( \
               INSERT INTO tasks (tenant_id, call_id, turn_id, kind, status, order_name, caller, \
                  details, created_at) \
               SELECT t.tenant_id, t.call_id, t.id, x.kind, 'open', x.order_name, {caller}, \
                  x.details, {at} \
               FROM t CROSS JOIN jsonb_to_recordset({tasks}::jsonb) \
                  AS x(kind text, order_name text, details text) \
               ON CONFLICT (turn_id, kind) DO NOTHING)"
        ));
    }
    if let Some(heard) = heard {
        let done = RunStart::Done(heard.replied_note);
        let replied = insert_run_from(&mut statement, "t", &heard.replied, None, done, now);
        sql.push_str(&format!(", d AS ({replied})"));
    }
    match next {
        Some(next) => {
            let run =
                insert_dispatched_from(&mut statement, "t", &next.run, None, claimed_until, now);
            sql.push_str(&format!(
                ", r AS ({run}) \
                 SELECT EXISTS (SELECT 1 FROM t) AS stored, {} \
                 FROM (SELECT 1) AS one LEFT JOIN t ON true LEFT JOIN r ON true",
                armed_columns()
            ));
        }
        None => sql.push_str(" SELECT EXISTS (SELECT 1 FROM t) AS stored, NULL::bigint AS r_id"),
    }
    statement.push(&sql);
    let row = db
        .query_one_raw(statement.build())
        .await?
        .ok_or(CoreError::NotFound("stored answer"))?;
    if !row.try_get::<bool>("", "stored")? {
        return Ok(Recorded::Stale);
    }
    Ok(Recorded::Stored(armed_from(&row, claimed_until.is_some())?))
}
