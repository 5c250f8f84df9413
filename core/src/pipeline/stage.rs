//! The stage contract. A stage is one module: a [`StageSpec`] (name, queue, follow-ups,
//! timeout, attempt limit, natural key per call) and a [`Stage::run`] over its typed subject:
//! a call, a raw event, a tenant ([`TenantSubject`]) or the platform ([`PlatformSubject`]).
//! The runner does everything common (load the run, claim it, load the subject, catch panics,
//! cut off a hung attempt, record the result, push follow-ups); a stage only does its one thing.

use crate::App;
use crate::CoreError;
use crate::pipeline::failure_code::FailureCode;
use async_trait::async_trait;
use caly_entities::{call, raw_event, stage_run, tenant};
use caly_jobs::{CallId, StageJob, StageName, StageRunId, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

/// What describes a stage, apart from what it does.
#[derive(Debug, Clone)]
pub struct StageSpec {
    /// Its stable name; its queue is named after it.
    pub name: StageName,
    /// The stages whose runs it may arm.
    pub follow_ups: &'static [StageName],
    /// Longest one attempt may run before it is cut off and retried.
    pub timeout: Duration,
    /// Attempts before a run fails for good; `None` uses `CALY_MAX_ATTEMPTS`.
    pub max_attempts: Option<i32>,
    /// Which lane its jobs travel: batch (polled apalis queues) or live (woken on push).
    pub lane: Lane,
    /// The natural key of this stage's run for a call, when the stage runs once per call
    /// (`None` for stages keyed otherwise, such as ingest's one run per event).
    pub call_key: Option<fn(CallId) -> String>,
}

/// How a stage's jobs reach workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Background work on apalis queues, polled: ingest, charges, uploads, reports.
    Batch,
    /// A caller is waiting: own queues whose workers are woken on push (live turns).
    Live,
}

impl StageSpec {
    /// The queue this stage's jobs travel on (one per stage, named after it).
    pub fn queue(&self) -> &StageName {
        &self.name
    }
}

/// The row a stage run is about, loaded by the runner before the stage runs.
#[async_trait]
pub trait Subject: Sized + Send + Sync + 'static {
    /// Loads the subject of a claimed run, within the run's tenant.
    async fn load(app: &App, run: &stage_run::Model) -> Result<Self, StageError>;

    /// Reads the subject of `job`'s run (and the input it names) alongside its claim rather
    /// than after it, where a caller waits (one round trip less). `None`, the default, when
    /// there is no such read or it found nothing: the runner then uses [`Subject::load`],
    /// which says what is missing.
    async fn read_ahead(_app: &App, _job: &StageJob) -> Option<Self> {
        None
    }
}

/// A subject read ahead of the claim, its type erased (the registry holds every stage).
pub(crate) type ReadAhead = Box<dyn std::any::Any + Send>;

#[async_trait]
impl Subject for raw_event::Model {
    async fn load(app: &App, run: &stage_run::Model) -> Result<Self, StageError> {
        let event_id = run
            .raw_event_id
            .ok_or(StageError::Permanent(Failure::NoSubject("raw event")))?;
        raw_event::Entity::find_by_id(event_id)
            .filter(raw_event::Column::TenantId.eq(run.tenant_id))
            .one(&app.db)
            .await?
            .ok_or(StageError::Permanent(Failure::SubjectGone("raw event")))
    }
}

#[async_trait]
impl Subject for call::Model {
    async fn load(app: &App, run: &stage_run::Model) -> Result<Self, StageError> {
        let call_id = run
            .call_id
            .ok_or(StageError::Permanent(Failure::NoSubject("call")))?;
        Ok(crate::calls::find_call(&app.db, TenantId(run.tenant_id), CallId(call_id)).await?)
    }
}

pub use super::turn_subject::{HandOn, TurnSubject};

/// The subject of a run about one tenant: the tenant and the run's natural key
/// (`invoice:{tenant}:2026-11`).
#[derive(Debug, Clone)]
pub struct TenantSubject {
    /// The tenant.
    pub tenant: tenant::Model,
    /// The run's natural key.
    pub key: String,
    /// The cron tick, for scheduled runs.
    pub scheduled_for: Option<DateTime<Utc>>,
}

#[async_trait]
impl Subject for TenantSubject {
    async fn load(app: &App, run: &stage_run::Model) -> Result<Self, StageError> {
        Ok(TenantSubject {
            tenant: tenant_of(app, run).await?,
            key: run.dedupe_key.clone(),
            scheduled_for: run.scheduled_for,
        })
    }
}

