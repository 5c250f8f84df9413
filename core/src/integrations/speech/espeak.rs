//! Offline text-to-speech with espeak-ng (a Debian package): text goes in on stdin, a WAV comes
//! back on stdout, resampled to the call's rate. Voice and speed are pinned so the same text
//! always sounds the same (tests transcribe it back).

use super::audio::read_wav;
use super::{Audio, SpeechError, TextToSpeech};
use async_trait::async_trait;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// espeak-ng with a fixed voice and speed.
#[derive(Debug, Clone)]
pub struct Espeak {
    /// Voice, e.g. `en-us`.
    pub voice: String,
    /// Words per minute.
    pub speed: u32,
}

impl Default for Espeak {
    fn default() -> Self {
        Espeak {
            voice: "en-us".into(),
            speed: 150,
        }
    }
}

impl Espeak {
    /// True when `espeak-ng` can be run here.
    pub async fn installed() -> bool {
        Command::new("espeak-ng")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }

    /// Speaks `text` at espeak-ng's own rate (22,050 Hz).
    pub async fn speak_native(&self, text: &str) -> Result<Audio, SpeechError> {
        let mut child = Command::new("espeak-ng")
            .args(["-v", &self.voice, "-s", &self.speed.to_string(), "--stdout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| SpeechError::Unavailable(format!("espeak-ng could not start: {e}")))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // One line: a newline inside the text would not change the speech, only end it early.
        let line = text.replace(['\n', '\r'], " ");
        stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| SpeechError::Provider(format!("espeak-ng: {e}")))?;
        drop(stdin);
        let output = child
            .wait_with_output()
            .await
            .map_err(|e| SpeechError::Provider(format!("espeak-ng: {e}")))?;
        if !output.status.success() {
            return Err(SpeechError::Provider(format!(
                "espeak-ng exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(read_wav(&output.stdout)?.mono())
    }
}

#[async_trait]
impl TextToSpeech for Espeak {
    fn name(&self) -> String {
        format!("espeak-ng ({}, {} wpm)", self.voice, self.speed)
    }

    async fn synthesize(&self, text: &str, rate: u32) -> Result<Audio, SpeechError> {
        Ok(self.speak_native(text).await?.resampled(rate))
    }
}
