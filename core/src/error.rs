//! The one error type of `caly-core`.

use crate::crypto::CryptoError;
use crate::settings::SettingsError;

/// Everything that can go wrong in Caly's core. The api maps each to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Caller input is not acceptable (maps to 400/422 with the code and sentence).
    #[error("{message}")]
    Invalid {
        /// Machine-readable code.
        code: &'static str,
        /// Human sentence.
        message: String,
    },
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
    #[error("queue error: {0}")]
    Queue(String),
    /// Object store failure.
    #[error("object store error: {0}")]
    ObjectStore(String),
    /// Secret handling failure.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// File system failure.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl CoreError {
    /// A 4xx-style input error.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            code,
            message: message.into(),
        }
    }
}
