//! A recording's channel cut into timed pieces of speech, each short enough for one
//! speech-to-text request: the live call's voice-activity detector run over the whole channel,
//! the position of every utterance kept, and its trailing quiet trimmed from the end time.

use crate::integrations::speech::Audio;
use crate::voice::vad::{Vad, VadEvent, VadSettings, rms};

/// One piece of speech on a channel's timeline.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Where it starts, from the start of the recording.
    pub start_ms: u64,
    /// Where the speech in it ends.
    pub end_ms: u64,
    /// Its audio.
    pub audio: Audio,
}

/// The longest piece sent to speech-to-text at once.
pub const MAX_CHUNK_MS: u32 = 25_000;

const FRAME_MS: usize = 20;

/// The channel's speech, in order. Quiet channels give none.
pub fn speech_chunks(audio: &Audio, vad: VadSettings) -> Vec<Chunk> {
    let rate = audio.rate.max(1000);
    let per_ms = rate as usize / 1000;
    let frame = per_ms * FRAME_MS;
    let settings = VadSettings {
        max_utterance_ms: MAX_CHUNK_MS,
        ..vad
    };
    let mut detector = Vad::new(rate, settings);
    let mut chunks = Vec::new();
    let mut consumed = 0usize;
    let take = |samples: Vec<i16>, ended_at: usize, chunks: &mut Vec<Chunk>| {
        let start = ended_at.saturating_sub(samples.len());
        let spoken = trimmed_len(&samples, frame, vad.threshold);
        chunks.push(Chunk {
            start_ms: (start / per_ms) as u64,
            end_ms: ((start + spoken) / per_ms) as u64,
            audio: Audio::new(samples, rate),
        });
    };
    for piece in audio.samples.chunks(frame.max(1)) {
        consumed += piece.len();
        for event in detector.push(piece) {
            if let VadEvent::Utterance(samples) = event {
                take(samples, consumed, &mut chunks);
            }
        }
    }
    if let Some(samples) = detector.finish() {
        take(samples, consumed, &mut chunks);
    }
    chunks
}

/// The utterance's length without the quiet frames at its end.
fn trimmed_len(samples: &[i16], frame: usize, threshold: u32) -> usize {
    let mut end = samples.len();
    while end > 0 {
        let from = end.saturating_sub(frame.max(1));
        if rms(&samples[from..end]) >= threshold {
            break;
        }
        end = from;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: usize, rate: usize) -> Vec<i16> {
        (0..ms * rate / 1000)
            .map(|i| if i % 2 == 0 { 3000 } else { -3000 })
            .collect()
    }

    fn quiet(ms: usize, rate: usize) -> Vec<i16> {
        vec![0; ms * rate / 1000]
    }

    #[test]
    fn each_utterance_keeps_its_place_on_the_timeline() {
        let rate = 8000;
        let mut samples = quiet(1000, rate);
        samples.extend(tone(800, rate));
        samples.extend(quiet(1500, rate));
        samples.extend(tone(500, rate));
        samples.extend(quiet(1000, rate));
        let chunks = speech_chunks(&Audio::new(samples, 8000), VadSettings::default());
        assert_eq!(chunks.len(), 2, "{chunks:?}");
        // The pre-roll reaches back 200 ms before speech was confirmed.
        assert!(
            (780..=1000).contains(&chunks[0].start_ms),
            "{}",
            chunks[0].start_ms
        );
        assert!(
            (1780..=1820).contains(&chunks[0].end_ms),
            "{}",
            chunks[0].end_ms
        );
        assert!(
            (3200..=3300).contains(&chunks[1].start_ms),
            "{}",
            chunks[1].start_ms
        );
        assert!(
            (3780..=3820).contains(&chunks[1].end_ms),
            "{}",
            chunks[1].end_ms
        );
    }

    #[test]
    fn long_speech_is_cut_into_pieces_and_silence_gives_none() {
        let chunks = speech_chunks(
            &Audio::new(tone(60_000, 8000), 8000),
            VadSettings::default(),
        );
        assert_eq!(chunks.len(), 3);
        assert!(
            chunks
                .iter()
                .all(|c| c.audio.duration_ms() <= u64::from(MAX_CHUNK_MS))
        );
        let silent = speech_chunks(&Audio::new(quiet(5000, 8000), 8000), VadSettings::default());
        assert!(silent.is_empty());
    }
}
