//! Stable failure codes: what a tenant sees about a failed stage run, instead of the internal
//! error text (which operators see in the CLI and the logs).

use serde::Serialize;

/// Why a stage run failed, as a stable code with a sentence for store owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// Something inside Caly failed.
    InternalError,
    /// The attempt ran past its time limit.
    TimedOut,
    /// What the run is about no longer exists.
    SubjectMissing,
    /// Stored data could not be read.
    UnreadableData,
    /// The outbound policy refused the address.
    AddressRefused,
    /// The download was larger than allowed.
    TooLarge,
    /// Exotel refused the store's credentials.
    ExotelAuth,
    /// Exotel could not be reached or answered with an error.
    ExotelUnavailable,
    /// Exotel never had what Caly waited for within the window.
    ExotelNeverReady,
    /// Someone else changed the data at the same moment.
    Conflict,
    /// Shopify could not be reached, throttled too long or answered with an error.
    ShopifyUnavailable,
    /// Speech-to-text or text-to-speech is missing, failed or was too slow.
    SpeechFailed,
    /// Caly's database had no connection free; the step is tried again shortly.
    DatabaseBusy,
}

impl FailureCode {
    /// Every code.
    pub const ALL: &'static [FailureCode] = &[
        FailureCode::InternalError,
        FailureCode::TimedOut,
        FailureCode::SubjectMissing,
        FailureCode::UnreadableData,
        FailureCode::AddressRefused,
        FailureCode::TooLarge,
        FailureCode::ExotelAuth,
        FailureCode::ExotelUnavailable,
        FailureCode::ExotelNeverReady,
        FailureCode::Conflict,
        FailureCode::ShopifyUnavailable,
        FailureCode::SpeechFailed,
        FailureCode::DatabaseBusy,
    ];

    /// The stored, stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::InternalError => "internal_error",
            FailureCode::TimedOut => "timed_out",
            FailureCode::SubjectMissing => "subject_missing",
            FailureCode::UnreadableData => "unreadable_data",
            FailureCode::AddressRefused => "address_refused",
            FailureCode::TooLarge => "too_large",
            FailureCode::ExotelAuth => "exotel_auth",
            FailureCode::ExotelUnavailable => "exotel_unavailable",
            FailureCode::ExotelNeverReady => "exotel_never_ready",
            FailureCode::Conflict => "conflict",
            FailureCode::ShopifyUnavailable => "shopify_unavailable",
            FailureCode::SpeechFailed => "speech_failed",
            FailureCode::DatabaseBusy => "database_busy",
        }
    }

    /// Parses a stored code; unknown or missing codes read as internal errors.
    pub fn parse(text: Option<&str>) -> FailureCode {
        FailureCode::ALL
            .iter()
            .copied()
            .find(|c| Some(c.as_str()) == text)
            .unwrap_or(FailureCode::InternalError)
    }

    /// The sentence a store owner sees.
    pub fn message(self) -> &'static str {
        match self {
            FailureCode::InternalError => {
                "Caly hit an internal problem on this step; our team can see the details."
            }
            FailureCode::TimedOut => "This step took longer than its time limit and was stopped.",
            FailureCode::SubjectMissing => "What this step was about no longer exists.",
            FailureCode::UnreadableData => "Data this step needed could not be read.",
            FailureCode::AddressRefused => {
                "The address Exotel gave is not one Caly is allowed to contact."
            }
            FailureCode::TooLarge => "The file was larger than Caly accepts.",
            FailureCode::ExotelAuth => {
                "Exotel refused the store's API key and token; check them in your settings."
            }
            FailureCode::ExotelUnavailable => {
                "Exotel could not be reached or answered with an error."
            }
            FailureCode::ExotelNeverReady => {
                "Exotel did not provide what this step waits for (a final status, a duration or \
                 the recording) in time."
            }
            FailureCode::Conflict => "The data changed while this step ran.",
            FailureCode::ShopifyUnavailable => {
                "Shopify could not be reached or answered with an error."
            }
            FailureCode::SpeechFailed => {
                "Speech recognition or synthesis was unavailable, failed or too slow; the caller \
                 heard the fallback line and was offered a person."
            }
            FailureCode::DatabaseBusy => {
                "Caly was busy when this step ran; it is tried again shortly, nothing is lost."
            }
        }
    }
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
