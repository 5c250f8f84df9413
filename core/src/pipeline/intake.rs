//! Accepting an Exotel webhook: parse, then commit the raw event and its ingest run in one
//! transaction, then push the job. Nothing is answered 2xx before the commit.

use super::dispatch;
use super::runs::{self, NewRun};
use super::stages::ingest;
use crate::app::App;
use crate::integrations::exotel::{EventFields, HookKind, PayloadError, parse_request};
use crate::platform::crypto::digest_hex;
use crate::{CoreError, RunStatus};
use caly_entities::status::RunSubject;
use caly_entities::{raw_event, tenant};
use caly_jobs::{StageJob, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement, TransactionTrait,
};

/// A webhook request as the api received it.
#[derive(Debug, Clone)]
pub struct IncomingHook<'a> {
    /// Which endpoint.
    pub kind: HookKind,
    /// HTTP method.
    pub method: &'a str,
    /// Raw query string, if any.
    pub query: Option<&'a str>,
    /// Content-Type header, if any.
    pub content_type: Option<&'a str>,
    /// Raw body.
    pub body: &'a [u8],
}

/// What happened to an accepted webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The stored delivery.
    pub raw_event_id: i64,
    /// The call it is about.
    pub call_sid: String,
    /// True when an identical delivery was accepted before (kept, not processed again).
    pub duplicate: bool,
}

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The body is unusable (400).
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// Storage failed (503: Exotel will retry).
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// The duplicate-delivery key: tenant, CallSid and the canonical body.
pub fn dedupe_key(tenant_id: TenantId, fields: &EventFields) -> String {
    digest_hex(&format!(
        "{tenant_id}\n{}\n{}",
        fields.call_sid().unwrap_or_default(),
        fields.canonical_json()
    ))
}

fn raw_text(hook: &IncomingHook<'_>) -> String {
    let body = String::from_utf8_lossy(hook.body);
    match hook.query.filter(|q| !q.is_empty()) {
        Some(q) if body.is_empty() => q.to_string(),
        Some(q) => format!("{q}\n\n{body}"),
        None => body.into_owned(),
    }
}

/// Stores a delivery durably and queues its ingest run.
pub async fn accept(
    app: &App,
    tenant: &tenant::Model,
    hook: IncomingHook<'_>,
    now: DateTime<Utc>,
) -> Result<Accepted, HookError> {
    let fields = parse_request(hook.query, hook.content_type, hook.body)?;
    let event = NewEvent {
        tenant_id: TenantId(tenant.id),
        kind: hook.kind,
        encoding: format!("{} {}", hook.method, hook.content_type.unwrap_or("-")),
        raw: raw_text(&hook),
        fields,
    };
    Ok(store_event(app, event, now).await?)
}

/// An event about to be stored: from a webhook, or fetched by Caly itself.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Where it came from.
    pub kind: HookKind,
    /// Method and content type.
    pub encoding: String,
    /// Raw text as received.
    pub raw: String,
    /// Canonical fields (must hold a CallSid).
    pub fields: EventFields,
}

/// Commits the raw event and its ingest run in one transaction (a duplicate is kept and
/// marked), then pushes the run.
pub async fn store_event(
    app: &App,
    event: NewEvent,
    now: DateTime<Utc>,
) -> Result<Accepted, CoreError> {
    let call_sid = event.fields.call_sid().unwrap_or_default().to_string();
    let key = dedupe_key(event.tenant_id, &event.fields);
    // Decided before the commit so the run is stored already marked as pushed: one write less.
    let push_now = match dispatch::reserve_direct_push(app, &ingest::NAME).await {
        Ok(room) => room,
        Err(err) => {
            tracing::warn!(error = %err, "queue depth unknown; leaving the run to the dispatcher");
            false
        }
    };
    let (event_id, run_id) = if crate::platform::db::is_postgres(&app.db) {
        insert_postgres(app, &event, &call_sid, &key, push_now, now).await?
    } else {
        insert_portable(app, event, &call_sid, &key, push_now, now).await?
    };
    if let Some(id) = run_id.filter(|_| push_now)
        && let Err(err) = app.queue.push(StageJob::new(id, ingest::NAME)).await
    {
        // Marked as pushed: the dispatcher pushes it again after CALY_REDISPATCH_AFTER_SECS.
        tracing::warn!(stage_run = %id, error = %err, "push failed; the dispatcher will retry");
    }
    Ok(Accepted {
        raw_event_id: event_id,
        call_sid,
        duplicate: run_id.is_none(),
    })
}

