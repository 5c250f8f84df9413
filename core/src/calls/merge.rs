//! How one event's facts fold into its call: the state moves forward, the best duration source
//! wins, numbers are normalised to E.164 (odd ones kept raw), IST times become UTC, and a call
//! that turns final becomes due for billing. Pure, so the rules are easy to test.

use super::{phone, state};
use crate::integrations::exotel::{CallFacts, DurationSource};
use crate::platform::time;
use crate::{BillingStatus, CallState};
use caly_entities::call;
use caly_entities::status::Channel;
use chrono::{DateTime, Utc};

/// A new call row's starting values, before any event is merged into it. `received_at` is
/// when the event that creates it arrived.
pub fn fresh(
    tenant_id: i64,
    call_sid: &str,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> call::ActiveModel {
    use sea_orm::Set;
    call::ActiveModel {
        tenant_id: Set(tenant_id),
        call_sid: Set(call_sid.to_string()),
        channel: Set(Channel::Phone),
        state: Set(CallState::Ringing),
        bot_answered: Set(false),
        billing_status: Set(BillingStatus::NotFinal),
        happened_at: Set(received_at),
        last_event_at: Set(received_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Folds the facts of one event, which arrived at `received_at`, into the call.
pub fn merge(
    mut call: call::Model,
    facts: &CallFacts,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> call::Model {
    call.bot_answered |= facts.bot_answered;
    let incoming = facts.state.unwrap_or(call.state);
    call.state = state::advance(call.state, incoming, call.bot_answered);
    if call.state.is_final() && call.billing_status == BillingStatus::NotFinal {
        call.billing_status = BillingStatus::Pending;
    }
    if let Some((secs, source)) = facts.duration {
        let better = call
            .duration_source
            .as_deref()
            .and_then(DurationSource::parse)
            .is_none_or(|known| source <= known);
        if better {
            let improved = call.duration_source.as_deref() != Some(source.as_str());
            call.duration_secs = Some(secs);
            call.duration_source = Some(source.as_str().to_string());
            if improved && call.billing_status == BillingStatus::Charged {
                call.billing_status = BillingStatus::AdjustmentDue;
            }
        }
    }
    if call.recording_url.is_none() {
        call.recording_url = facts.recording_url.clone();
    }
    let call_sid = call.call_sid.clone();
    if call.from_raw.is_none()
        && let Some(raw) = &facts.from_raw
    {
        call.from_number = normalise(raw, &call_sid, "from");
        call.from_raw = Some(raw.clone());
    }
    if call.to_raw.is_none()
        && let Some(raw) = &facts.to_raw
    {
        call.to_number = normalise(raw, &call_sid, "to");
        call.to_raw = Some(raw.clone());
    }
    if call.direction.is_none() {
        call.direction = facts.direction.clone();
    }
    // The latest number dialled wins: a handoff passed on to a second person is theirs.
    if let Some(raw) = &facts.dialed_raw {
        call.dialed_number = normalise(raw, &call_sid, "DialWhomNumber").or(call.dialed_number);
    }
    if call.started_at.is_none() {
        call.started_at = parse_time(&facts.start_time_raw, &call_sid, "StartTime");
    }
    if let Some(ended) = parse_time(&facts.end_time_raw, &call_sid, "EndTime") {
        call.ended_at = Some(ended);
    }
    // The call's day is the day it happened, not the day a backlogged worker saw it.
    call.happened_at = call.started_at.unwrap_or(call.happened_at.min(received_at));
    call.last_event_at = call.last_event_at.max(received_at);
    call.updated_at = now;
    call
}

/// True when the call's duration came from its best source, so no better one is to come.
pub fn has_best_duration(call: &call::Model) -> bool {
    call.duration_source.as_deref() == Some(DurationSource::ConversationDuration.as_str())
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
    let parsed = time::parse_exotel_time(raw);
    if parsed.is_none() && raw != time::EXOTEL_UNSET_TIME {
        tracing::warn!(
            call_sid,
            field,
            value = raw,
            "timestamp not recognised; ignored"
        );
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_call() -> call::Model {
        let now = Utc::now();
        call::Model {
            dialed_number: None,
            id: 1,
            tenant_id: 1,
            call_sid: "c".into(),
            channel: Channel::Phone,
            state: CallState::Ringing,
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
            billing_status: BillingStatus::NotFinal,
            cost_paise: None,
            outcome: None,
            outcome_reason: None,
            happened_at: now,
            last_event_at: now,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_number_dialled_for_a_handoff_is_kept_and_a_later_one_wins() {
        let now = Utc::now();
        let dialled = |raw: &str| CallFacts {
            dialed_raw: Some(raw.into()),
            ..Default::default()
        };
        let call = merge(blank_call(), &dialled("09812345678"), now, now);
        assert_eq!(call.dialed_number.as_deref(), Some("+919812345678"));
        let call = merge(call, &CallFacts::default(), now, now);
        assert_eq!(call.dialed_number.as_deref(), Some("+919812345678"), "kept");
        let call = merge(call, &dialled("+919900011122"), now, now);
        assert_eq!(call.dialed_number.as_deref(), Some("+919900011122"));
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
        let call = merge(blank_call(), &dial, now, now);
        let call = merge(call, &conversation, now, now);
        let call = merge(call, &dial, now, now);
        assert_eq!(call.duration_secs, Some(320));
        assert_eq!(call.state, "completed");
        assert_eq!(call.billing_status, BillingStatus::Pending);
        assert!(has_best_duration(&call));
    }

    #[test]
    fn a_call_happens_when_it_started_else_when_its_first_event_arrived() {
        let t = |m| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 21, 18, m, 0).unwrap();
        let mut call = blank_call();
        (call.happened_at, call.last_event_at) = (t(40), t(40));
        // An event that arrived earlier, processed later (a backlog or a retry).
        let call = merge(call, &CallFacts::default(), t(30), t(59));
        assert_eq!(call.happened_at, t(30), "the first arrival");
        assert_eq!(call.last_event_at, t(40), "the latest arrival");
        let started = CallFacts {
            // 23:50 IST on the 21st is 18:20 UTC.
            start_time_raw: Some("2026-11-21 23:50:00".into()),
            ..Default::default()
        };
        let mut blank = blank_call();
        blank.happened_at = t(40);
        let call = merge(blank, &started, t(45), t(59));
        assert_eq!(call.happened_at, t(20));
    }

    #[test]
    fn a_better_duration_after_the_charge_makes_an_adjustment_due() {
        let now = Utc::now();
        let mut call = blank_call();
        call.state = CallState::Completed;
        call.billing_status = BillingStatus::Charged;
        call.duration_secs = Some(190);
        call.duration_source = Some("dial_call_duration".into());
        let same = CallFacts {
            duration: Some((190, DurationSource::DialCallDuration)),
            ..Default::default()
        };
        let unchanged = merge(call.clone(), &same, now, now);
        assert_eq!(unchanged.billing_status, BillingStatus::Charged);
        let better = CallFacts {
            duration: Some((125, DurationSource::ConversationDuration)),
            ..Default::default()
        };
        let call = merge(call, &better, now, now);
        assert_eq!(call.billing_status, BillingStatus::AdjustmentDue);
        assert_eq!(call.duration_secs, Some(125));
    }

    #[test]
    fn odd_numbers_are_kept_raw() {
        let facts = CallFacts {
            from_raw: Some("anonymous".into()),
            to_raw: Some("08040000000".into()),
            ..Default::default()
        };
        let call = merge(blank_call(), &facts, Utc::now(), Utc::now());
        assert_eq!(call.from_number, None);
        assert_eq!(call.from_raw.as_deref(), Some("anonymous"));
        assert_eq!(call.to_number.as_deref(), Some("+918040000000"));
    }

    #[test]
    fn a_bot_answered_call_is_never_missed() {
        let facts = CallFacts {
            bot_answered: true,
            state: Some(CallState::Missed),
            ..Default::default()
        };
        let call = merge(blank_call(), &facts, Utc::now(), Utc::now());
        assert_eq!(call.state, CallState::Completed);
    }
}
