//! Live voice: Exotel's Voicebot socket from `start` to `stop`. The wire protocol, voice-activity
//! detection, outbound framing and pacing, cached phrases (the greeting, prompts, the fallback),
//! Caly's own two-channel recording, how a call ends (resolved or handed off, and why) and the
//! session that ties them to the live-turn stages (`turn_transcribe` → `agent_reply` →
//! `speak`). The api only moves websocket messages in and out of [`session::run`].

pub mod ending;
pub mod farewell;
pub mod frames;
pub mod outcome;
pub mod phrases;
pub mod protocol;
pub mod recorder;
pub mod session;
pub mod vad;

use std::time::Duration;
pub use vad::VadSettings;

/// How a live call behaves.
#[derive(Debug, Clone)]
pub struct VoiceSettings {
    /// Voice-activity detection.
    pub vad: VadSettings,
    /// Quiet after the agent spoke before the caller is prompted (`CALY_SILENCE_PROMPT_SECS`).
    pub silence_prompt: Duration,
    /// Prompts before a silent caller is said goodbye to (`CALY_SILENCE_PROMPTS`).
    pub silence_prompts: u32,
    /// Pause after the last keypad digit that ends keypad input (`CALY_DTMF_GAP_MS`); `#` ends
    /// it at once.
    pub dtmf_gap: Duration,
    /// Longest a voice turn may take before the fallback line and a handoff
    /// (`CALY_VOICE_TURN_TIMEOUT_SECS`).
    pub turn_timeout: Duration,
    /// Live calls one api node holds at most (`CALY_MAX_CALLS_PER_NODE`).
    pub max_calls_per_node: usize,
    /// Live calls one tenant has at most, across nodes (`CALY_MAX_CALLS_PER_TENANT`).
    pub max_calls_per_tenant: u64,
    /// Longest wait for `start` after the socket opens.
    pub start_timeout: Duration,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            vad: VadSettings::default(),
            silence_prompt: Duration::from_secs(8),
            silence_prompts: 2,
            dtmf_gap: Duration::from_secs(3),
            turn_timeout: Duration::from_secs(8),
            max_calls_per_node: 200,
            max_calls_per_tenant: 20,
            start_timeout: Duration::from_secs(10),
        }
    }
}
