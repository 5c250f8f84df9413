//! Whisper's input features: the log-mel spectrogram of 30 s of 16 kHz audio, computed as
//! OpenAI's reference does (a 400-point STFT with a periodic Hann window, hop 160, reflected at
//! the edges; Slaney mel filters; log10, floored 8 below the peak, scaled to about ±1).

use rustfft::{FftPlanner, num_complex::Complex};
use std::sync::Arc;

/// Samples per second Whisper listens at.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples in one 30 s window.
pub const WINDOW_SAMPLES: usize = 480_000;
/// Spectrogram frames in one window.
pub const FRAMES: usize = 3_000;
const N_FFT: usize = 400;
const HOP: usize = 160;
const BINS: usize = N_FFT / 2 + 1;

/// The filters and the FFT, made once per model.
pub struct MelFeatures {
    n_mels: usize,
    filters: Vec<f32>,
    window: Vec<f32>,
    fft: Arc<dyn rustfft::Fft<f32>>,
}

impl MelFeatures {
    /// For a model with `n_mels` mel bins (80, or 128 for large-v3).
    pub fn new(n_mels: usize) -> Self {
        let window = (0..N_FFT)
            .map(|n| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * n as f32 / N_FFT as f32).cos())
            .collect();
        MelFeatures {
            n_mels,
            filters: slaney_filters(n_mels),
            window,
            fft: FftPlanner::new().plan_fft_forward(N_FFT),
        }
    }

    /// Mel bins per frame.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The `[n_mels][FRAMES]` features (row-major) of at most 30 s of samples in [-1, 1];
    /// shorter audio is padded with silence.
    pub fn of(&self, samples: &[f32]) -> Vec<f32> {
        let samples = &samples[..samples.len().min(WINDOW_SAMPLES)];
        let padded = reflect_padded(samples);
        // Frames past the audio see only silence: their spectrum is zero, no FFT needed.
        let active = (samples.len() + N_FFT / 2).div_ceil(HOP).min(FRAMES);
        let mut mel = vec![0f32; self.n_mels * FRAMES];
        let mut buffer = vec![Complex::new(0f32, 0f32); N_FFT];
        let mut power = [0f32; BINS];
        for frame in 0..active {
            let start = frame * HOP;
            for (n, slot) in buffer.iter_mut().enumerate() {
                let sample = padded.get(start + n).copied().unwrap_or(0.0);
                *slot = Complex::new(sample * self.window[n], 0.0);
            }
            self.fft.process(&mut buffer);
            for (bin, p) in power.iter_mut().enumerate() {
                *p = buffer[bin].norm_sqr();
            }
            for m in 0..self.n_mels {
                let weights = &self.filters[m * BINS..(m + 1) * BINS];
                mel[m * FRAMES + frame] = weights.iter().zip(&power).map(|(w, p)| w * p).sum();
            }
        }
        let mut peak = f32::MIN;
        for value in mel.iter_mut() {
            *value = value.max(1e-10).log10();
            peak = peak.max(*value);
        }
        for value in mel.iter_mut() {
            *value = (value.max(peak - 8.0) + 4.0) / 4.0;
        }
        mel
    }
}

/// `samples` followed by silence to a whole window, reflected by half an FFT at both ends
/// (the reference's `center=True, pad_mode="reflect"`).
fn reflect_padded(samples: &[f32]) -> Vec<f32> {
    let half = N_FFT / 2;
    let mut body = samples.to_vec();
    body.resize(WINDOW_SAMPLES, 0.0);
    let mut out = Vec::with_capacity(WINDOW_SAMPLES + 2 * half);
    out.extend((1..=half).rev().map(|i| body[i]));
    out.extend_from_slice(&body);
    out.extend((1..=half).map(|i| body[WINDOW_SAMPLES - 1 - i]));
    out
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz < 1000.0 {
        hz * 3.0 / 200.0
    } else {
        15.0 + (hz / 1000.0).ln() / (6.4f64.ln() / 27.0)
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel < 15.0 {
        mel * 200.0 / 3.0
    } else {
        1000.0 * ((6.4f64.ln() / 27.0) * (mel - 15.0)).exp()
    }
}

/// Slaney-style, area-normalised triangular filters from 0 to 8 kHz over the FFT's bins
/// (librosa's `mel(sr=16000, n_fft=400)`, which Whisper was trained with), row-major.
fn slaney_filters(n_mels: usize) -> Vec<f32> {
    let nyquist = f64::from(SAMPLE_RATE) / 2.0;
    let top = hz_to_mel(nyquist);
    let edges: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(top * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut filters = vec![0f32; n_mels * BINS];
    for m in 0..n_mels {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let norm = 2.0 / (right - left);
        for bin in 0..BINS {
            let hz = bin as f64 * nyquist / (BINS - 1) as f64;
            let rising = (hz - left) / (centre - left);
            let falling = (right - hz) / (right - centre);
            filters[m * BINS + bin] = (rising.min(falling).max(0.0) * norm) as f32;
        }
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_cover_the_band_and_are_area_normalised() {
        let filters = slaney_filters(80);
        for m in 0..80 {
            let row = &filters[m * BINS..(m + 1) * BINS];
            assert!(row.iter().any(|&w| w > 0.0), "filter {m} is empty");
        }
        // The first filter peaks near 25 Hz (bin 0.6), the last ends at 8 kHz.
        assert!(filters[BINS - 1] == 0.0);
        assert!(filters[79 * BINS + BINS - 2] > 0.0);
    }

    #[test]
    fn a_tone_lights_its_mel_bin_and_silence_stays_at_the_floor() {
        let features = MelFeatures::new(80);
        let tone: Vec<f32> = (0..16_000)
            .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 16_000.0).sin() * 0.5)
            .collect();
        let mel = features.of(&tone);
        assert_eq!(mel.len(), 80 * FRAMES);
        let frame = 50;
        let loudest = (0..80)
            .max_by(|&a, &b| mel[a * FRAMES + frame].total_cmp(&mel[b * FRAMES + frame]))
            .unwrap();
        let centre_hz = mel_to_hz(hz_to_mel(8000.0) * (loudest + 1) as f64 / 81.0);
        assert!((900.0..1100.0).contains(&centre_hz), "{centre_hz}");
        let floor = mel[2999];
        assert!(mel.iter().all(|&v| v >= floor - 1e-6) && mel[loudest * FRAMES + frame] > floor);
        assert!(
            (mel[loudest * FRAMES + frame] - floor - 2.0).abs() < 0.1,
            "the floor is 8 (log10) below the peak, scaled by a quarter"
        );
    }
}
