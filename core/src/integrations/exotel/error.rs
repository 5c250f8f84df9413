//! Why a request to Exotel did not give Caly what it needed.

use crate::platform::egress::EgressError;

/// A failed or unusable answer from Exotel.
#[derive(Debug, thiserror::Error)]
pub enum ExotelError {
    /// The URL Exotel gave is refused by the outbound policy.
    #[error("{what} refused: {source}")]
    Refused {
        /// What Caly was about to fetch.
        what: &'static str,
        /// Why.
        source: EgressError,
    },
    /// The request could not be made or broke off.
    #[error("{what} request failed: {source}")]
    Request {
        /// What Caly asked for.
        what: &'static str,
        /// The client's error, without the URL (it may carry credentials).
        source: reqwest::Error,
    },
    /// Exotel answered with an error status.
    #[error("{what} answered {status}")]
    Status {
        /// What Caly asked for.
        what: &'static str,
        /// The HTTP status.
        status: reqwest::StatusCode,
    },
    /// The Call Details answer is not JSON.
    #[error("call details are not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// The Call Details answer has no `Call` object.
    #[error("call details have no Call object")]
    NoCallObject,
    /// Exotel has not finished the call yet (status as Exotel gives it).
    #[error("Exotel reports the call as '{0}'")]
    NotFinal(String),
    /// A download could not be written to its temporary file.
    #[error("temporary file: {0}")]
    Spool(#[from] std::io::Error),
    /// What the recording host sent is not audio Caly knows (MP3, WAV, Ogg, FLAC, MP4/M4A):
    /// it is never stored, so it can never be served back as a page or a script.
    #[error("the recording is not audio (it does not start like MP3, WAV, Ogg, FLAC or M4A)")]
    NotAudio,
    /// Exotel has no duration for the call yet.
    #[error("Exotel has no duration yet")]
    NoDurationYet,
}

impl ExotelError {
    /// A request error, with the URL stripped.
    pub(crate) fn request(what: &'static str, err: reqwest::Error) -> Self {
        ExotelError::Request {
            what,
            source: err.without_url(),
        }
    }
}
