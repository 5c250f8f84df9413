//! A stage run as a tenant sees it: everything but the internal error text, which becomes a
//! stable code and a sentence ([`FailureCode`]). Operators read the full row.

use super::failure_code::FailureCode;
use crate::RunStatus;
use caly_entities::stage_run;
use caly_entities::status::RunSubject;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A failure as a tenant sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicFailure {
    /// Stable code.
    pub code: FailureCode,
    /// A sentence for the store owner.
    pub message: &'static str,
}

/// A stage run for tenant eyes.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// Run id.
    pub id: i64,
    /// Stage name.
    pub stage: String,
    /// A call or the tenant.
    pub subject: RunSubject,
    /// The call's CallSid, for call runs.
    pub call_sid: String,
    /// The call, for call runs.
    pub call_id: Option<i64>,
    /// Natural key within the stage.
    pub dedupe_key: String,
    /// Where the run is.
    pub status: RunStatus,
    /// Attempts used.
    pub attempts: i32,
    /// "Not ready yet" polls (Exotel had not published the data yet).
    pub polls: i32,
    /// Earliest next attempt.
    pub next_run_at: DateTime<Utc>,
    /// How the last success ended.
    pub outcome: Option<String>,
    /// The last failure, as code and sentence.
    pub error: Option<PublicFailure>,
    /// For scheduled runs: the tick.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change (for a failed run: when it failed).
    pub updated_at: DateTime<Utc>,
}

impl From<stage_run::Model> for RunView {
    fn from(run: stage_run::Model) -> Self {
        let error = run.last_error.as_ref().map(|_| {
            let code = FailureCode::parse(run.error_code.as_deref());
            PublicFailure {
                code,
                message: code.message(),
            }
        });
        RunView {
            id: run.id,
            stage: run.stage,
            subject: run.subject,
            call_sid: run.call_sid,
            call_id: run.call_id,
            dedupe_key: run.dedupe_key,
            status: run.status,
            attempts: run.attempts,
            polls: run.polls,
            next_run_at: run.next_run_at,
            outcome: run.outcome,
            error,
            scheduled_for: run.scheduled_for,
            created_at: run.created_at,
            updated_at: run.updated_at,
        }
    }
}
