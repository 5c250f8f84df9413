//! `ingest`: applies one raw Exotel event to its call (creating it), moves the state machine,
//! and arms `recording_upload` and `charge` when the call has a recording or reached a final state.

use super::{StageError, StageOutcome};
use caly_core::call_state::CallState;
use caly_core::calls::call_stage_key;
use caly_core::exotel::{CallFacts, DurationSource, EventFields, HookKind};
use caly_core::runs::{self, NewRun};
use caly_core::{App, db, ist, phone};
use caly_entities::{call, raw_event, stage_run};
use caly_jobs::Stage;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};

/// Billing statuses of a call.
pub mod billing_status {
    /// The call is not over.
    pub const NOT_FINAL: &str = "not_final";
    /// Final; the charge stage has not run yet.
    pub const PENDING: &str = "pending";
    /// Final, but no duration is known yet: visible and waiting.
    pub const AWAITING_DURATION: &str = "awaiting_duration";
    /// Charged.
    pub const CHARGED: &str = "charged";
}

/// Runs the stage.
pub async fn run(
    app: &App,
    run: &stage_run::Model,
    now: DateTime<Utc>,
) -> Result<StageOutcome, StageError> {
    let event_id = run
        .raw_event_id
        .ok_or_else(|| StageError::Permanent("ingest run has no raw event".into()))?;
    let event = raw_event::Entity::find_by_id(event_id)
        .filter(raw_event::Column::TenantId.eq(run.tenant_id))
        .one(&app.db)
        .await?
        .ok_or_else(|| StageError::Permanent(format!("raw event {event_id} is missing")))?;
    let fields: EventFields = serde_json::from_str(&event.fields)
        .map_err(|e| StageError::Permanent(format!("stored fields are unreadable: {e}")))?;
    let kind = HookKind::parse(&event.kind).unwrap_or(HookKind::Passthru);
    let facts = CallFacts::from_fields(kind, &fields);

    let txn = app.db.begin().await?;
    let current = load_or_create(&txn, run, now).await?;
    let merged = merge(current.clone(), &facts, &run.call_sid, now);
    let call = if merged != current {
        merged
            .clone()
            .into_active_model()
            .reset_all()
            .update(&txn)
            .await?
    } else {
        current
    };
    let timing = FollowUpTiming {
        reconcile_delay: app.settings.reconcile.delay,
        charge_settle: app.settings.charge_settle,
    };
    let follow_ups = arm_follow_ups(&txn, &call, timing, now).await?;
    txn.commit().await?;
    Ok(StageOutcome {
        note: format!("call {} is {}", call.id, call.state),
        call_id: Some(call.id),
        follow_ups,
    })
}

