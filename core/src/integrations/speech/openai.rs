//! Online speech through an OpenAI-compatible API with `async-openai`: utterances are sent as
//! 16 kHz WAV to `/v1/audio/transcriptions`; replies come back from `/v1/audio/speech` as raw
//! 24 kHz PCM and are resampled to the call's rate. The HTTP client follows the egress policy.

use super::{Audio, SpeechError, SpeechToText, TextToSpeech};
use crate::integrations::llm::LlmConfig;
use crate::platform::egress::EgressSettings;
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::audio::{
    AudioInput, CreateSpeechRequest, CreateTranscriptionRequest, SpeechModel, SpeechResponseFormat,
    Voice,
};
use async_trait::async_trait;

/// The rate OpenAI's `pcm` speech format uses.
const OPENAI_PCM_RATE: u32 = 24_000;

fn client(
    config: &LlmConfig,
    egress: &EgressSettings,
) -> Result<Client<OpenAIConfig>, SpeechError> {
    crate::integrations::llm::openai::provider_client(config, egress)
        .map_err(|e| SpeechError::Unavailable(e.to_string()))
}

fn provider_error(err: async_openai::error::OpenAIError) -> SpeechError {
    SpeechError::Provider(err.to_string())
}

/// `/v1/audio/transcriptions`.
pub struct OpenAiTranscriber {
    client: Client<OpenAIConfig>,
    model: String,
}

impl OpenAiTranscriber {
    /// A transcriber on `config`'s endpoint with `model` (e.g. `whisper-1`).
    pub fn new(
        config: &LlmConfig,
        model: &str,
        egress: &EgressSettings,
    ) -> Result<Self, SpeechError> {
        Ok(OpenAiTranscriber {
            client: client(config, egress)?,
            model: model.to_string(),
        })
    }
}

#[async_trait]
impl SpeechToText for OpenAiTranscriber {
    fn name(&self) -> String {
        format!("OpenAI-compatible transcription ({})", self.model)
    }

    async fn transcribe(&self, audio: &Audio) -> Result<String, SpeechError> {
        let wav = audio.resampled(16_000).to_wav();
        let request = CreateTranscriptionRequest {
            file: AudioInput::from_vec_u8("utterance.wav".into(), wav),
            model: self.model.clone(),
            ..Default::default()
        };
        let response = self
            .client
            .audio()
            .transcription()
            .create(request)
            .await
            .map_err(provider_error)?;
        Ok(response.text.trim().to_string())
    }
}

/// `/v1/audio/speech`.
pub struct OpenAiSpeech {
    client: Client<OpenAIConfig>,
    model: String,
    voice: String,
}

impl OpenAiSpeech {
    /// A speaker on `config`'s endpoint with `model` and `voice`.
    pub fn new(
        config: &LlmConfig,
        model: &str,
        voice: &str,
        egress: &EgressSettings,
    ) -> Result<Self, SpeechError> {
        Ok(OpenAiSpeech {
            client: client(config, egress)?,
            model: model.to_string(),
            voice: voice.to_string(),
        })
    }
}

#[async_trait]
impl TextToSpeech for OpenAiSpeech {
    fn name(&self) -> String {
        format!("OpenAI-compatible speech ({}, {})", self.model, self.voice)
    }

    async fn synthesize(&self, text: &str, rate: u32) -> Result<Audio, SpeechError> {
        let request = CreateSpeechRequest {
            input: text.to_string(),
            model: SpeechModel::Other(self.model.clone()),
            voice: Voice::Other(self.voice.clone()),
            response_format: Some(SpeechResponseFormat::Pcm),
            ..Default::default()
        };
        let response = self
            .client
            .audio()
            .speech()
            .create(request)
            .await
            .map_err(provider_error)?;
        let samples = super::Encoding::Pcm16.decode(&response.bytes);
        Ok(Audio::new(samples, OPENAI_PCM_RATE).resampled(rate))
    }
}
