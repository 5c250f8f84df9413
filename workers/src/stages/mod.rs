//! One module per stage. Each handler loads rows by id, does one thing, records its result and
//! names the follow-up runs to push.

pub mod charge;
pub mod ingest;
pub mod reconcile;
pub mod recording_upload;

use caly_core::calls::find_call;
use caly_core::{App, CoreError};
use caly_entities::{call, stage_run, tenant};
use caly_jobs::Stage;
use sea_orm::EntityTrait;

/// The call a per-call stage run belongs to (tenant-scoped).
pub async fn load_call(app: &App, run: &stage_run::Model) -> Result<call::Model, StageError> {
    let call_id = run
        .call_id
        .ok_or_else(|| StageError::Permanent(format!("the {} run has no call", run.stage)))?;
    Ok(find_call(&app.db, run.tenant_id, call_id).await?)
}

/// The tenant a stage run belongs to.
pub async fn load_tenant(app: &App, run: &stage_run::Model) -> Result<tenant::Model, StageError> {
    tenant::Entity::find_by_id(run.tenant_id)
        .one(&app.db)
        .await?
        .ok_or_else(|| StageError::Permanent("the tenant is gone".into()))
}

/// What a successful attempt produced.
#[derive(Debug, Clone, Default)]
pub struct StageOutcome {
    /// A short note stored on the run.
    pub note: String,
    /// The call the run belongs to (ingest learns it).
    pub call_id: Option<i64>,
    /// Follow-up runs that became pending and should be pushed.
    pub follow_ups: Vec<(Stage, i64)>,
}

impl StageOutcome {
    /// An outcome with just a note.
    pub fn note(call_id: Option<i64>, note: impl Into<String>) -> Self {
        StageOutcome {
            note: note.into(),
            call_id,
            follow_ups: Vec::new(),
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StageError {
    /// May succeed later: retried with backoff.
    #[error("{0}")]
    Transient(String),
    /// Cannot succeed: the run fails at once.
    #[error("{0}")]
    Permanent(String),
    /// Not ready yet: try again after this wait (the handler bounds how long).
    #[error("{1}")]
    RetryAfter(std::time::Duration, String),
}

impl From<CoreError> for StageError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Invalid { .. } | CoreError::Crypto(_) => {
                StageError::Permanent(err.to_string())
            }
            other => StageError::Transient(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for StageError {
    fn from(err: sea_orm::DbErr) -> Self {
        StageError::Transient(format!("database error: {err}"))
    }
}
