//! Phrases said without waiting for the agent: the store's greeting, the silence prompt, the
//! goodbye, the fallback line. Synthesised ahead of time (at start-up, or on first use), kept in
//! memory and in the object store (`phrases/…`) so every node and restart reuses them: the
//! greeting must play within a second of `start`.

use crate::integrations::speech::{Encoding, SpeechError, TextToSpeech};
use crate::platform::crypto::digest_hex;
use crate::platform::storage::ObjectStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Asked when the caller has been quiet.
pub const STILL_THERE: &str = "Are you still there? How can I help you?";
/// Said to a silent caller before hanging up.
pub const GOODBYE_SILENT: &str =
    "I can't hear anything, so I'll end the call now. Please call again anytime. Goodbye!";
/// Said when the caller says goodbye.
pub const GOODBYE: &str = "Thank you for calling. Goodbye!";
/// Said before a person takes over.
pub const CONNECTING: &str = "Please stay on the line while I connect you to a person.";
/// Said when the caller speaks but this deployment cannot transcribe speech.
pub const KEYPAD_ONLY: &str = "Sorry, I can't understand speech right now. Please type your order number on the keypad and press the hash key, or stay on the line for a person.";

/// Synthesises every tenant's greeting and the common phrases at Exotel's default 8 kHz, so
/// the first call hears its greeting at once. Best effort: a phrase missed here is made on
/// first use.
pub async fn prewarm(app: &crate::App) {
    let Some(tts) = app.speech.tts.clone() else {
        return;
    };
    let mut texts: Vec<String> = [STILL_THERE, GOODBYE, GOODBYE_SILENT, KEYPAD_ONLY]
        .iter()
        .map(|t| t.to_string())
        .collect();
    texts.push(crate::agent::brain::FALLBACK_LINE.to_string());
    if let Ok(tenants) = crate::tenancy::list(&app.db).await {
        for tenant in tenants {
            let profile =
                crate::tenancy::profile::profile_of(&app.db, caly_jobs::TenantId(tenant.id))
                    .await
                    .ok()
                    .flatten();
            texts.push(match profile {
                Some(p) => p.greeting,
                None => super::session::default_greeting(&tenant.name),
            });
        }
    }
    for text in texts {
        if let Err(error) = app.phrases.get(tts.as_ref(), &app.store, &text, 8000).await {
            tracing::warn!(%error, "a phrase could not be synthesised ahead of time");
        }
    }
}

/// Synthesised phrases by (engine, text, rate).
#[derive(Default)]
pub struct PhraseCache {
    cached: Mutex<HashMap<String, Arc<Vec<i16>>>>,
}

impl std::fmt::Debug for PhraseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhraseCache")
    }
}

impl PhraseCache {
    /// `text` spoken by `tts` at `rate`: from memory, else the object store, else synthesised
    /// (and stored for next time).
    pub async fn get(
        &self,
        tts: &dyn TextToSpeech,
        store: &ObjectStore,
        text: &str,
        rate: u32,
    ) -> Result<Arc<Vec<i16>>, SpeechError> {
        let id = digest_hex(&format!("{}\n{rate}\n{text}", tts.name()));
        if let Some(hit) = self.cached.lock().expect("phrase lock").get(&id) {
            return Ok(hit.clone());
        }
        let key = format!("phrases/{id}.pcm");
        let samples = match store.read_all(&key).await {
            Ok(bytes) if !bytes.is_empty() => Encoding::Pcm16.decode(&bytes),
            _ => {
                let audio = tts.synthesize(text, rate).await?;
                let bytes = Encoding::Pcm16.encode(&audio.samples);
                if let Err(error) = store
                    .put_bytes(&key, &bytes, "application/octet-stream")
                    .await
                {
                    tracing::warn!(%error, "a synthesised phrase could not be stored; kept in memory");
                }
                audio.samples
            }
        };
        let samples = Arc::new(samples);
        self.cached
            .lock()
            .expect("phrase lock")
            .insert(id, samples.clone());
        Ok(samples)
    }
}
