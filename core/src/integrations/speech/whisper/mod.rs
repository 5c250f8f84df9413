//! Offline speech-to-text: a local Whisper model in CTranslate2 format (the `whisper` feature),
//! run through ct2rs's bindings to CTranslate2. Caly makes the model's input itself (telephone
//! audio resampled to 16 kHz, then the log-mel spectrogram in [`mel`]) and reads its output
//! tokens back to text ([`tokens`]), so the build needs no tokenizer libraries. English-only
//! models (`tiny.en`) get English's prompt; multilingual ones detect the language first, so
//! Hindi works with such a model. Audio longer than 30 s is transcribed window by window.

mod mel;
mod tokens;

use super::{Audio, SpeechError, SpeechToText, WhisperTuning};
use async_trait::async_trait;
use ct2rs::sys::{ComputeType, Config, Device, StorageView, Whisper, WhisperOptions};
use mel::MelFeatures;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A loaded local Whisper model, shared by every transcription (CTranslate2 queues the calls).
pub struct LocalWhisper {
    model: Arc<Loaded>,
    dir: PathBuf,
}

struct Loaded {
    whisper: Whisper,
    features: MelFeatures,
    options: WhisperOptions,
}

impl LocalWhisper {
    /// Loads the CTranslate2 Whisper model in `dir` (`model.bin`, `config.json`,
    /// `vocabulary.txt`), to run as `tuning` says.
    pub fn load(dir: &Path, tuning: WhisperTuning) -> Result<Self, String> {
        if !dir.join("model.bin").is_file() {
            return Err(format!("no Whisper model in {}", dir.display()));
        }
        let config = Config {
            compute_type: if tuning.int8 {
                ComputeType::INT8
            } else {
                ComputeType::FLOAT32
            },
            ..Config::default()
        };
        let whisper = Whisper::new(dir, config)
            .map_err(|e| format!("the Whisper model in {} did not load: {e}", dir.display()))?;
        let features = MelFeatures::new(whisper.n_mels());
        let options = WhisperOptions {
            beam_size: tuning.beam_size.max(1),
            ..WhisperOptions::default()
        };
        Ok(LocalWhisper {
            model: Arc::new(Loaded {
                whisper,
                features,
                options,
            }),
            dir: dir.to_path_buf(),
        })
    }
}

impl Loaded {
    /// The text of 16 kHz samples in [-1, 1], 30 s at a time.
    fn transcribe(&self, samples: &[f32]) -> Result<String, String> {
        let mut texts = Vec::new();
        for window in samples.chunks(mel::WINDOW_SAMPLES) {
            let mut features = self.features.of(window);
            let shape = [1, self.features.n_mels(), mel::FRAMES];
            let view =
                StorageView::new(&shape, &mut features, Device::CPU).map_err(|e| e.to_string())?;
            let prompt = self.prompt(&view)?;
            let results = self
                .whisper
                .generate(&view, &[prompt], &self.options)
                .map_err(|e| e.to_string())?;
            if let Some(best) = results
                .into_iter()
                .next()
                .and_then(|r| r.sequences.into_iter().next())
            {
                texts.push(tokens::text_of(&best));
            }
        }
        Ok(texts.join(" ").trim().to_string())
    }

    /// The decoder's prompt: English's for an English-only model; the detected language's for a
    /// multilingual one.
    fn prompt(&self, features: &StorageView) -> Result<Vec<String>, String> {
        let mut prompt = vec!["<|startoftranscript|>".to_string()];
        if self.whisper.is_multilingual() {
            let language = self
                .whisper
                .detect_language(features)
                .map_err(|e| e.to_string())?
                .into_iter()
                .next()
                .and_then(|ranked| ranked.into_iter().next())
                .map(|best| best.language)
                .unwrap_or_else(|| "<|en|>".into());
            prompt.push(language);
            prompt.push("<|transcribe|>".into());
        }
        prompt.push("<|notimestamps|>".into());
        Ok(prompt)
    }
}

#[async_trait]
impl SpeechToText for LocalWhisper {
    fn name(&self) -> String {
        let name = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("whisper (offline, {name})")
    }

    async fn transcribe(&self, audio: &Audio) -> Result<String, SpeechError> {
        let samples: Vec<f32> = audio
            .resampled(mel::SAMPLE_RATE)
            .samples
            .iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect();
        let model = self.model.clone();
        tokio::task::spawn_blocking(move || model.transcribe(&samples))
            .await
            .map_err(|e| SpeechError::Provider(format!("whisper stopped: {e}")))?
            .map_err(|e| SpeechError::Provider(format!("whisper failed: {e}")))
    }
}
