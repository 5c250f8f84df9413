//! Telephone audio: 16-bit PCM samples at a rate, μ-law (G.711) both ways, resampling, and
//! WAV files (mono for speech engines, stereo for Caly's own two-channel recording).

use super::SpeechError;
pub use super::resample::resample;

/// Mono 16-bit PCM at a sample rate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audio {
    /// The samples.
    pub samples: Vec<i16>,
    /// Samples per second.
    pub rate: u32,
}

impl Audio {
    /// Audio from samples at `rate`.
    pub fn new(samples: Vec<i16>, rate: u32) -> Self {
        Audio { samples, rate }
    }

    /// Its length in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        if self.rate == 0 {
            return 0;
        }
        self.samples.len() as u64 * 1000 / u64::from(self.rate)
    }

    /// The same audio at another rate.
    pub fn resampled(&self, rate: u32) -> Audio {
        Audio::new(resample(&self.samples, self.rate, rate), rate)
    }

    /// As a mono 16-bit WAV file.
    pub fn to_wav(&self) -> Vec<u8> {
        wav_bytes(&self.samples, 1, self.rate)
    }
}

/// How audio travels on the Voicebot socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed little-endian PCM ("slin", linear16).
    Pcm16,
    /// G.711 μ-law, one byte a sample.
    Mulaw,
}

impl Encoding {
    /// Bytes per sample.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::Pcm16 => 2,
            Encoding::Mulaw => 1,
        }
    }

    /// Its stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Pcm16 => "pcm16",
            Encoding::Mulaw => "mulaw",
        }
    }

    /// Wire bytes to samples (a trailing odd byte of PCM is dropped).
    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        match self {
            Encoding::Pcm16 => bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect(),
            Encoding::Mulaw => bytes.iter().map(|&b| mulaw_decode(b)).collect(),
        }
    }

    /// Samples to wire bytes.
    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        match self {
            Encoding::Pcm16 => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
            Encoding::Mulaw => samples.iter().map(|&s| mulaw_encode(s)).collect(),
        }
    }
}

const MULAW_BIAS: i32 = 0x84;
const MULAW_CLIP: i32 = 32635;

/// One sample to G.711 μ-law.
pub fn mulaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    value = value.min(MULAW_CLIP) + MULAW_BIAS;
    let top = ((value >> 7) & 0xFF) as u32;
    let exponent = if top == 0 {
        0
    } else {
        (31 - top.leading_zeros()) as i32
    };
    let mantissa = (value >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// One G.711 μ-law byte to a sample.
pub fn mulaw_decode(byte: u8) -> i16 {
    let byte = !byte;
    let sign = byte & 0x80;
    let exponent = i32::from((byte >> 4) & 0x07);
    let mantissa = i32::from(byte & 0x0F);
    let magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// A 16-bit PCM WAV file of interleaved `samples`.
pub fn wav_bytes(samples: &[i16], channels: u16, rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A decoded WAV file: its channels' samples and its rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// One vector per channel.
    pub channels: Vec<Vec<i16>>,
    /// Samples per second.
    pub rate: u32,
}

impl Wav {
    /// The channels mixed to mono.
    pub fn mono(&self) -> Audio {
        let n = self.channels.len().max(1) as i32;
        let len = self.channels.iter().map(Vec::len).max().unwrap_or(0);
        let samples = (0..len)
            .map(|i| {
                let sum: i32 = self
                    .channels
                    .iter()
                    .map(|c| i32::from(c.get(i).copied().unwrap_or(0)))
                    .sum();
                (sum / n) as i16
            })
            .collect();
        Audio::new(samples, self.rate)
    }

    /// One channel as mono audio.
    pub fn channel(&self, index: usize) -> Option<Audio> {
        self.channels
            .get(index)
            .map(|c| Audio::new(c.clone(), self.rate))
    }
}

/// Reads a 16-bit PCM WAV file (any channel count; other chunks are skipped).
pub fn read_wav(bytes: &[u8]) -> Result<Wav, SpeechError> {
    let bad = |why: &str| SpeechError::Unreadable(format!("not a 16-bit PCM WAV file: {why}"));
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("no RIFF/WAVE header"));
    }
    let mut at = 12;
    let mut format: Option<(u16, u32, u16)> = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let body_start = at + 8;
        // A streamed WAV (espeak-ng --stdout) may say 0xFFFFFFFF: the data runs to the end.
        let body_end = body_start.saturating_add(len).min(bytes.len());
        let body = &bytes[body_start..body_end];
        if id == b"fmt " {
            if body.len() < 16 {
                return Err(bad("short fmt chunk"));
            }
            let tag = u16::from_le_bytes([body[0], body[1]]);
            let channels = u16::from_le_bytes([body[2], body[3]]);
            let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
            let bits = u16::from_le_bytes([body[14], body[15]]);
            if (tag != 1 && tag != 0xFFFE) || bits != 16 || channels == 0 {
                return Err(bad("only 16-bit PCM is read"));
            }
            format = Some((channels, rate, bits));
        } else if id == b"data" {
            let (channels, rate, _) = format.ok_or_else(|| bad("data before fmt"))?;
            let samples = Encoding::Pcm16.decode(body);
            let mut split =
                vec![Vec::with_capacity(samples.len() / channels as usize); channels as usize];
            for (i, s) in samples.into_iter().enumerate() {
                split[i % channels as usize].push(s);
            }
            return Ok(Wav {
                channels: split,
                rate,
            });
        }
        at = body_start + len + (len & 1);
        if len == u32::MAX as usize {
            break;
        }
    }
    Err(bad("no data chunk"))
}