/// The subject of a run about the whole deployment: its natural key (`backup:2026-11-22`).
#[derive(Debug, Clone)]
pub struct PlatformSubject {
    /// The run's natural key.
    pub key: String,
    /// The cron tick, for scheduled runs.
    pub scheduled_for: Option<DateTime<Utc>>,
}

#[async_trait]
impl Subject for PlatformSubject {
    async fn load(_app: &App, run: &stage_run::Model) -> Result<Self, StageError> {
        Ok(PlatformSubject {
            key: run.dedupe_key.clone(),
            scheduled_for: run.scheduled_for,
        })
    }
}

/// The tenant a run belongs to; a run whose tenant is gone cannot succeed.
pub async fn tenant_of(app: &App, run: &stage_run::Model) -> Result<tenant::Model, StageError> {
    tenant::Entity::find_by_id(run.tenant_id)
        .one(&app.db)
        .await?
        .ok_or(StageError::Permanent(Failure::SubjectGone("tenant")))
}

/// One stage of the pipeline. Implement it in one module and add one line to
/// [`crate::pipeline::registry::StageRegistry::builtin`].
#[async_trait]
pub trait Stage: Send + Sync + 'static {
    /// What the stage works on.
    type Subject: Subject;

    /// Its name, follow-ups, timeout and attempt limit.
    fn spec(&self) -> StageSpec;

    /// Does the stage's one thing for a claimed run.
    async fn run(
        &self,
        app: &App,
        run: &stage_run::Model,
        subject: Self::Subject,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError>;
}

/// A stage with its subject type erased, as the registry holds it.
#[async_trait]
pub(crate) trait ErasedStage: Send + Sync {
    /// Loads the subject, then runs the stage.
    async fn read_ahead(&self, app: &App, job: &StageJob) -> Option<ReadAhead>;
    async fn load_and_run(
        &self,
        app: &App,
        run: &stage_run::Model,
        ahead: Option<ReadAhead>,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError>;
}

#[async_trait]
impl<S: Stage> ErasedStage for S {
    async fn read_ahead(&self, app: &App, job: &StageJob) -> Option<ReadAhead> {
        S::Subject::read_ahead(app, job)
            .await
            .map(|subject| Box::new(subject) as ReadAhead)
    }

    async fn load_and_run(
        &self,
        app: &App,
        run: &stage_run::Model,
        ahead: Option<ReadAhead>,
        now: DateTime<Utc>,
    ) -> Result<StageOutcome, StageError> {
        let subject = match ahead.and_then(|a| a.downcast::<S::Subject>().ok()) {
            Some(subject) => *subject,
            None => S::Subject::load(app, run).await?,
        };
        self.run(app, run, subject, now).await
    }
}

/// What a successful attempt produced.
#[derive(Debug, Clone, Default)]
pub struct StageOutcome {
    /// A short note stored on the run.
    pub note: String,
    /// The call the run belongs to (ingest learns it).
    pub call_id: Option<CallId>,
    /// Follow-up runs that became pending and should be pushed.
    pub follow_ups: Vec<(StageName, StageRunId)>,
    /// A live follow-up armed already claimed by this worker, which runs it at once.
    pub handed_on: Option<HandOn>,
}

impl StageOutcome {
    /// An outcome with just a note.
    pub fn note(call_id: Option<CallId>, note: impl Into<String>) -> Self {
        StageOutcome {
            note: note.into(),
            call_id,
            ..Default::default()
        }
    }
}

/// Why an attempt failed, and so whether and when it is tried again.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// May succeed later: retried with backoff until the attempt limit.
    #[error("{0}")]
    Transient(Failure),
    /// Cannot succeed: the run fails at once.
    #[error("{0}")]
    Permanent(Failure),
    /// Not ready yet: try again after this wait (the stage bounds how long it keeps waiting).
    #[error("{1}")]
    RetryAfter(Duration, Failure),
    /// The database had no connection free within the pool's wait: the attempt is given back
    /// (neither a failed attempt nor a poll) and the run is tried again shortly.
    #[error("{0}")]
    Busy(Failure),
}

