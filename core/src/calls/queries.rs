//! Tenant-scoped reads of calls: every query here filters by tenant id, so one tenant can never
//! see another's calls, events, stage runs, recordings or charges.

use crate::billing::ledger;
use crate::pipeline::run_view::RunView;
use crate::platform::pagination::{Page, PageRequest, paginate};
use crate::platform::time;
use crate::{CallState, CoreError};
use caly_entities::status::{Channel, LedgerKind};
use caly_entities::{call, ledger_entry, raw_event, recording, stage_run, turn};
use caly_jobs::{CallId, TenantId};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use serde::Serialize;

/// Filters for listing calls. Dates are IST calendar days, inclusive, of the day each call
/// happened (Exotel's StartTime, else when its first webhook arrived).
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls in this state.
    pub state: Option<CallState>,
    /// Only calls on this channel.
    pub channel: Option<Channel>,
    /// First IST day.
    pub from: Option<NaiveDate>,
    /// Last IST day.
    pub to: Option<NaiveDate>,
    /// Only calls with a turn of this intent (`order_status`, `returns`, …).
    pub intent: Option<String>,
    /// Only calls that ended this way: `resolved`, `handed_off` or `callback`.
    pub outcome: Option<String>,
    /// Only calls from a number containing these digits (other characters are ignored; a
    /// leading trunk `0` or country code `91` in a 11–12 digit search is dropped).
    pub caller: Option<String>,
    /// Only calls on this IST weekday (0 = Monday), within `from..=to` (both needed).
    pub weekday: Option<u32>,
    /// Only calls in this IST hour of the day (0–23), within `from..=to` (both needed).
    pub hour: Option<u32>,
}

/// The call outcomes a list can be filtered by.
pub const OUTCOMES: [&str; 3] = ["resolved", "handed_off", "callback"];

impl CallFilter {
    /// The digits to look for in the caller's number, if the search has any.
    pub fn caller_digits(&self) -> Option<String> {
        let digits: String = self
            .caller
            .as_deref()?
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let local = match digits.len() {
            11 if digits.starts_with('0') => &digits[1..],
            12 if digits.starts_with("91") => &digits[2..],
            _ => &digits[..],
        };
        (!local.is_empty()).then(|| local.to_string())
    }