/// Two mono tracks as one stereo WAV (left, right), the shorter padded with silence.
pub fn stereo_wav(left: &[i16], right: &[i16], rate: u32) -> Vec<u8> {
    let len = left.len().max(right.len());
    let mut interleaved = Vec::with_capacity(len * 2);
    for i in 0..len {
        interleaved.push(left.get(i).copied().unwrap_or(0));
        interleaved.push(right.get(i).copied().unwrap_or(0));
    }
    wav_bytes(&interleaved, 2, rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_round_trips_within_its_step() {
        for sample in [-32768i16, -20000, -1000, -1, 0, 1, 100, 1000, 8000, 32767] {
            let back = mulaw_decode(mulaw_encode(sample));
            let step = (i32::from(sample).abs() / 16).max(8);
            assert!(
                (i32::from(back) - i32::from(sample)).abs() <= step,
                "{sample} came back as {back}"
            );
        }
        // G.711 reference points: silence is 0xFF, full scale 0x80 / 0x00.
        assert_eq!(mulaw_encode(0), 0xFF);
        assert_eq!(mulaw_encode(32767), 0x80);
        assert_eq!(mulaw_encode(-32768), 0x00);
    }

    #[test]
    fn encodings_decode_what_they_encode() {
        let samples = vec![0i16, 500, -500, 12000, -12000];
        let pcm = Encoding::Pcm16.encode(&samples);
        assert_eq!(pcm.len(), 10);
        assert_eq!(Encoding::Pcm16.decode(&pcm), samples);
        let mulaw = Encoding::Mulaw.encode(&samples);
        assert_eq!(mulaw.len(), 5);
        assert_eq!(Encoding::Mulaw.decode(&mulaw).len(), 5);
    }

    #[test]
    fn wav_files_round_trip_mono_and_stereo() {
        let audio = Audio::new(vec![1, -2, 3, -4], 8000);
        let wav = read_wav(&audio.to_wav()).unwrap();
        assert_eq!(wav.rate, 8000);
        assert_eq!(wav.mono(), audio);
        let stereo = read_wav(&stereo_wav(&[1, 2, 3], &[9], 16000)).unwrap();
        assert_eq!(stereo.channels, vec![vec![1, 2, 3], vec![9, 0, 0]]);
        assert!(read_wav(b"RIFF....WAVEjunk").is_err());
        assert!(read_wav(b"hello").is_err());
    }
}
