//! Voice-activity detection: splits the caller's audio into utterances. Audio is judged in
//! 20 ms frames by loudness (RMS); speech starts after `min_speech_ms` of loud frames (a click is
//! not a barge-in) and an utterance ends after `silence_ms` of quiet, or at `max_utterance_ms`.
//! Frames arrive in any size; the detector keeps the remainder.

use std::collections::VecDeque;

/// The detector's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VadSettings {
    /// RMS level (of 32,767) above which a frame is speech (`CALY_VAD_THRESHOLD`).
    pub threshold: u32,
    /// Quiet that ends an utterance (`CALY_VAD_SILENCE_MS`).
    pub silence_ms: u32,
    /// Longest utterance before it is cut (`CALY_VAD_MAX_UTTERANCE_MS`).
    pub max_utterance_ms: u32,
    /// Loud audio needed before speech counts as started (`CALY_VAD_MIN_SPEECH_MS`).
    pub min_speech_ms: u32,
}

impl Default for VadSettings {
    fn default() -> Self {
        VadSettings {
            threshold: 400,
            silence_ms: 700,
            max_utterance_ms: 15_000,
            min_speech_ms: 120,
        }
    }
}

/// What the detector saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VadEvent {
    /// The caller started speaking (barge-in when the agent is talking).
    SpeechStarted,
    /// One whole utterance, with a little audio from before it started.
    Utterance(Vec<i16>),
}

const FRAME_MS: u32 = 20;
const PREROLL_MS: u32 = 200;

/// A detector for one call's audio at one rate.
#[derive(Debug)]
pub struct Vad {
    settings: VadSettings,
    frame_len: usize,
    pending: Vec<i16>,
    preroll: VecDeque<i16>,
    preroll_len: usize,
    loud_frames: u32,
    quiet_frames: u32,
    speaking: bool,
    utterance: Vec<i16>,
    max_len: usize,
}

/// The loudness of a frame: its root mean square.
pub(crate) fn rms(frame: &[i16]) -> u32 {
    if frame.is_empty() {
        return 0;
    }
    let sum: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / frame.len() as f64).sqrt() as u32
}

impl Vad {
    /// A detector for audio at `rate`.
    pub fn new(rate: u32, settings: VadSettings) -> Self {
        let per_ms = rate as usize / 1000;
        Vad {
            settings,
            frame_len: (per_ms * FRAME_MS as usize).max(1),
            pending: Vec::new(),
            preroll: VecDeque::new(),
            preroll_len: per_ms * PREROLL_MS as usize,
            loud_frames: 0,
            quiet_frames: 0,
            speaking: false,
            utterance: Vec::new(),
            max_len: per_ms * settings.max_utterance_ms as usize,
        }
    }

    /// True while the caller is speaking.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Feeds audio; returns what it completed.
    pub fn push(&mut self, samples: &[i16]) -> Vec<VadEvent> {
        self.pending.extend_from_slice(samples);
        let mut events = Vec::new();
        let whole = self.pending.len() / self.frame_len * self.frame_len;
        let frames: Vec<i16> = self.pending.drain(..whole).collect();
        for frame in frames.chunks(self.frame_len) {
            self.frame(frame, &mut events);
        }
        events
    }

    /// Ends the audio: an utterance in progress is returned as it is.
    pub fn finish(&mut self) -> Option<Vec<i16>> {
        self.speaking.then(|| self.end_utterance())
    }

    fn end_utterance(&mut self) -> Vec<i16> {
        self.speaking = false;
        self.loud_frames = 0;
        self.quiet_frames = 0;
        self.preroll.clear();
        std::mem::take(&mut self.utterance)
    }

    fn frame(&mut self, frame: &[i16], events: &mut Vec<VadEvent>) {
        let loud = rms(frame) >= self.settings.threshold;
        if !self.speaking {
            self.preroll.extend(frame.iter().copied());
            while self.preroll.len() > self.preroll_len.max(frame.len()) {
                self.preroll.pop_front();
            }
            self.loud_frames = if loud { self.loud_frames + 1 } else { 0 };
            if self.loud_frames * FRAME_MS >= self.settings.min_speech_ms.max(FRAME_MS) {
                self.speaking = true;
                self.quiet_frames = 0;
                self.utterance = self.preroll.drain(..).collect();
                events.push(VadEvent::SpeechStarted);
            }
            return;
        }
        self.utterance.extend_from_slice(frame);
        self.quiet_frames = if loud { 0 } else { self.quiet_frames + 1 };
        let ended = self.quiet_frames * FRAME_MS >= self.settings.silence_ms;
        if ended || self.utterance.len() >= self.max_len {
            let utterance = self.end_utterance();
            events.push(VadEvent::Utterance(utterance));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: usize, rate: usize) -> Vec<i16> {
        (0..ms * rate / 1000)
            .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
            .collect()
    }

    fn silence(ms: usize, rate: usize) -> Vec<i16> {
        vec![0; ms * rate / 1000]
    }

    #[test]
    fn speech_then_silence_is_one_utterance_whatever_the_frame_size() {
        for chunk in [160usize, 333, 800, 1601] {
            let mut audio = silence(300, 8000);
            audio.extend(tone(1000, 8000));
            audio.extend(silence(1000, 8000));
            let mut vad = Vad::new(8000, VadSettings::default());
            let events: Vec<VadEvent> = audio.chunks(chunk).flat_map(|c| vad.push(c)).collect();
            assert_eq!(events.len(), 2, "chunk {chunk}: {events:?}");
            assert_eq!(events[0], VadEvent::SpeechStarted);
            let VadEvent::Utterance(utterance) = &events[1] else {
                panic!("an utterance")
            };
            // The speech, the pre-roll and the trailing silence that ended it.
            let ms = utterance.len() / 8;
            assert!((1000..=2000).contains(&ms), "chunk {chunk}: {ms} ms");
        }
    }

    #[test]
    fn clicks_are_not_speech_and_long_speech_is_cut() {
        let mut vad = Vad::new(16000, VadSettings::default());
        let mut audio = tone(40, 16000);
        audio.extend(silence(500, 16000));
        assert!(vad.push(&audio).is_empty());

        let settings = VadSettings {
            max_utterance_ms: 2000,
            ..VadSettings::default()
        };
        let mut vad = Vad::new(8000, settings);
        let events = vad.push(&tone(5000, 8000));
        let utterances = events
            .iter()
            .filter(|e| matches!(e, VadEvent::Utterance(_)))
            .count();
        assert_eq!(utterances, 2, "{} events", events.len());
        assert!(vad.is_speaking());
        assert!(vad.finish().is_some());
        assert!(vad.finish().is_none());
    }
}
