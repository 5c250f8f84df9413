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
    /// A request field that is not acceptable, with the sentence to show beside it.
    #[error("{field}: {message}")]
    InvalidField {
        /// The field's name in the request body.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A password that does not meet the strength rule.
    #[error("{0}")]
    WeakPassword(String),
    /// An emailed code (or link) that does not match.
    #[error("That code is not right; {attempts_left} attempt(s) left.")]
    InvalidCode {
        /// Guesses left before the code is locked.
        attempts_left: u32,
    },
    /// No live code: never sent, used already, superseded or expired.
    #[error("That code has expired or was already used; ask for a new one.")]
    CodeExpired,
    /// Too many wrong guesses at a code.
    #[error("Too many wrong codes; ask for a new one.")]
    CodeLocked,
    /// Asked again too soon (a resend cooldown or a rate limit).
    #[error("Too many requests; try again in {retry_after_secs} s.")]
    TooSoon {
        /// Seconds until a retry can succeed (the `Retry-After` header).
        retry_after_secs: u64,
    },
    /// Wrong email or password (which one is not said).
    #[error("The email or password is not right.")]
    BadCredentials,
    /// No usable credentials on the request.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A refresh token presented a second time: the session is revoked.
    #[error("This refresh token was already used; the session has been signed out for safety.")]
    RefreshReused,
    /// The caller's role does not allow the action.
    #[error("Your role ({role}) cannot do this; it needs {needed} or above.")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// The least role that may.
        needed: &'static str,
    },
    /// A cookie-authenticated change without the session's CSRF token.
    #[error("Send the session's CSRF token in the X-CSRF-Token header.")]
    CsrfFailed,
    /// A disabled account.
    #[error("This account is disabled; ask an admin of your store.")]
    AccountDisabled,
    /// A change that would break an invariant of accounts (the last owner, a taken address).
    #[error("{0}")]
    AccountConflict(String),
    /// Shopify or Exotel did not accept the credentials given while connecting, or could not be
    /// reached; the code says which (`shopify_missing_scopes`, `exotel_wrong_region`, …).
    #[error("{message}")]
    Integration {
        /// The machine-readable code.
        code: &'static str,
        /// What went wrong and what to do.
        message: String,
    },
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
            Rejection::InvalidField { .. } => "invalid_field",
            Rejection::WeakPassword(_) => "weak_password",
            Rejection::InvalidCode { .. } => "invalid_code",
            Rejection::CodeExpired => "code_expired",
            Rejection::CodeLocked => "code_locked",
            Rejection::TooSoon { .. } => "rate_limited",
            Rejection::BadCredentials => "invalid_credentials",
            Rejection::Unauthenticated(_) => "unauthorized",
            Rejection::RefreshReused => "refresh_token_reused",
            Rejection::Forbidden { .. } => "forbidden",
            Rejection::CsrfFailed => "csrf_failed",
            Rejection::AccountDisabled => "account_disabled",
            Rejection::AccountConflict(_) => "conflict",
            Rejection::Integration { code, .. } => code,
        }
    }
}