async fn load_or_create(
    txn: &impl ConnectionTrait,
    run: &stage_run::Model,
    now: DateTime<Utc>,
) -> Result<call::Model, StageError> {
    let fresh = call::ActiveModel {
        tenant_id: Set(run.tenant_id),
        call_sid: Set(run.call_sid.clone()),
        state: Set(CallState::Ringing.as_str().to_string()),
        bot_answered: Set(false),
        billing_status: Set(billing_status::NOT_FINAL.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    call::Entity::insert(fresh)
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
        .ok_or_else(|| StageError::Transient("call row vanished".into()))
}

fn normalise(raw: &str, call_sid: &str, field: &str) -> Option<String> {
    let e164 = phone::to_e164(raw);
    if e164.is_none() {
        tracing::warn!(call_sid, field, "phone number not recognised; stored raw");
    }
    e164
}

fn parse_time(raw: &Option<String>, call_sid: &str, field: &str) -> Option<DateTime<Utc>> {
    let raw = raw.as_deref()?;
    let parsed = ist::parse_exotel_time(raw);
    if parsed.is_none() && raw != "1970-01-01 05:30:00" {
        tracing::warn!(
            call_sid,
            field,
            value = raw,
            "timestamp not recognised; ignored"
        );
    }
    parsed
}

/// Folds one event's facts into the call. Pure, so the rules are easy to test.
fn merge(
    mut call: call::Model,
    facts: &CallFacts,
    call_sid: &str,
    now: DateTime<Utc>,
) -> call::Model {
    call.bot_answered |= facts.bot_answered;
    let current = CallState::parse(&call.state).unwrap_or(CallState::Ringing);
    let incoming = facts.state.unwrap_or(current);
    let next = CallState::advance(current, incoming, call.bot_answered);
    call.state = next.as_str().to_string();
    if next.is_final() && call.billing_status == billing_status::NOT_FINAL {
        call.billing_status = billing_status::PENDING.to_string();
    }
    if let Some((secs, source)) = facts.duration {
        let better = call
            .duration_source
            .as_deref()
            .and_then(DurationSource::parse)
            .is_none_or(|known| source <= known);
        if better {
            call.duration_secs = Some(secs);
            call.duration_source = Some(source.as_str().to_string());
        }
    }
    if call.recording_url.is_none() {
        call.recording_url = facts.recording_url.clone();
    }
    if call.from_raw.is_none()
        && let Some(raw) = &facts.from_raw
    {
        call.from_number = normalise(raw, call_sid, "from");
        call.from_raw = Some(raw.clone());
    }
    if call.to_raw.is_none()
        && let Some(raw) = &facts.to_raw
    {
        call.to_number = normalise(raw, call_sid, "to");
        call.to_raw = Some(raw.clone());
    }
    if call.direction.is_none() {
        call.direction = facts.direction.clone();
    }
    if call.started_at.is_none() {
        call.started_at = parse_time(&facts.start_time_raw, call_sid, "StartTime");
    }
    if let Some(ended) = parse_time(&facts.end_time_raw, call_sid, "EndTime") {
        call.ended_at = Some(ended);
    }
    call.updated_at = now;
    call
}

/// When follow-up runs first become due.
#[derive(Debug, Clone, Copy)]
struct FollowUpTiming {
    reconcile_delay: std::time::Duration,
    charge_settle: std::time::Duration,
}

async fn arm_follow_ups(
    txn: &impl ConnectionTrait,
    call: &call::Model,
    timing: FollowUpTiming,
    now: DateTime<Utc>,
) -> Result<Vec<(Stage, i64)>, StageError> {
    let mut armed = Vec::new();
    let new_run = |stage| NewRun {
        tenant_id: call.tenant_id,
        call_sid: call.call_sid.clone(),
        call_id: Some(call.id),
        stage,
        dedupe_key: call_stage_key(call.id, stage),
        raw_event_id: None,
    };
    if call.recording_url.is_some()
        && let Some(id) = runs::ensure(txn, new_run(Stage::RecordingUpload), false, now).await?
    {
        armed.push((Stage::RecordingUpload, id));
    }
    let is_final = CallState::parse(&call.state).is_some_and(CallState::is_final);
    if !(is_final && call.duration_secs.is_some()) {
        // If the final callback (or its duration) never comes, ask Exotel later.
        let first_poll = now
            + chrono::Duration::from_std(timing.reconcile_delay)
                .unwrap_or(chrono::Duration::minutes(2));
        if let Some(id) =
            runs::insert_scheduled(txn, new_run(Stage::Reconcile), false, first_poll, now).await?
        {
            armed.push((Stage::Reconcile, id));
        }
    }
    if is_final {
        // A call left waiting for its duration is charged again once a duration arrives.
        let rearm = call.billing_status == billing_status::AWAITING_DURATION
            && call.duration_secs.is_some();
        // A duration from a lesser source may yet be bettered (a StatusCallback's
        // ConversationDuration after a Passthru's DialCallDuration): let it settle first.
        let best_known = call.duration_source.as_deref()
            == Some(DurationSource::ConversationDuration.as_str())
            || call.duration_secs.is_none();
        let charge_at = if best_known {
            now
        } else {
            now + chrono::Duration::from_std(timing.charge_settle).unwrap_or_default()
        };
        let armed_charge = if rearm {
            runs::ensure(txn, new_run(Stage::Charge), true, now).await?
        } else {
            runs::insert_scheduled(txn, new_run(Stage::Charge), false, charge_at, now).await?
        };
        if let Some(id) = armed_charge {
            armed.push((Stage::Charge, id));
        }
    }
    Ok(armed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_call() -> call::Model {
        let now = Utc::now();
        call::Model {
            id: 1,
            tenant_id: 1,
            call_sid: "c".into(),
            state: "ringing".into(),
            from_number: None,
            from_raw: None,
            to_number: None,
            to_raw: None,
            direction: None,
            bot_answered: false,
            duration_secs: None,
            duration_source: None,
            recording_url: None,
            started_at: None,
            ended_at: None,
            billing_status: billing_status::NOT_FINAL.into(),
            cost_paise: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn better_duration_sources_win_and_worse_ones_do_not() {
        let now = Utc::now();
        let dial = CallFacts {
            duration: Some((10, DurationSource::DialCallDuration)),
            ..Default::default()
        };
        let conversation = CallFacts {
            duration: Some((320, DurationSource::ConversationDuration)),
            state: Some(CallState::Completed),
            ..Default::default()
        };
        let call = merge(blank_call(), &dial, "c", now);
        let call = merge(call, &conversation, "c", now);
        let call = merge(call, &dial, "c", now);
        assert_eq!(call.duration_secs, Some(320));
        assert_eq!(call.state, "completed");
        assert_eq!(call.billing_status, billing_status::PENDING);
    }

    #[test]
    fn odd_numbers_are_kept_raw() {
        let facts = CallFacts {
            from_raw: Some("anonymous".into()),
            to_raw: Some("08040000000".into()),
            ..Default::default()
        };
        let call = merge(blank_call(), &facts, "c", Utc::now());
        assert_eq!(call.from_number, None);
        assert_eq!(call.from_raw.as_deref(), Some("anonymous"));
        assert_eq!(call.to_number.as_deref(), Some("+918040000000"));
    }
}
