//! `ingest`: applies one raw Exotel event to its call (creating it), moves the state machine,
//! and arms the call's follow-up stages.

use super::{charge, prefetch_caller, reconcile, recording_upload};
use crate::App;
use crate::calls::{merge, prefetch};
use crate::integrations::exotel::{CallFacts, EventFields, HookKind};
use crate::pipeline::runs::{self, NewRun, Rearm};
use crate::pipeline::stage::{Failure, Lane, Stage, StageError, StageOutcome, StageSpec};
use crate::platform::db;
use crate::platform::settings::Settings;
use async_trait::async_trait;
use caly_entities::{call, raw_event, stage_run};
use caly_jobs::{CallId, StageName, StageRunId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, TransactionTrait,
};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("ingest");

/// Its spec.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[
        recording_upload::NAME,
        charge::NAME,
        reconcile::NAME,
        prefetch_caller::NAME,
    ],
    timeout: Duration::from_secs(60),
    max_attempts: None,
    // One run per delivery, keyed by the delivery's digest: never armed per call.
    lane: Lane::Batch,
    call_key: None,
};

/// The stage.
pub struct Ingest;

#[async_trait]
impl Stage for Ingest {
    type Subject = raw_event::Model;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        run: &stage_run::Model,
        event: raw_event::Model,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let fields: EventFields = serde_json::from_str(&event.fields)
            .map_err(|e| StageError::Permanent(Failure::Unreadable(e)))?;
        let kind = HookKind::parse(&event.kind).unwrap_or(HookKind::Passthru);
        let facts = CallFacts::from_fields(kind, &fields);

        let txn = app.db.begin().await?;
        let current = load_or_create(&txn, run, event.received_at, now).await?;
        let merged = merge::merge(current.clone(), &facts, event.received_at, now);
        let call = if merged != current {
            merged.into_active_model().reset_all().update(&txn).await?
        } else {
            current
        };
        let follow_ups = arm_follow_ups(&txn, &call, &app.settings, now).await?;
        txn.commit().await?;
        Ok(StageOutcome {
            note: format!("call {} is {}", call.id, call.state),
            call_id: Some(CallId(call.id)),
            follow_ups,
            handed_on: None,
        })
    }
}

async fn load_or_create(
    txn: &impl ConnectionTrait,
    run: &stage_run::Model,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<call::Model, StageError> {
    call::Entity::insert(merge::fresh(run.tenant_id, &run.call_sid, received_at, now))
        .on_conflict_do_nothing_on([call::Column::TenantId, call::Column::CallSid])
        .exec_without_returning(txn)
        .await?;
    let mut query = call::Entity::find()
        .filter(call::Column::TenantId.eq(run.tenant_id))
        .filter(call::Column::CallSid.eq(run.call_sid.as_str()));
    if db::is_postgres(txn) {
        // Two events of one call may be ingested at once: serialise them on the call row.
        query = query.lock_exclusive();
    }
    query
        .one(txn)
        .await?
        .ok_or(StageError::Transient(Failure::SubjectGone("call")))
}

/// Arms what the call now needs: its recording upload; a reconcile poll, re-armed by every
/// event while the call is not final or has no duration; and its charge once final (at once
/// when the best duration is known, cutting a waiting settle window short; again when a
/// duration arrives for a call awaiting one or improves on the one it was charged on).
async fn arm_follow_ups(
    txn: &impl ConnectionTrait,
    call: &call::Model,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<(StageName, StageRunId)>, StageError> {
    let mut armed = Vec::new();
    let later = |from: DateTime<Utc>, wait: Duration| {
        from + chrono::Duration::from_std(wait).unwrap_or_default()
    };
    if call.recording_url.is_some() {
        let new = NewRun::for_call(&recording_upload::SPEC, call);
        if let Some(id) = runs::ensure(txn, new, Rearm::Never, "", now).await? {
            armed.push((recording_upload::NAME, id));
        }
    }
    let is_final = call.state.is_final();
    if !is_final && let Some(id) = prefetch::arm(txn, call, now).await? {
        armed.push((prefetch_caller::NAME, id));
    }
    if !(is_final && call.duration_secs.is_some()) {
        // If the final callback (or its duration) never comes, ask Exotel, counting from the
        // call's latest event: a long call keeps its reconcile window open while events come.
        let new = NewRun::for_call(&reconcile::SPEC, call);
        let first_poll = later(call.last_event_at, settings.reconcile.delay).max(now);
        let note = "re-armed by a new event";
        if let Some(id) = runs::reschedule(txn, new, first_poll, note, now).await? {
            armed.push((reconcile::NAME, id));
        }
    }
    if is_final {
        let new = NewRun::for_call(&charge::SPEC, call);
        let key = new.dedupe_key.clone();
        // A duration from a lesser source may yet be bettered (a StatusCallback's
        // ConversationDuration after a Passthru's DialCallDuration): let it settle first.
        let settled = merge::has_best_duration(call) || call.duration_secs.is_none();
        let charge_at = if settled {
            now
        } else {
            later(now, settings.charge_settle)
        };
        let armed_charge = if charge::needs_another_run(call) {
            let note = "re-armed: a duration arrived or improved";
            runs::ensure(txn, new, Rearm::IfFinished, note, now).await?
        } else {
            match runs::insert_scheduled(txn, new, false, charge_at, now).await? {
                Some(id) => Some(id),
                None if settled => runs::bring_forward(txn, &charge::NAME, &key, now).await?,
                None => None,
            }
        };
        if let Some(id) = armed_charge {
            armed.push((charge::NAME, id));
        }
    }
    Ok(armed)
}