/// What went wrong in an attempt.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A core operation failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The run does not name the row it is about.
    #[error("the run has no {0}")]
    NoSubject(&'static str),
    /// The row the run is about no longer exists.
    #[error("the run's {0} is missing")]
    SubjectGone(&'static str),
    /// The stage panicked.
    #[error("the handler panicked: {0}")]
    Panicked(String),
    /// The attempt ran past the stage's timeout.
    #[error("the attempt ran past its {0:?} timeout")]
    TimedOut(Duration),
    /// Stored data could not be read back.
    #[error("stored data is unreadable: {0}")]
    Unreadable(#[from] serde_json::Error),
    /// Exotel did not give what the stage needs.
    #[error(transparent)]
    Exotel(#[from] crate::integrations::exotel::ExotelError),
    /// Shopify gave no usable answer.
    #[error(transparent)]
    Shopify(#[from] crate::integrations::shopify::ShopifyError),
    /// Speech-to-text or text-to-speech failed.
    #[error(transparent)]
    Speech(#[from] crate::integrations::speech::SpeechError),
    /// Another writer changed the row while the stage ran; running again sees its change.
    #[error("{0}; running again")]
    Raced(&'static str),
    /// No database connection came free within the pool's wait.
    #[error("no database connection was free within the pool's wait; the attempt is given back")]
    NoConnection,
    /// The stage kept waiting for something that never came, and stopped.
    #[error("{last}; gave up after {}s", .after.as_secs())]
    GaveUp {
        /// How long it waited.
        after: Duration,
        /// The last reason it was still waiting.
        last: Box<Failure>,
    },
}

impl StageError {
    /// The failure behind the error.
    pub fn failure(&self) -> &Failure {
        match self {
            StageError::Transient(f)
            | StageError::Permanent(f)
            | StageError::RetryAfter(_, f)
            | StageError::Busy(f) => f,
        }
    }
}

impl Failure {
    /// The stable code tenants see for this failure.
    pub fn code(&self) -> FailureCode {
        use crate::integrations::exotel::ExotelError;
        match self {
            Failure::Core(_) | Failure::Panicked(_) => FailureCode::InternalError,
            Failure::NoSubject(_) | Failure::SubjectGone(_) => FailureCode::SubjectMissing,
            Failure::TimedOut(_) => FailureCode::TimedOut,
            Failure::Unreadable(_) => FailureCode::UnreadableData,
            Failure::Raced(_) => FailureCode::Conflict,
            Failure::NoConnection => FailureCode::DatabaseBusy,
            Failure::Shopify(_) => FailureCode::ShopifyUnavailable,
            Failure::Speech(_) => FailureCode::SpeechFailed,
            Failure::GaveUp { .. } => FailureCode::ExotelNeverReady,
            Failure::Exotel(err) => match err {
                ExotelError::Refused { source, .. } if source.is_size_limit() => {
                    FailureCode::TooLarge
                }
                ExotelError::Refused { .. } => FailureCode::AddressRefused,
                ExotelError::Status { status, .. }
                    if *status == reqwest::StatusCode::UNAUTHORIZED
                        || *status == reqwest::StatusCode::FORBIDDEN =>
                {
                    FailureCode::ExotelAuth
                }
                ExotelError::NotFinal(_) | ExotelError::NoDurationYet => {
                    FailureCode::ExotelNeverReady
                }
                ExotelError::Spool(_) => FailureCode::InternalError,
                _ => FailureCode::ExotelUnavailable,
            },
        }
    }
}

impl From<CoreError> for StageError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Db(ref db) if crate::platform::db::is_pool_timeout(db) => {
                StageError::Busy(Failure::NoConnection)
            }
            CoreError::Rejected(_) | CoreError::Crypto(_) => {
                StageError::Permanent(Failure::Core(err))
            }
            other => StageError::Transient(Failure::Core(other)),
        }
    }
}

impl From<sea_orm::DbErr> for StageError {
    fn from(err: sea_orm::DbErr) -> Self {
        StageError::from(CoreError::Db(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnAcquireErr, DbErr};

    #[test]
    fn a_statement_that_found_no_connection_gives_its_attempt_back() {
        let busy = StageError::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout));
        assert!(matches!(busy, StageError::Busy(Failure::NoConnection)));
        assert_eq!(busy.failure().code(), FailureCode::DatabaseBusy);
        let through_core = StageError::from(CoreError::Db(DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout,
        )));
        assert!(matches!(through_core, StageError::Busy(_)));
        // A closed pool or a failed statement is no wait: it stays a transient failure.
        let closed = StageError::from(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed));
        assert!(matches!(closed, StageError::Transient(_)));
        assert_eq!(
            FailureCode::parse(Some("database_busy")),
            FailureCode::DatabaseBusy
        );
    }
}