    /// The UTC spans the weekday and hour filters keep inside `from..=to`: one per matching
    /// day (the whole day, or that hour of it). `None` when neither is asked for or the range
    /// is open.
    pub fn slots(&self) -> Option<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
        if self.weekday.is_none() && self.hour.is_none() {
            return None;
        }
        let (from, to) = (self.from?, self.to?);
        let mut slots = Vec::new();
        let mut day = from;
        while day <= to {
            if self
                .weekday
                .is_none_or(|w| day.weekday().num_days_from_monday() == w)
            {
                let start = time::ist_day_start(day);
                slots.push(match self.hour {
                    Some(hour) => {
                        let at = start + Duration::hours(i64::from(hour));
                        (at, at + Duration::hours(1))
                    }
                    None => (start, start + Duration::days(1)),
                });
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        Some(slots)
    }

    /// The tenant's calls this filter keeps, unordered.
    pub fn select(&self, tenant: TenantId) -> Select<call::Entity> {
        let mut query = call::Entity::find().filter(call::Column::TenantId.eq(tenant.0));
        if let Some(state) = self.state {
            query = query.filter(call::Column::State.eq(state));
        }
        if let Some(channel) = self.channel {
            query = query.filter(call::Column::Channel.eq(channel));
        }
        if let Some(from) = self.from {
            query = query.filter(call::Column::HappenedAt.gte(time::ist_day_start(from)));
        }
        if let Some(to) = self.to.and_then(|d| d.succ_opt()) {
            query = query.filter(call::Column::HappenedAt.lt(time::ist_day_start(to)));
        }
        if let Some(outcome) = &self.outcome {
            query = query.filter(call::Column::Outcome.eq(outcome.as_str()));
        }
        if let Some(intent) = &self.intent {
            let with_intent = Query::select()
                .column(turn::Column::CallId)
                .from(turn::Entity)
                .and_where(turn::Column::TenantId.eq(tenant.0))
                .and_where(turn::Column::Intent.eq(intent.as_str()))
                .to_owned();
            query = query.filter(call::Column::Id.in_subquery(with_intent));
        }
        if let Some(slots) = self.slots() {
            let mut any = Condition::any();
            for (start, end) in slots {
                any = any.add(
                    Condition::all()
                        .add(call::Column::HappenedAt.gte(start))
                        .add(call::Column::HappenedAt.lt(end)),
                );
            }
            // No slot in the range: nothing matches.
            query = query.filter(any.add(call::Column::Id.lt(0)));
        }
        if let Some(digits) = self.caller_digits() {
            // Digits only: nothing in the pattern can be a LIKE wildcard.
            query = query.filter(call::Column::FromNumber.like(format!("%{digits}%")));
        }
        query
    }
}

/// Lists a tenant's calls, newest first.
pub async fn list_calls(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &CallFilter,
    page: PageRequest,
) -> Result<Page<call::Model>, CoreError> {
    let query = filter
        .select(tenant)
        .order_by_desc(call::Column::HappenedAt)
        .order_by_desc(call::Column::Id);
    paginate(db, query, page).await
}

/// How many of the filtered calls ended each way (`None`: not ended, or no outcome recorded).
pub async fn count_outcomes(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &CallFilter,
) -> Result<Vec<(Option<String>, i64)>, CoreError> {
    Ok(filter
        .select(tenant)
        .select_only()
        .column(call::Column::Outcome)
        .column_as(call::Column::Id.count(), "n")
        .group_by(call::Column::Outcome)
        .into_tuple::<(Option<String>, i64)>()
        .all(db)
        .await?)
}

/// The intents the tenant's turns have had, for the call list's filter.
pub async fn known_intents(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<String>, CoreError> {
    Ok(turn::Entity::find()
        .select_only()
        .column(turn::Column::Intent)
        .filter(turn::Column::TenantId.eq(tenant.0))
        .filter(turn::Column::Intent.is_not_null())
        .distinct()
        .order_by_asc(turn::Column::Intent)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// A call with everything known about it.
#[derive(Debug, Clone, Serialize)]
pub struct CallDetail {
    /// The call.
    pub call: call::Model,
    /// Every delivery about it, oldest first.
    pub raw_events: Vec<raw_event::Model>,
    /// Every stage run, oldest first, as the tenant sees it.
    pub stages: Vec<RunView>,
    /// Stored recordings.
    pub recordings: Vec<recording::Model>,
    /// Its charge, once charged.
    pub charge: Option<ledger_entry::Model>,
    /// Adjustments to the charge (better durations that arrived later), oldest first.
    pub adjustments: Vec<ledger_entry::Model>,
}

/// One of the tenant's calls by id.
pub async fn find_call(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
) -> Result<call::Model, CoreError> {
    call::Entity::find_by_id(call.0)
        .filter(call::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("call"))
}

/// One of the tenant's calls by its CallSid.
pub async fn find_call_by_sid(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call_sid: &str,
) -> Result<call::Model, CoreError> {
    call::Entity::find()
        .filter(call::Column::TenantId.eq(tenant.0))
        .filter(call::Column::CallSid.eq(call_sid))
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("call"))
}

/// A call with its events, stage runs, recordings, charge and adjustments.
pub async fn call_detail(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call_id: CallId,
) -> Result<CallDetail, CoreError> {
    let call = find_call(db, tenant, call_id).await?;
    let raw_events = raw_event::Entity::find()
        .filter(raw_event::Column::TenantId.eq(tenant.0))
        .filter(raw_event::Column::CallSid.eq(call.call_sid.as_str()))
        .order_by_asc(raw_event::Column::Id)
        .all(db)
        .await?;
    let stages = stage_run::Entity::find()
        .filter(stage_run::Column::TenantId.eq(tenant.0))
        .filter(stage_run::Column::CallSid.eq(call.call_sid.as_str()))
        .order_by_asc(stage_run::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(RunView::from)
        .collect();
    let recordings = recording::Entity::find()
        .filter(recording::Column::TenantId.eq(tenant.0))
        .filter(recording::Column::CallId.eq(call.id))
        .all(db)
        .await?;
    let (charges, adjustments) = ledger::call_entries(db, tenant, call_id)
        .await?
        .into_iter()
        .partition::<Vec<_>, _>(|e| e.kind == LedgerKind::Charge);
    Ok(CallDetail {
        call,
        raw_events,
        stages,
        recordings,
        charge: charges.into_iter().next(),
        adjustments,
    })
}

/// The call's first stored recording.
pub async fn find_recording(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    call: CallId,
) -> Result<recording::Model, CoreError> {
    recording::Entity::find()
        .filter(recording::Column::TenantId.eq(tenant.0))
        .filter(recording::Column::CallId.eq(call.0))
        .order_by_asc(recording::Column::Id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("recording"))
}
