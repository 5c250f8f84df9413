//! A conversation's turns and memory. A turn is stored `pending` together with its
//! `agent_reply` run (one transaction), answered by the worker (only while still pending, so a
//! redelivered run or a late answer after the API gave up changes nothing), or given up on by
//! the API after its wait (`timed_out`, with the fallback line and a human offered).

use super::live_writes;
use crate::agent::brain::FALLBACK_LINE;
use crate::agent::conversation::Conversation;
use crate::agent::tools::{TaskRequest, ToolCall};
use crate::calls::transcript::redact;
use crate::pipeline::runs::{self, NewRun, Rearm};
use crate::pipeline::stages::agent_reply;
use crate::platform::db::is_postgres;
use crate::{CoreError, Rejection};
use caly_entities::status::Channel;
use caly_entities::{call, conversation, task, turn};
use caly_jobs::{CallId, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::Value;

/// Longest text one turn may carry.
pub const MAX_TURN_CHARS: usize = 2000;

/// A turn's status.
pub const PENDING: &str = "pending";
/// Answered by the agent.
pub const ANSWERED: &str = "answered";
/// The API stopped waiting and said the fallback line.
pub const TIMED_OUT: &str = "timed_out";
/// A voice turn in which speech-to-text heard no words (noise, a cough).
pub const UNHEARD: &str = "unheard";

/// The key a turn's hand-back notice travels under.
pub fn handback_key(turn: i64) -> String {
    format!("turn:{turn}")
}

/// A turn as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TurnView {
    /// Turn id.
    pub id: i64,
    /// 1, 2, … within the call.
    pub seq: i32,
    /// `pending`, `answered`, `timed_out` or `unheard`.
    pub status: String,
    /// How the turn came in: `text`, `voice` or `dtmf`.
    pub source: String,
    /// What the caller said.
    pub text: String,
    /// What the agent said.
    pub reply: Option<String>,
    /// The caller's intent.
    pub intent: Option<String>,
    /// The agent that answered.
    pub agent: Option<String>,
    /// Confidence in the intent, 0–1.
    pub confidence: Option<f64>,
    /// Whether the caller is verified.
    pub verified: bool,
    /// Whether a person should take over.
    pub handoff: bool,
    /// Tool calls (results withheld where the caller may not see them).
    pub tool_calls: Vec<ToolCall>,
    /// Milliseconds per step.
    pub latency_ms: Value,
    /// What went wrong, when the fallback line was said.
    pub error: Option<String>,
    /// When the caller spoke.
    pub created_at: DateTime<Utc>,
    /// When answered.
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<turn::Model> for TurnView {
    fn from(row: turn::Model) -> Self {
        TurnView {
            id: row.id,
            seq: row.seq,
            status: row.status,
            source: row.source,
            text: row.input,
            reply: row.reply,
            intent: row.intent,
            agent: row.agent,
            confidence: row.confidence,
            verified: row.verified,
            handoff: row.handoff,
            tool_calls: serde_json::from_str(&row.tool_calls).unwrap_or_default(),
            latency_ms: serde_json::from_str(&row.latency).unwrap_or(Value::Null),
            error: row.error,
            created_at: row.created_at,
            answered_at: row.answered_at,
        }
    }
}

/// Stores the caller's `text` as the call's next turn with its `agent_reply` run. Refused
/// while the previous turn is still being answered; a turn left pending longer than
/// `abandoned_after` (its API request died while waiting) is given up on first.
pub async fn start_turn(
    db: &crate::platform::db::Db,
    tenant: TenantId,
    call: CallId,
    text: &str,
    abandoned_after: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<(turn::Model, StageRunId), CoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Rejection::InvalidTurn("'text' must not be empty.".into()).into());
    }
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(
            Rejection::InvalidTurn("'text' must not contain control characters.".into()).into(),
        );
    }
    if text.chars().count() > MAX_TURN_CHARS {
        return Err(Rejection::InvalidTurn(format!(
            "'text' must be at most {MAX_TURN_CHARS} characters."
        ))
        .into());
    }
    let call = super::find_call(db, tenant, call).await?;
    if call.channel != Channel::Text {
        return Err(Rejection::InvalidTurn(
            "Turns are sent to text conversations; a phone call's turns come from its audio."
                .into(),
        )
        .into());
    }
    let txn = db.begin().await?;
    lock_call(&txn, call.id).await?;
    let busy = turn::Entity::find()
        .filter(turn::Column::CallId.eq(call.id))
        .filter(turn::Column::Status.eq(PENDING))
        .one(&txn)
        .await?;
    if let Some(busy) = busy {
        let abandoned =
            chrono::Duration::from_std(abandoned_after).unwrap_or(chrono::Duration::days(1));
        if busy.created_at + abandoned > now {
            return Err(Rejection::TurnInProgress.into());
        }
        give_up(&txn, tenant, busy.id, now).await?;
    }
    let seq = next_seq(&txn, call.id).await?;
    let inserted = turn::ActiveModel {
        tenant_id: Set(tenant.0),
        call_id: Set(call.id),
        seq: Set(seq),
        status: Set(PENDING.into()),
        input: Set(text.to_string()),
        tool_calls: Set("[]".into()),
        latency: Set("{}".into()),
        verified: Set(false),
        handoff: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // Two turns racing for the same number: the loser is the concurrent one.
    let row = match inserted {
        Ok(row) => row,
        Err(err) if is_unique_violation(&err) => return Err(Rejection::TurnInProgress.into()),
        Err(err) => return Err(err.into()),
    };
    let new = NewRun::for_turn(&agent_reply::NAME, &call, row.id);
    let run = runs::ensure(&txn, new, Rearm::Never, "a turn to answer", now)
        .await?
        .ok_or(CoreError::NotFound("agent_reply run"))?;
    txn.commit().await?;
    Ok((row, run))
}