/// PostgreSQL: the raw event and its ingest run in one statement (atomic on its own), so an
/// accepted webhook costs a single round trip and commit.
async fn insert_postgres(
    app: &App,
    event: &NewEvent,
    call_sid: &str,
    key: &str,
    push_now: bool,
    now: DateTime<Utc>,
) -> Result<(i64, Option<StageRunId>), CoreError> {
    const SQL: &str = "WITH ev AS ( \
        INSERT INTO raw_events (tenant_id, call_sid, kind, encoding, raw, fields, dedupe_key, \
            duplicate, received_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, \
            EXISTS (SELECT 1 FROM stage_runs WHERE stage = $10 AND dedupe_key = $7), $8) \
        RETURNING id), \
      run AS ( \
        INSERT INTO stage_runs (tenant_id, call_sid, call_id, stage, dedupe_key, raw_event_id, \
            status, attempts, next_run_at, dispatched_at, created_at, updated_at) \
        SELECT $1, $2, NULL, $10, $7, ev.id, $11, 0, $8, $9, $8, $8 FROM ev \
        ON CONFLICT (stage, dedupe_key) DO NOTHING \
        RETURNING id) \
      SELECT ev.id AS event_id, (SELECT id FROM run) AS run_id FROM ev";
    let values: [sea_orm::Value; 11] = [
        event.tenant_id.0.into(),
        call_sid.into(),
        event.kind.as_str().into(),
        event.encoding.as_str().into(),
        event.raw.as_str().into(),
        event.fields.canonical_json().into(),
        key.into(),
        now.into(),
        push_now.then_some(now).into(),
        ingest::NAME.as_str().into(),
        RunStatus::Pending.into(),
    ];
    let row = app
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            SQL,
            values,
        ))
        .await?
        .ok_or(CoreError::NotFound("inserted event"))?;
    let event_id: i64 = row.try_get("", "event_id")?;
    let run_id: Option<StageRunId> = row.try_get::<Option<i64>>("", "run_id")?.map(StageRunId);
    if run_id.is_none() {
        // Two identical deliveries at once both saw no earlier run: mark the loser.
        raw_event::Entity::update_many()
            .col_expr(raw_event::Column::Duplicate, Expr::value(true))
            .filter(raw_event::Column::Id.eq(event_id))
            .exec(&app.db)
            .await?;
    }
    Ok((event_id, run_id))
}

/// Any database: the raw event and its ingest run in one transaction.
async fn insert_portable(
    app: &App,
    event: NewEvent,
    call_sid: &str,
    key: &str,
    push_now: bool,
    now: DateTime<Utc>,
) -> Result<(i64, Option<StageRunId>), CoreError> {
    let txn = app.db.begin().await?;
    let stored = raw_event::ActiveModel {
        tenant_id: Set(event.tenant_id.0),
        call_sid: Set(call_sid.to_string()),
        kind: Set(event.kind.as_str().to_string()),
        encoding: Set(event.encoding),
        raw: Set(event.raw),
        fields: Set(event.fields.canonical_json()),
        dedupe_key: Set(key.to_string()),
        duplicate: Set(false),
        received_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let run_id = runs::insert_if_absent(
        &txn,
        NewRun {
            tenant_id: event.tenant_id,
            subject: RunSubject::Call,
            call_sid: call_sid.to_string(),
            call_id: None,
            stage: ingest::NAME,
            dedupe_key: key.to_string(),
            raw_event_id: Some(stored.id),
            scheduled_for: None,
        },
        push_now,
        now,
    )
    .await?;
    if run_id.is_none() {
        raw_event::Entity::update_many()
            .col_expr(raw_event::Column::Duplicate, Expr::value(true))
            .filter(raw_event::Column::Id.eq(stored.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok((stored.id, run_id))
}
