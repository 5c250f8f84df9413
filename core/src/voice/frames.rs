//! Outbound audio for Exotel: chunks of at least 3,200 bytes, in multiples of 320 (smaller or
//! irregular chunks play with gaps), about 100 ms each where the format allows, the last one
//! padded with silence; and how long each chunk plays, for real-time pacing.

use super::protocol::MediaFormat;
use crate::integrations::speech::Encoding;
use std::time::Duration;

/// The smallest chunk Exotel plays cleanly.
pub const MIN_CHUNK_BYTES: usize = 3200;
/// Chunks are multiples of this.
pub const CHUNK_MULTIPLE: usize = 320;

/// How a call's outbound audio is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// Bytes per chunk.
    pub chunk_bytes: usize,
    /// How long one chunk plays.
    pub chunk_duration: Duration,
    silence: u8,
}

impl Framing {
    /// The framing for a call's format: 100 ms chunks, raised to 3,200 bytes and rounded up to
    /// a multiple of 320 (8 kHz PCM16: 3,200 B = 200 ms; 16 kHz: 100 ms; 24 kHz: 4,800 B =
    /// 100 ms; 8 kHz μ-law: 3,200 B = 400 ms).
    pub fn for_format(format: MediaFormat) -> Self {
        let per_second = format.bytes_per_second().max(1);
        let tenth = per_second / 10;
        let chunk_bytes = tenth.max(MIN_CHUNK_BYTES).div_ceil(CHUNK_MULTIPLE) * CHUNK_MULTIPLE;
        let micros = chunk_bytes as u64 * 1_000_000 / per_second as u64;
        Framing {
            chunk_bytes,
            chunk_duration: Duration::from_micros(micros),
            silence: match format.encoding {
                Encoding::Pcm16 => 0,
                Encoding::Mulaw => 0xFF,
            },
        }
    }

    /// Cuts wire audio into chunks, padding the last with silence.
    pub fn chunks(&self, wire: &[u8]) -> Vec<Vec<u8>> {
        wire.chunks(self.chunk_bytes)
            .map(|c| {
                let mut chunk = c.to_vec();
                chunk.resize(self.chunk_bytes, self.silence);
                chunk
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_big_enough_multiples_of_320_for_every_format() {
        for encoding in [Encoding::Pcm16, Encoding::Mulaw] {
            for rate in [8000, 16000, 24000] {
                let format = MediaFormat { encoding, rate };
                let framing = Framing::for_format(format);
                assert!(framing.chunk_bytes >= MIN_CHUNK_BYTES);
                assert_eq!(framing.chunk_bytes % CHUNK_MULTIPLE, 0);
                let played = framing.chunk_bytes as f64 / format.bytes_per_second() as f64;
                assert!(
                    (framing.chunk_duration.as_secs_f64() - played).abs() < 1e-6,
                    "{format:?}"
                );
                let chunks = framing.chunks(&vec![1u8; framing.chunk_bytes * 2 + 7]);
                assert_eq!(chunks.len(), 3);
                assert!(chunks.iter().all(|c| c.len() == framing.chunk_bytes));
            }
        }
        let pcm8 = Framing::for_format(MediaFormat::default());
        assert_eq!(pcm8.chunk_bytes, 3200);
        assert_eq!(pcm8.chunk_duration, Duration::from_millis(200));
    }
}
