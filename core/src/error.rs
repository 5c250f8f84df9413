//! The error type of `caly-core`: caller mistakes ([`Rejection`]) apart from infrastructure
//! failures, each variant saying what went wrong.

use crate::platform::crypto::CryptoError;
use crate::platform::mailer::MailError;
use crate::platform::queue::QueueError;
use crate::platform::settings::SettingsError;
use crate::platform::storage::StorageError;

/// Everything that can go wrong in Caly's core. The api maps each to an HTTP status: a
/// [`Rejection`] is the caller's mistake (4xx); the infrastructure variants are 503s.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The caller's input is not acceptable.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The thing asked for does not exist (or belongs to another tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Configuration problem.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Database failure.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Queue failure.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// Object store failure.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Mail could not be sent.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// Secret handling failure.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// File system failure.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// A request Caly refuses because of what was asked, with a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A required field is empty.
    #[error("The {0} must not be empty.")]
    MissingField(&'static str),
    /// A negative rate.
    #[error("The rate must be zero or more paise per minute.")]
    NegativeRate,
    /// Replaying ingest for a call that has no events.
    #[error("This call has no events to ingest.")]
    NothingToReplay,
    /// Replaying a stage that is already pending or running.
    #[error("That stage is already pending or running for this call.")]
    StageBusy,
    /// A stage name the registry does not know.
    #[error("{0}.")]
    UnknownStage(#[from] caly_jobs::UnknownStage),
    /// A page number out of range.
    #[error("'page' must be between 1 and {max}.")]
    InvalidPage {
        /// The largest page number accepted.
        max: u64,
    },
    /// A caller number that is not a phone number.
    #[error("'{0}' is not a phone number; send it like +919812345678")]
    InvalidCaller(String),
    /// A store profile that is not valid.
    #[error("The store profile is not valid: {0}.")]
    InvalidProfile(String),
    /// A Shopify shop domain or API URL Caly may not use.
    #[error("{0}.")]
    InvalidShop(String),
    /// A turn sent while the call's previous turn is still being answered.
    #[error("A turn is already being answered on this call; wait for its reply.")]
    TurnInProgress,
    /// A turn whose text is empty or too long.
    #[error("{0}")]
    InvalidTurn(String),
    /// A task filter or note that is not valid.
    #[error("{0}")]
    InvalidTask(String),
    /// A language model setting that is not usable.
    #[error("{0}")]
    InvalidLlm(String),
    /// A mail address that cannot be parsed.
    #[error("'{0}' is not a valid mail address.")]
    InvalidMailAddress(String),
}

impl Rejection {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingField(_) => "missing_field",
            Rejection::NegativeRate => "invalid_rate",
            Rejection::NothingToReplay => "nothing_to_replay",
            Rejection::StageBusy => "stage_busy",
            Rejection::UnknownStage(_) => "unknown_stage",
            Rejection::InvalidPage { .. } => "invalid_page",
            Rejection::InvalidMailAddress(_) => "invalid_mail_address",
            Rejection::InvalidShop(_) => "invalid_shop",
            Rejection::InvalidProfile(_) => "invalid_profile",
            Rejection::InvalidCaller(_) => "invalid_caller",
            Rejection::TurnInProgress => "turn_in_progress",
            Rejection::InvalidTurn(_) => "invalid_turn",
            Rejection::InvalidTask(_) => "invalid_task",
            Rejection::InvalidLlm(_) => "invalid_llm",
        }
    }
}
