//! Which speech engines a deployment has. Online (an OpenAI-compatible endpoint) when the
//! platform model is configured, else offline: espeak-ng speaks (offline speech-to-text with a
//! local Whisper model is the next step). A missing engine is reported, never fatal: text
//! turns and DTMF work without any.

use super::{Espeak, OpenAiSpeech, OpenAiTranscriber, SpeechToText, TextToSpeech};
use crate::integrations::llm::LlmConfig;
use crate::platform::egress::EgressSettings;
use std::sync::Arc;

/// Which engines to use (`CALY_SPEECH_ENGINE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeechEngine {
    /// Online when the platform model is configured, else offline.
    Auto,
    /// The OpenAI-compatible endpoint of `CALY_LLM_*`.
    Online,
    /// Whisper and espeak-ng on this machine.
    Offline,
}

impl std::str::FromStr for SpeechEngine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(SpeechEngine::Auto),
            "online" => Ok(SpeechEngine::Online),
            "offline" => Ok(SpeechEngine::Offline),
            other => Err(format!("'{other}' is not one of auto, online, offline")),
        }
    }
}

/// How the offline Whisper model runs: the speed a caller waits for against accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhisperTuning {
    /// Beam width when decoding (`CALY_WHISPER_BEAM_SIZE`, default 5; 1, greedy, is faster, but
    /// tiny.en then mishears digits on 8 kHz audio).
    pub beam_size: usize,
    /// Weights quantised to 8-bit integers when loaded (`CALY_WHISPER_INT8`, default true):
    /// faster on CPUs; false keeps 32-bit floats.
    pub int8: bool,
}

impl Default for WhisperTuning {
    fn default() -> Self {
        WhisperTuning {
            beam_size: 5,
            int8: true,
        }
    }
}

/// Speech configuration.
#[derive(Debug, Clone)]
pub struct SpeechSettings {
    /// Which engines (`CALY_SPEECH_ENGINE`, default `auto`).
    pub engine: SpeechEngine,
    /// Transcription model online (`CALY_STT_MODEL`, default `whisper-1`).
    pub stt_model: String,
    /// Speech model online (`CALY_TTS_MODEL`, default `gpt-4o-mini-tts`).
    pub tts_model: String,
    /// Voice online (`CALY_TTS_VOICE`, default `alloy`).
    pub tts_voice: String,
    /// espeak-ng's voice (`CALY_ESPEAK_VOICE`, default `en-us`).
    pub espeak_voice: String,
    /// The offline Whisper model's folder (`CALY_WHISPER_MODEL`, default
    /// `{CALY_DATA_DIR}/models/whisper`; `bash scripts/run.sh` installs it there).
    pub whisper_model: std::path::PathBuf,
    /// How the offline Whisper decodes (`CALY_WHISPER_BEAM_SIZE`, `CALY_WHISPER_INT8`).
    pub whisper_tuning: WhisperTuning,
    /// Longest one post-call transcription request may take
    /// (`CALY_TRANSCRIBE_CHUNK_TIMEOUT_SECS`, default 60).
    pub chunk_timeout: std::time::Duration,
    /// Longest a whole post-call transcript may take (`CALY_TRANSCRIBE_TIMEOUT_SECS`, default
    /// 1,800); a recording not done by then fails visibly and is retried.
    pub transcript_timeout: std::time::Duration,
}

impl Default for SpeechSettings {
    fn default() -> Self {
        SpeechSettings {
            engine: SpeechEngine::Auto,
            stt_model: "whisper-1".into(),
            tts_model: "gpt-4o-mini-tts".into(),
            tts_voice: "alloy".into(),
            espeak_voice: "en-us".into(),
            whisper_model: std::path::PathBuf::from("caly-data/models/whisper"),
            whisper_tuning: WhisperTuning::default(),
            chunk_timeout: std::time::Duration::from_secs(60),
            transcript_timeout: std::time::Duration::from_secs(1800),
        }
    }
}

/// The engines this process speaks and listens with.
#[derive(Clone, Default)]
pub struct Speech {
    /// Speech-to-text, if any.
    pub stt: Option<Arc<dyn SpeechToText>>,
    /// Text-to-speech, if any.
    pub tts: Option<Arc<dyn TextToSpeech>>,
    /// What is missing and how to get it.
    pub missing: Vec<String>,
}

