//! Speech, both ways, behind two traits: [`SpeechToText`] and [`TextToSpeech`]. Engines: an
//! OpenAI-compatible API (`/v1/audio/transcriptions`, `/v1/audio/speech`) online; offline,
//! espeak-ng and, with the `whisper` feature, a local Whisper model (CTranslate2 through ct2rs).
//! [`Speech`] holds the engines a deployment has and says which are missing; stages and the voice
//! socket only see the traits.

pub mod audio;
mod engines;
mod espeak;
mod openai;
mod resample;
mod text;
#[cfg(feature = "whisper")]
mod whisper;

pub use audio::{Audio, Encoding};
pub use engines::{Speech, SpeechEngine, SpeechSettings, WhisperTuning};
pub use espeak::Espeak;
pub use openai::{OpenAiSpeech, OpenAiTranscriber};
pub use text::{normalise_spoken_numbers, sentences};

use async_trait::async_trait;

/// Why speech failed.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// The engine is not installed or configured.
    #[error("speech engine unavailable: {0}")]
    Unavailable(String),
    /// The engine or provider failed.
    #[error("speech provider failed: {0}")]
    Provider(String),
    /// Audio could not be read.
    #[error("unreadable audio: {0}")]
    Unreadable(String),
}

/// Turns speech into text.
#[async_trait]
pub trait SpeechToText: Send + Sync {
    /// The engine's name, for logs and the start-up report.
    fn name(&self) -> String;

    /// Transcribes one utterance (any rate; engines resample as they need).
    async fn transcribe(&self, audio: &Audio) -> Result<String, SpeechError>;
}

/// Turns text into speech.
#[async_trait]
pub trait TextToSpeech: Send + Sync {
    /// The engine's name, for logs and the start-up report.
    fn name(&self) -> String;

    /// Speaks `text` as mono audio at `rate`.
    async fn synthesize(&self, text: &str, rate: u32) -> Result<Audio, SpeechError>;
}