/// Takes the call row's write lock inside a transaction, before any read: the call row is its
/// turns' lock (and SQLite takes its write lock now rather than failing to upgrade a read lock
/// later).
pub(crate) async fn lock_call(txn: &impl ConnectionTrait, call: i64) -> Result<(), CoreError> {
    call::Entity::update_many()
        .col_expr(call::Column::UpdatedAt, Expr::col(call::Column::UpdatedAt))
        .filter(call::Column::Id.eq(call))
        .exec(txn)
        .await?;
    Ok(())
}

/// The number the call's next turn takes (call [`lock_call`] first).
pub(crate) async fn next_seq(txn: &impl ConnectionTrait, call: i64) -> Result<i32, CoreError> {
    let last: Option<i32> = turn::Entity::find()
        .select_only()
        .column_as(turn::Column::Seq.max(), "seq")
        .filter(turn::Column::CallId.eq(call))
        .into_tuple()
        .one(txn)
        .await?
        .flatten();
    Ok(last.unwrap_or(0) + 1)
}

pub(super) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    let text = err.to_string().to_lowercase();
    text.contains("unique") || text.contains("duplicate")
}

/// One of the tenant's turns.
pub async fn find_turn(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: i64,
) -> Result<turn::Model, CoreError> {
    turn::Entity::find_by_id(id)
        .filter(turn::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("turn"))
}

/// The call's turns, oldest first.
pub async fn turns_of_call(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
) -> Result<Vec<TurnView>, CoreError> {
    let rows = turn::Entity::find()
        .filter(turn::Column::TenantId.eq(tenant.0))
        .filter(turn::Column::CallId.eq(call.0))
        .order_by_asc(turn::Column::Seq)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(TurnView::from).collect())
}

/// The conversation's memory; a new one (the caller's number, trusted on the phone) before the
/// first turn.
pub async fn memory_of(
    db: &impl ConnectionTrait,
    call: &call::Model,
) -> Result<Conversation, CoreError> {
    let fresh = Conversation::new(call.from_number.clone(), call.channel == Channel::Phone);
    let stored = conversation::Entity::find_by_id(call.id)
        .filter(conversation::Column::TenantId.eq(call.tenant_id))
        .one(db)
        .await?;
    let mut memory = match stored {
        None => fresh,
        Some(row) => serde_json::from_str(&row.memory).unwrap_or_else(|error| {
            // Fail closed: memory that cannot be read verifies nothing and allows no more proofs.
            tracing::warn!(%error, call = call.id, "conversation memory unreadable; starting locked");
            Conversation {
                failed_checks: crate::agent::conversation::MAX_FAILED_CHECKS,
                ..fresh
            }
        }),
    };
    if !memory.prefetch_done
        && let Some((orders, fetched_at)) = super::prefetch::load(db, call).await?
    {
        memory.prefetched = orders;
        memory.prefetch_done = true;
        memory.prefetched_at = Some(fetched_at);
    }
    Ok(memory)
}

