//! `charge`: bills a call that reached a final state, exactly once, in integer paise.

use crate::billing::{ChargeOutcome, charge_call};
use crate::pipeline::stage::{Failure, Lane, Stage, StageError, StageOutcome, StageSpec};
use crate::{App, BillingStatus};
use async_trait::async_trait;
use caly_entities::{call, stage_run};
use caly_jobs::{CallId, StageName};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The stage's name.
pub const NAME: StageName = StageName::new("charge");

/// Its spec.
pub const SPEC: StageSpec = StageSpec {
    name: NAME,
    follow_ups: &[],
    timeout: Duration::from_secs(60),
    max_attempts: None,
    lane: Lane::Batch,
    call_key: Some(|call| call.to_string()),
};

/// True when a final call's charge must run again: a duration arrived for a call awaiting one,
/// or a better duration arrived after it was charged.
pub fn needs_another_run(call: &call::Model) -> bool {
    match call.billing_status {
        BillingStatus::AwaitingDuration => call.duration_secs.is_some(),
        BillingStatus::AdjustmentDue => true,
        BillingStatus::NotFinal | BillingStatus::Pending | BillingStatus::Charged => false,
    }
}

/// The stage.
pub struct Charge;

#[async_trait]
impl Stage for Charge {
    type Subject = call::Model;

    fn spec(&self) -> StageSpec {
        SPEC
    }

    async fn run(
        &self,
        app: &App,
        _run: &stage_run::Model,
        call: call::Model,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let note = match charge_call(&app.db, &call, now).await? {
            ChargeOutcome::NotFinal => "call is not over yet".to_string(),
            ChargeOutcome::AlreadyCharged => "already charged".to_string(),
            ChargeOutcome::AwaitingDuration => "awaiting duration".to_string(),
            ChargeOutcome::DurationArrivedMeanwhile => {
                return Err(StageError::Transient(Failure::Raced(
                    "a duration arrived while charging",
                )));
            }
            ChargeOutcome::Charged {
                amount_paise,
                seconds,
                rate_paise_per_min,
            } => format!(
                "charged {amount_paise} paise for {seconds}s at {rate_paise_per_min} paise/min"
            ),
            ChargeOutcome::Adjusted {
                delta_paise,
                total_paise,
            } => format!("adjusted by {delta_paise} paise to {total_paise} paise"),
        };
        Ok(StageOutcome::note(Some(CallId(call.id)), note))
    }
}