impl std::fmt::Debug for Speech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.report())
    }
}

impl Speech {
    /// Given engines (tests and benchmarks use their own).
    pub fn with(stt: Option<Arc<dyn SpeechToText>>, tts: Option<Arc<dyn TextToSpeech>>) -> Self {
        Speech {
            stt,
            tts,
            missing: Vec::new(),
        }
    }

    /// The engines the settings choose, as far as this machine has them.
    pub async fn detect(
        settings: &SpeechSettings,
        llm: Option<&LlmConfig>,
        egress: &EgressSettings,
    ) -> Self {
        let online = match settings.engine {
            SpeechEngine::Online => true,
            SpeechEngine::Offline => false,
            SpeechEngine::Auto => llm.is_some(),
        };
        if online {
            return Self::online(settings, llm, egress);
        }
        let mut speech = Speech::default();
        match offline_stt(settings) {
            Ok(stt) => speech.stt = Some(stt),
            Err(why) => speech.missing.push(why),
        }
        if Espeak::installed().await {
            speech.tts = Some(Arc::new(Espeak {
                voice: settings.espeak_voice.clone(),
                ..Espeak::default()
            }));
        } else {
            speech.missing.push(
                "text-to-speech: espeak-ng is not installed (apt-get install espeak-ng, or run bash scripts/run.sh)".into(),
            );
        }
        speech
    }

    fn online(settings: &SpeechSettings, llm: Option<&LlmConfig>, egress: &EgressSettings) -> Self {
        let mut speech = Speech::default();
        let Some(llm) = llm else {
            speech.missing.push(
                "speech: CALY_SPEECH_ENGINE=online needs CALY_LLM_API_KEY and CALY_LLM_MODEL"
                    .into(),
            );
            return speech;
        };
        match OpenAiTranscriber::new(llm, &settings.stt_model, egress) {
            Ok(stt) => speech.stt = Some(Arc::new(stt)),
            Err(e) => speech.missing.push(format!("speech-to-text: {e}")),
        }
        match OpenAiSpeech::new(llm, &settings.tts_model, &settings.tts_voice, egress) {
            Ok(tts) => speech.tts = Some(Arc::new(tts)),
            Err(e) => speech.missing.push(format!("text-to-speech: {e}")),
        }
        speech
    }

    /// True when calls can be heard and answered aloud.
    pub fn is_complete(&self) -> bool {
        self.stt.is_some() && self.tts.is_some()
    }

    /// What the engines are, and what still works without the missing ones.
    pub fn report(&self) -> String {
        let name = |engine: Option<String>| engine.unwrap_or_else(|| "missing".into());
        let mut lines = vec![
            format!(
                "speech-to-text: {}",
                name(self.stt.as_ref().map(|e| e.name()))
            ),
            format!(
                "text-to-speech: {}",
                name(self.tts.as_ref().map(|e| e.name()))
            ),
        ];
        lines.extend(self.missing.iter().map(|m| format!("  missing {m}")));
        if !self.is_complete() {
            lines.push(
                "  still working: text turns (POST /api/v1/calls/{id}/turns) and keypad (DTMF) input on calls"
                    .into(),
            );
        }
        lines.join("\n")
    }
}

/// Offline speech-to-text: the local Whisper model, when this build has the engine and the
/// model is installed.
#[cfg(feature = "whisper")]
fn offline_stt(settings: &SpeechSettings) -> Result<Arc<dyn SpeechToText>, String> {
    super::whisper::LocalWhisper::load(&settings.whisper_model, settings.whisper_tuning)
        .map(|w| Arc::new(w) as Arc<dyn SpeechToText>)
        .map_err(|e| format!("speech-to-text: {e}; bash scripts/run.sh installs the model"))
}

/// Offline speech-to-text: this build has no Whisper engine (the `whisper` feature).
#[cfg(not(feature = "whisper"))]
fn offline_stt(_settings: &SpeechSettings) -> Result<Arc<dyn SpeechToText>, String> {
    Err("speech-to-text: this build has no offline Whisper (run bash scripts/run.sh, which builds with --features whisper and installs the model), or configure an OpenAI-compatible endpoint (CALY_LLM_API_KEY, CALY_LLM_MODEL, CALY_LLM_BASE_URL)".into())
}