/// The agent's answer to one turn.
pub struct TurnAnswer {
    /// What to say.
    pub reply: String,
    /// Intent label.
    pub intent: String,
    /// Agent label.
    pub agent: String,
    /// Confidence.
    pub confidence: f64,
    /// Caller verified.
    pub verified: bool,
    /// A person should take over.
    pub handoff: bool,
    /// Tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// Milliseconds per step.
    pub latency: Value,
    /// What failed, when the fallback was said.
    pub error: Option<String>,
    /// Requests for staff.
    pub tasks: Vec<TaskRequest>,
    /// Redact the caller's words, the memory, the tasks and the tools' arguments as they are
    /// written (the store's `redact_transcripts`, read with the answer's inputs; on unless it
    /// chose to keep raw text).
    pub redacting: bool,
}

/// What storing an answer did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The turn was answered or given up on already: nothing stored.
    Stale,
    /// Stored, with the follow-up run it armed (`None` when there was none to arm or it
    /// existed already).
    Stored(Option<Armed>),
}

/// The next live stage's run to arm in the same write as a turn's transcript or answer.
#[derive(Debug, Clone)]
pub struct Arm {
    /// The run.
    pub run: NewRun,
    /// Armed claimed by the writer until then, to run at once on the same worker (PostgreSQL
    /// only; see [`crate::App::hand_on_lease`]); else pending and marked dispatched.
    pub claimed_until: Option<DateTime<Utc>>,
}

/// The next live stage's run, armed in the same write as a turn's transcript or answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Armed {
    /// Pending and marked dispatched: the runner pushes it onto its queue.
    Dispatched(StageRunId),
    /// Claimed already by the worker that wrote it, which runs it at once: the run and the
    /// turn as that write left them (PostgreSQL only).
    Claimed(Box<ClaimedRun>),
}

/// A run armed already claimed, with the turn it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    /// The run: running, first attempt, leased.
    pub run: caly_entities::stage_run::Model,
    /// The turn, as written.
    pub turn: turn::Model,
}

/// An answer as its row stores it.
pub(super) struct AnswerRow {
    /// The caller's words as stored (redacted unless the store keeps raw text).
    pub(super) input: String,
    pub(super) reply: String,
    pub(super) intent: String,
    pub(super) agent: String,
    pub(super) confidence: f64,
    pub(super) verified: bool,
    pub(super) handoff: bool,
    /// JSON.
    pub(super) tool_calls: String,
    /// JSON: the turn's latency so far and the answer's.
    pub(super) latency: String,
    pub(super) error: Option<String>,
    /// The conversation's memory, JSON.
    pub(super) memory: String,
    pub(super) tasks: Vec<TaskRequest>,
    /// The caller's number, for the tasks.
    pub(super) caller: Option<String>,
}

impl AnswerRow {
    fn new(
        turn: &turn::Model,
        memory: &Conversation,
        mut answer: TurnAnswer,
        caller: Option<String>,
    ) -> Self {
        let mut input = turn.input.clone();
        let mut memory = std::borrow::Cow::Borrowed(memory);
        if answer.redacting {
            // Redacted as it is written: the words reached the agent already; nothing stored
            // after this point (the turn, the memory, the tasks, hence pages, exports and mail)
            // holds a card number, a code or a phone number the caller said.
            input = redact::redact(&input);
            for exchange in &mut memory.to_mut().history {
                exchange.caller = redact::redact(&exchange.caller);
                exchange.agent = redact::redact(&exchange.agent);
            }
            for task in &mut answer.tasks {
                task.details = redact::redact(&task.details);
            }
            // The tools' arguments carry the caller's words too (a task's details, a proof).
            for call in &mut answer.tool_calls {
                redact_strings(&mut call.arguments);
            }
            // A spoken reply is synthesised from the stored text, and redacted once spoken.
            if turn.source == "text" {
                answer.reply = redact::redact(&answer.reply);
            }
        }
        let memory = memory.as_ref();
        let steps: Vec<(&str, u64)> = answer
            .latency
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default();
        AnswerRow {
            input,
            latency: merged_latency(&turn.latency, &steps),
            reply: answer.reply,
            intent: answer.intent,
            agent: answer.agent,
            confidence: answer.confidence,
            verified: answer.verified,
            handoff: answer.handoff,
            tool_calls: serde_json::to_string(&answer.tool_calls).unwrap_or_else(|_| "[]".into()),
            error: answer.error,
            memory: serde_json::to_string(memory).unwrap_or_else(|_| "{}".into()),
            tasks: answer.tasks,
            caller,
        }
    }
}

