//! A voice call's rows: opening it from the Voicebot `start` (the raw event kept, the call row
//! created or updated at once, the session recorded), its turns (stored with the turn's first
//! stage run, in one transaction; an utterance's audio in scratch, [`super::turn_audio`]), the
//! live-call count for limits, and how it ended.

use super::live_writes::InsertedTurn;
use super::turn_audio;
use super::turns::{Arm, Armed, ClaimedRun};
use crate::agent::respond::InputsAhead;
use crate::integrations::exotel::{CallFacts, EventFields, HookKind};
use crate::integrations::speech::Audio;
use crate::pipeline::intake::{self, NewEvent};
use crate::pipeline::runs::{self, NewRun};
use crate::pipeline::stage::{HandOn, TurnSubject};
use crate::pipeline::stages::{agent_reply, turn_transcribe};
use crate::platform::db::is_postgres;
use crate::voice::outcome::{Outcome, Reason};
use crate::voice::protocol::Start;
use crate::{App, CoreError};
use caly_entities::{call, tenant, turn, voice_session};
use caly_jobs::{CallId, StageJob, StageName, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};

/// A session that stopped renewing its heartbeat this long ago no longer counts as live.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::seconds(30);

/// What the caller gave in one turn.
#[derive(Debug, Clone)]
pub enum VoiceInput {
    /// An utterance (PCM at the call's rate), to be transcribed.
    Speech(Vec<i16>),
    /// Keypad digits, used as they are.
    Keypad(String),
}

/// The key a voice call's hand-back notices travel under (one subscription per call).
pub fn handback_key(call: i64) -> String {
    format!("voice:{call}")
}

fn start_fields(start: &Start) -> EventFields {
    let mut fields = EventFields::default();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            fields.fields.insert(k.to_string(), v.to_string());
        }
    };
    put("CallSid", Some(&start.call_sid));
    put("AccountSid", Some(&start.account_sid));
    put("CallFrom", start.from.as_deref());
    put("CallTo", start.to.as_deref());
    put("Direction", Some("incoming"));
    fields
        .stream
        .insert("StreamSID".into(), start.stream_sid.clone());
    fields
}

