//! A phone call on a tenant's line: one row per (tenant, CallSid).

use crate::status::{BillingStatus, CallState, Channel};
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A call and what is known about it so far.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "calls")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Owning tenant.
    pub tenant_id: i64,
    /// Exotel CallSid (`text-…` for text conversations).
    pub call_sid: String,
    /// Phone (Exotel) or text.
    pub channel: Channel,
    /// Where the call is in its life.
    pub state: CallState,
    /// Caller in E.164, when the raw value could be normalised.
    pub from_number: Option<String>,
    /// Caller as sent by Exotel.
    pub from_raw: Option<String>,
    /// Dialled number in E.164.
    pub to_number: Option<String>,
    /// Dialled number as sent.
    pub to_raw: Option<String>,
    /// Direction as sent (`incoming`, `outbound-api`, ...).
    pub direction: Option<String>,
    /// True once any event showed the voicebot took the call.
    pub bot_answered: bool,
    /// Best known billable seconds.
    pub duration_secs: Option<i64>,
    /// Where `duration_secs` came from.
    pub duration_source: Option<String>,
    /// Exotel's (private) recording URL.
    pub recording_url: Option<String>,
    /// Start time (UTC) when Exotel sent a parseable one.
    pub started_at: Option<DateTimeUtc>,
    /// End time (UTC) when Exotel sent a parseable one.
    pub ended_at: Option<DateTimeUtc>,
    /// Where the call is in billing.
    pub billing_status: BillingStatus,
    /// What the call costs so far: its charge plus adjustments, once charged.
    pub cost_paise: Option<i64>,
    /// `resolved` (by the AI), `handed_off` (to a person) or `callback` (a person calls back),
    /// once the voicebot is done with the call.
    pub outcome: Option<String>,
    /// Why, in a word: `caller_asked`, `complaint`, `misunderstood`, `provider_failed`,
    /// `limit`, `send_all_to_human`, `caller_hung_up`, `goodbye`, …
    pub outcome_reason: Option<String>,
    /// When the call happened: Exotel's StartTime, else when its first webhook arrived. The
    /// call's (IST) day in lists and reports.
    pub happened_at: DateTimeUtc,
    /// When its latest event arrived (reconciliation waits from here).
    pub last_event_at: DateTimeUtc,
    /// When the call row was created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// The number Exotel's Connect applet dialled (`DialWhomNumber`, E.164): the person who
    /// took the handoff, matched to a member's phone number.
    pub dialed_number: Option<String>,
}

/// No ORM relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