/// Redacts every string inside a JSON value.
fn redact_strings(value: &mut Value) {
    match value {
        Value::String(text) => *text = redact::redact(text),
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(fields) => fields.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// The words a voice turn's answer is stored with, when `turn_transcribe` worked the answer
/// out as soon as it heard them ([`record_heard_answer`]).
#[derive(Debug, Clone)]
pub struct Heard {
    /// What speech-to-text heard.
    pub text: String,
    /// Its time, in milliseconds.
    pub took_ms: u64,
    /// The turn's `agent_reply` run, stored done by the same write, with this outcome.
    pub replied: NewRun,
    /// That run's outcome.
    pub replied_note: String,
}

/// An answer to store: the answer, the conversation's memory after it, the caller's number
/// (for the tasks it opens).
pub struct Reply<'a> {
    /// The conversation's memory after the answer.
    pub memory: &'a Conversation,
    /// The answer.
    pub answer: TurnAnswer,
    /// The caller's number.
    pub caller: Option<String>,
}

/// Stores the answer, the new memory and the tasks, and arms `next` (already marked
/// dispatched: the caller pushes it; or, on PostgreSQL with `claimed_until`, claimed by the
/// caller until then), all in one commit, if the turn is still pending.
pub async fn record_answer(
    db: &crate::platform::db::Db,
    turn: &turn::Model,
    reply: Reply<'_>,
    next: Option<Arm>,
    now: DateTime<Utc>,
) -> Result<Recorded, CoreError> {
    record(db, turn, reply, None, next, now).await
}

/// Like [`record_answer`], storing the words `heard` with the answer, and the turn's
/// `agent_reply` run as done, in the same commit: one write where a caller would wait on two
/// (the transcript, then the answer).
pub async fn record_heard_answer(
    db: &crate::platform::db::Db,
    turn: &turn::Model,
    heard: Heard,
    reply: Reply<'_>,
    next: Option<Arm>,
    now: DateTime<Utc>,
) -> Result<Recorded, CoreError> {
    record(db, turn, reply, Some(heard), next, now).await
}

async fn record(
    db: &crate::platform::db::Db,
    turn: &turn::Model,
    reply: Reply<'_>,
    heard: Option<Heard>,
    next: Option<Arm>,
    now: DateTime<Utc>,
) -> Result<Recorded, CoreError> {
    let heard_turn;
    let turn = match &heard {
        Some(heard) => {
            heard_turn = turn::Model {
                input: heard.text.clone(),
                latency: merged_latency(&turn.latency, &[("transcribe", heard.took_ms)]),
                ..turn.clone()
            };
            &heard_turn
        }
        None => turn,
    };
    let row = AnswerRow::new(turn, reply.memory, reply.answer, reply.caller);
    if is_postgres(db) {
        return live_writes::store_answer(db, turn, row, heard, next.as_ref(), now).await;
    }
    let txn = db.begin().await?;
    let updated = turn::Entity::update_many()
        .col_expr(turn::Column::Input, Expr::value(row.input))
        .col_expr(turn::Column::Status, Expr::value(ANSWERED))
        .col_expr(turn::Column::Reply, Expr::value(row.reply))
        .col_expr(turn::Column::Intent, Expr::value(row.intent))
        .col_expr(turn::Column::Agent, Expr::value(row.agent))
        .col_expr(turn::Column::Confidence, Expr::value(row.confidence))
        .col_expr(turn::Column::Verified, Expr::value(row.verified))
        .col_expr(turn::Column::Handoff, Expr::value(row.handoff))
        .col_expr(turn::Column::ToolCalls, Expr::value(row.tool_calls))
        .col_expr(turn::Column::Latency, Expr::value(row.latency))
        .col_expr(turn::Column::Error, Expr::value(row.error))
        .col_expr(turn::Column::AnsweredAt, Expr::value(now))
        .filter(turn::Column::Id.eq(turn.id))
        .filter(turn::Column::Status.eq(PENDING))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(Recorded::Stale);
    }
    conversation::Entity::insert(conversation::ActiveModel {
        call_id: Set(turn.call_id),
        tenant_id: Set(turn.tenant_id),
        memory: Set(row.memory),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(conversation::Column::CallId)
            .update_columns([
                conversation::Column::Memory,
                conversation::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    for request in row.tasks {
        task::Entity::insert(task::ActiveModel {
            tenant_id: Set(turn.tenant_id),
            call_id: Set(turn.call_id),
            turn_id: Set(turn.id),
            kind: Set(request.kind.label().into()),
            status: Set("open".into()),
            order_name: Set(request.order),
            caller: Set(row.caller.clone()),
            details: Set(request.details),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([task::Column::TurnId, task::Column::Kind])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    if let Some(heard) = heard
        && let Some(replied) = runs::insert_if_absent(&txn, heard.replied, true, now).await?
    {
        runs::record_done(&txn, replied, &heard.replied_note, now).await?;
    }
    let run = match next {
        Some(next) => runs::insert_if_absent(&txn, next.run, true, now).await?,
        None => None,
    };
    txn.commit().await?;
    Ok(Recorded::Stored(run.map(Armed::Dispatched)))
}

/// Adds `more` (milliseconds per step) to the turn's stored latency.
fn merged_latency(stored: &str, more: &[(&str, u64)]) -> String {
    let mut latency: serde_json::Map<String, Value> =
        serde_json::from_str(stored).unwrap_or_default();
    for (step, ms) in more {
        latency.insert((*step).to_string(), Value::from(*ms));
    }
    Value::Object(latency).to_string()
}

/// Stores what speech-to-text heard for a voice turn and how long it took, and arms `next`
/// (already marked dispatched: the caller pushes it; or, on PostgreSQL with `claimed_until`,
/// claimed by the caller until then), in one commit, if the turn is still pending. Returns the
/// new run, or `None` when the turn was not pending or the run existed.
pub async fn set_transcript(
    db: &crate::platform::db::Db,
    turn: &turn::Model,
    text: &str,
    took_ms: u64,
    next: Arm,
    now: DateTime<Utc>,
) -> Result<Option<Armed>, CoreError> {
    let latency = merged_latency(&turn.latency, &[("transcribe", took_ms)]);
    if is_postgres(db) {
        return live_writes::store_transcript(db, turn, text, latency, &next, now).await;
    }
    let txn = db.begin().await?;
    let updated = turn::Entity::update_many()
        .col_expr(turn::Column::Input, Expr::value(text))
        .col_expr(turn::Column::Latency, Expr::value(latency))
        .filter(turn::Column::Id.eq(turn.id))
        .filter(turn::Column::Status.eq(PENDING))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    let run = runs::insert_if_absent(&txn, next.run, true, now).await?;
    txn.commit().await?;
    Ok(run.map(Armed::Dispatched))
}

/// Records that a voice turn's reply is all synthesised, in `parts` parts.
pub async fn finish_speaking(
    db: &impl ConnectionTrait,
    turn: &turn::Model,
    parts: i32,
    first_ms: u64,
    took_ms: u64,
) -> Result<(), CoreError> {
    let stored = find_turn(db, TenantId(turn.tenant_id), turn.id).await?;
    turn::Entity::update_many()
        .col_expr(turn::Column::ReplyParts, Expr::value(parts))
        .col_expr(
            turn::Column::Latency,
            Expr::value(merged_latency(
                &stored.latency,
                &[("speak_first", first_ms), ("speak", took_ms)],
            )),
        )
        .filter(turn::Column::Id.eq(turn.id))
        .exec(db)
        .await?;
    Ok(())
}

/// A voice turn in which no words were heard: nothing to answer.
pub async fn mark_unheard(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    turn: i64,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    turn::Entity::update_many()
        .col_expr(turn::Column::Status, Expr::value(UNHEARD))
        .col_expr(turn::Column::AnsweredAt, Expr::value(now))
        .filter(turn::Column::Id.eq(turn))
        .filter(turn::Column::TenantId.eq(tenant.0))
        .filter(turn::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// A turn a provider failed: the fallback line and a person, with what failed.
pub async fn fail_turn(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    turn: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<turn::Model, CoreError> {
    give_up_because(db, tenant, turn, error, now).await
}

/// Gives up on a turn still pending after the API's wait: it says the fallback line and
/// offers a human. Returns the turn as it now stands (answered meanwhile, or timed out).
pub async fn give_up(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    turn: i64,
    now: DateTime<Utc>,
) -> Result<turn::Model, CoreError> {
    give_up_because(db, tenant, turn, "the agent did not answer in time", now).await
}

async fn give_up_because(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    turn: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<turn::Model, CoreError> {
    let mut update = turn::Entity::update_many();
    // The caller's words, never answered, are redacted as the turn ends all the same.
    if crate::tenancy::profile::redacts_transcripts(db, tenant).await? {
        let stored = find_turn(db, tenant, turn).await?;
        update = update.col_expr(
            turn::Column::Input,
            Expr::value(redact::redact(&stored.input)),
        );
    }
    update
        .col_expr(turn::Column::Status, Expr::value(TIMED_OUT))
        .col_expr(turn::Column::Reply, Expr::value(FALLBACK_LINE))
        .col_expr(turn::Column::Handoff, Expr::value(true))
        .col_expr(turn::Column::Error, Expr::value(error))
        .col_expr(turn::Column::AnsweredAt, Expr::value(now))
        .filter(turn::Column::Id.eq(turn))
        .filter(turn::Column::TenantId.eq(tenant.0))
        .filter(turn::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    find_turn(db, tenant, turn).await
}
