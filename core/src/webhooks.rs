//! Accepting an Exotel webhook: parse, then commit the raw event and its ingest run in one
//! transaction, then push the job. Nothing is answered 2xx before the commit.

use crate::app::App;
use crate::crypto::digest_hex;
use crate::exotel::{EventFields, HookKind, PayloadError, parse_request};
use crate::runs::{self, NewRun};
use crate::{CoreError, dispatch};
use caly_entities::{raw_event, tenant};
use caly_jobs::Stage;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

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
pub fn dedupe_key(tenant_id: i64, fields: &EventFields) -> String {
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
    let call_sid = fields.call_sid().unwrap_or_default().to_string();
    let key = dedupe_key(tenant.id, &fields);
    let txn = app.db.begin().await.map_err(CoreError::from)?;
    let event = raw_event::ActiveModel {
        tenant_id: Set(tenant.id),
        call_sid: Set(call_sid.clone()),
        kind: Set(hook.kind.as_str().to_string()),
        encoding: Set(format!(
            "{} {}",
            hook.method,
            hook.content_type.unwrap_or("-")
        )),
        raw: Set(raw_text(&hook)),
        fields: Set(fields.canonical_json()),
        dedupe_key: Set(key.clone()),
        duplicate: Set(false),
        received_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(CoreError::from)?;
    let run_id = runs::insert_if_absent(
        &txn,
        NewRun {
            tenant_id: tenant.id,
            call_sid: call_sid.clone(),
            call_id: None,
            stage: Stage::Ingest,
            dedupe_key: key,
            raw_event_id: Some(event.id),
        },
        false,
        now,
    )
    .await?;
    if run_id.is_none() {
        raw_event::Entity::update_many()
            .col_expr(raw_event::Column::Duplicate, Expr::value(true))
            .filter(raw_event::Column::Id.eq(event.id))
            .exec(&txn)
            .await
            .map_err(CoreError::from)?;
    }
    txn.commit().await.map_err(CoreError::from)?;
    if let Some(id) = run_id {
        dispatch::push_committed(app, Stage::Ingest, &[id], now).await;
    }
    Ok(Accepted {
        raw_event_id: event.id,
        call_sid,
        duplicate: run_id.is_none(),
    })
}