/// Opens the call for a Voicebot `start`: keeps the event (its `ingest` run arms the call's
/// follow-ups, such as the caller's order prefetch), creates or updates the call row now (the
/// first turn needs it) and records the session.
pub async fn open_call(
    app: &App,
    tenant: &tenant::Model,
    start: &Start,
    node: &str,
    now: DateTime<Utc>,
) -> Result<call::Model, CoreError> {
    let fields = start_fields(start);
    let facts = CallFacts::from_fields(HookKind::Voicebot, &fields);
    let raw = serde_json::to_string(&fields).unwrap_or_default();
    intake::store_event(
        app,
        NewEvent {
            tenant_id: TenantId(tenant.id),
            kind: HookKind::Voicebot,
            encoding: "WS voicebot-start".into(),
            raw,
            fields,
        },
        now,
    )
    .await?;
    let txn = app.db.begin().await?;
    call::Entity::insert(super::merge::fresh(tenant.id, &start.call_sid, now, now))
        .on_conflict_do_nothing_on([call::Column::TenantId, call::Column::CallSid])
        .exec_without_returning(&txn)
        .await?;
    let current = call::Entity::find()
        .filter(call::Column::TenantId.eq(tenant.id))
        .filter(call::Column::CallSid.eq(start.call_sid.as_str()))
        .one(&txn)
        .await?
        .ok_or(CoreError::NotFound("call"))?;
    let merged = super::merge::merge(current.clone(), &facts, now, now);
    let call = if merged != current {
        merged.into_active_model().reset_all().update(&txn).await?
    } else {
        current
    };
    voice_session::Entity::insert(voice_session::ActiveModel {
        call_id: Set(call.id),
        tenant_id: Set(tenant.id),
        node: Set(node.to_string()),
        stream_sid: Set(start.stream_sid.clone()),
        encoding: Set(start.format.encoding.as_str().into()),
        sample_rate: Set(start.format.rate as i32),
        started_at: Set(now),
        heartbeat_at: Set(now),
        ended_at: Set(None),
        stop_reason: Set(None),
    })
    .on_conflict(
        // Exotel retries a failed handshake: the newer socket takes over the session.
        OnConflict::column(voice_session::Column::CallId)
            .update_columns([
                voice_session::Column::Node,
                voice_session::Column::StreamSid,
                voice_session::Column::Encoding,
                voice_session::Column::SampleRate,
                voice_session::Column::HeartbeatAt,
                voice_session::Column::EndedAt,
                voice_session::Column::StopReason,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(call)
}

/// Live calls of a tenant: sessions not ended whose node still renews them.
pub async fn live_calls(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<u64, CoreError> {
    Ok(voice_session::Entity::find()
        .filter(voice_session::Column::TenantId.eq(tenant.0))
        .filter(voice_session::Column::EndedAt.is_null())
        .filter(voice_session::Column::HeartbeatAt.gt(now - STALE_AFTER))
        .count(db)
        .await?)
}

/// Renews the session's heartbeat.
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    call: CallId,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    voice_session::Entity::update_many()
        .col_expr(voice_session::Column::HeartbeatAt, Expr::value(now))
        .filter(voice_session::Column::CallId.eq(call.0))
        .filter(voice_session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records what happened to the call (the Passthru after the Voicebot reads it).
pub async fn record_outcome(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
    outcome: Outcome,
    reason: Reason,
) -> Result<(), CoreError> {
    call::Entity::update_many()
        .col_expr(call::Column::Outcome, Expr::value(outcome.as_str()))
        .col_expr(call::Column::OutcomeReason, Expr::value(reason.as_str()))
        .col_expr(call::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(call::Column::Id.eq(call.0))
        .filter(call::Column::TenantId.eq(tenant.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the session ended.
pub async fn end_session(
    db: &impl ConnectionTrait,
    call: CallId,
    stop_reason: &str,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    voice_session::Entity::update_many()
        .col_expr(voice_session::Column::EndedAt, Expr::value(now))
        .col_expr(voice_session::Column::StopReason, Expr::value(stop_reason))
        .filter(voice_session::Column::CallId.eq(call.0))
        .filter(voice_session::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The voicebot's outcome for a call, by CallSid (for the Passthru's answer).
pub async fn outcome_by_sid(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call_sid: &str,
) -> Result<Option<Outcome>, CoreError> {
    let outcome: Option<Option<String>> = call::Entity::find()
        .select_only()
        .column(call::Column::Outcome)
        .filter(call::Column::TenantId.eq(tenant.0))
        .filter(call::Column::CallSid.eq(call_sid))
        .into_tuple()
        .one(db)
        .await?;
    Ok(outcome.flatten().as_deref().and_then(Outcome::parse))
}

/// The session's audio format (the `speak` stage synthesises at its rate).
pub async fn session_of(
    db: &impl ConnectionTrait,
    call: CallId,
) -> Result<Option<voice_session::Model>, CoreError> {
    Ok(voice_session::Entity::find_by_id(call.0).one(db).await?)
}

/// How a voice turn's first stage starts.
#[derive(Debug)]
pub enum TurnStart {
    /// Pending and marked dispatched: push this job onto the stage's live queue, for any
    /// worker (for speech it names where the utterance waits).
    Push(StageJob),
    /// Claimed already by this process, which consumes the stage's live queue itself: run it
    /// here at once ([`crate::pipeline::runner::run_handed_on`]), with the call, the turn and
    /// the utterance in hand. Should this process die meanwhile, the lease lapses and the
    /// sweeper dispatches the run to any worker, which reads the utterance from scratch.
    RunHere(Box<HandOn>),
}

/// Stores a voice turn with its first stage run (`turn_transcribe` for speech, `agent_reply`
/// for keypad digits) in one commit, on `app`'s live pool. The run is claimed by this process
/// when it consumes that stage itself, on PostgreSQL ([`App::hand_on_lease`]): a caller waits,
/// and running the stage where the utterance already is saves a push, a pop and a claim.
/// Otherwise it is marked dispatched and the caller pushes the returned job at once.
///
/// An utterance's audio is in scratch before this returns, so before any worker is told to
/// look for it. It is keyed by the call and the turn's number: with `expected_seq` (the number
/// the socket expects, one after its last turn's) it is stored alongside the turn's row rather
/// than after it, and again should the row's number differ.
pub async fn start_voice_turn(
    app: &App,
    call: &call::Model,
    input: VoiceInput,
    rate: u32,
    expected_seq: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(turn::Model, TurnStart), CoreError> {
    let (db, scratch) = (&app.live_db, &app.scratch);
    let (source, text, stage) = match &input {
        VoiceInput::Speech(_) => ("voice", String::new(), turn_transcribe::NAME),
        VoiceInput::Keypad(digits) => ("dtmf", digits.clone(), agent_reply::NAME),
    };
    let first = Arm {
        run: NewRun::for_turn(&stage, call, 0),
        claimed_until: app.hand_on_lease(&stage),
    };
    // Run here, the turn reads what answering it needs from now, alongside its own write.
    let inputs = first
        .claimed_until
        .map(|_| InputsAhead::start(&app.on_live_lane(), call));
    let insert = async {
        if is_postgres(db) {
            insert_voice_turn_retrying(db, call, source, &text, &first, now).await
        } else {
            insert_voice_turn_portable(db, call, source, text.clone(), &stage, now).await
        }
    };
    let audio = match input {
        VoiceInput::Speech(samples) => Some(samples),
        VoiceInput::Keypad(_) => None,
    };
    let put_early = async {
        match (&audio, expected_seq) {
            (Some(audio), Some(seq)) => {
                turn_audio::put_utterance(scratch, call.id, seq, audio, rate).await?;
                Ok::<_, CoreError>(Some(seq))
            }
            _ => Ok(None),
        }
    };
    // Should the utterance's put fail after the row is committed, a run claimed here stays
    // claimed until its lease lapses and the sweeper dispatches it (the socket hands the call
    // to a person meanwhile).
    let (inserted, stored_as) = tokio::try_join!(insert, put_early)?;
    let row = inserted.turn;
    if let Some(audio) = &audio
        && stored_as != Some(row.seq)
    {
        turn_audio::put_utterance(scratch, call.id, row.seq, audio, rate).await?;
    }
    let start = match inserted.armed {
        Some(Armed::Claimed(claimed)) => {
            let ClaimedRun { run, turn } = *claimed;
            TurnStart::RunHere(Box::new(HandOn {
                stage,
                run,
                subject: TurnSubject {
                    utterance: audio.map(|samples| Audio { samples, rate }),
                    inputs_ahead: inputs,
                    ..TurnSubject::new(
                        inserted.call.unwrap_or_else(|| call.clone()),
                        turn,
                        Some(rate),
                    )
                },
            }))
        }
        Some(Armed::Dispatched(run)) => {
            let mut job = StageJob::new(run, stage);
            if audio.is_some() {
                job = job.with_input(turn_audio::utterance_key(call.id, row.seq));
            }
            TurnStart::Push(job)
        }
        None => return Err(CoreError::NotFound("voice turn run")),
    };
    Ok((row, start))
}

/// PostgreSQL: one statement; a turn that lost the race for its number tries again.
async fn insert_voice_turn_retrying(
    db: &crate::platform::db::Db,
    call: &call::Model,
    source: &str,
    text: &str,
    first: &Arm,
    now: DateTime<Utc>,
) -> Result<InsertedTurn, CoreError> {
    let mut tries = 0;
    loop {
        match super::live_writes::insert_voice_turn(db, call, source, text, first, now).await {
            Err(CoreError::Db(err)) if tries < 3 && super::turns::is_unique_violation(&err) => {
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Elsewhere: one transaction, the call row locked while the turn's number is chosen.
async fn insert_voice_turn_portable(
    db: &crate::platform::db::Db,
    call: &call::Model,
    source: &str,
    text: String,
    stage: &StageName,
    now: DateTime<Utc>,
) -> Result<InsertedTurn, CoreError> {
    let txn = db.begin().await?;
    super::turns::lock_call(&txn, call.id).await?;
    let seq = super::turns::next_seq(&txn, call.id).await?;
    let row = turn::ActiveModel {
        tenant_id: Set(call.tenant_id),
        call_id: Set(call.id),
        seq: Set(seq),
        status: Set(super::turns::PENDING.into()),
        input: Set(text),
        source: Set(source.into()),
        tool_calls: Set("[]".into()),
        latency: Set("{}".into()),
        verified: Set(false),
        handoff: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let new = NewRun::for_turn(stage, call, row.id);
    let run = runs::insert_if_absent(&txn, new, true, now).await?;
    txn.commit().await?;
    Ok(InsertedTurn {
        turn: row,
        armed: run.map(Armed::Dispatched),
        call: None,
    })
}
