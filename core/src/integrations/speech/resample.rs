//! Band-limited resampling between the rates speech moves at (espeak-ng's 22,050 Hz, the
//! telephone's 8 kHz, 16 kHz for speech-to-text, 24 kHz for OpenAI's speech): windowed-sinc
//! interpolation that removes what the lower rate cannot carry instead of folding it back as
//! noise. Kernels are made once per call for each fractional position the ratio visits.

/// Zero crossings of the sinc on each side of a kernel.
const ZERO_CROSSINGS: f64 = 8.0;
/// The passband, as a share of the lower rate's Nyquist frequency.
const PASSBAND: f64 = 0.92;
/// At most this many fractional positions get their own kernel (odd ratios share).
const MAX_PHASES: u64 = 1024;

/// `samples` at `from` Hz, resampled to `to` Hz (same duration).
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() || from == 0 || to == 0 {
        return samples.to_vec();
    }
    let divisor = gcd(u64::from(from), u64::from(to));
    let (up, down) = (u64::from(to) / divisor, u64::from(from) / divisor);
    // Cycles per input sample that survive.
    let cutoff = 0.5 * PASSBAND * (f64::from(to) / f64::from(from)).min(1.0);
    let half = (ZERO_CROSSINGS / (2.0 * cutoff)).ceil() as i64;
    let phases = up.min(MAX_PHASES);
    let kernels: Vec<Vec<f32>> = (0..phases)
        .map(|phase| kernel(phase as f64 / phases as f64, half, cutoff))
        .collect();

    let out_len = (samples.len() as u64 * up / down) as usize;
    (0..out_len as u64)
        .map(|i| {
            let base = (i * down / up) as i64;
            let phase = ((i * down % up) * phases / up) as usize;
            let first = base - half + 1;
            let mut sum = 0f32;
            for (j, weight) in kernels[phase].iter().enumerate() {
                let at = first + j as i64;
                if at >= 0 && (at as usize) < samples.len() {
                    sum += weight * f32::from(samples[at as usize]);
                }
            }
            sum.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
        })
        .collect()
}

/// The weights of input samples `base - half + 1 ..= base + half` for an output that falls
/// `frac` of a sample after `base`: a Hann-windowed sinc, scaled to pass silence-free DC as is.
fn kernel(frac: f64, half: i64, cutoff: f64) -> Vec<f32> {
    let weights: Vec<f64> = (-half + 1..=half)
        .map(|k| {
            let distance = k as f64 - frac;
            let x = 2.0 * cutoff * distance;
            let sinc = if x.abs() < 1e-9 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let window = 0.5 + 0.5 * (std::f64::consts::PI * distance / half as f64).cos();
            if distance.abs() >= half as f64 {
                0.0
            } else {
                sinc * window
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| (w / total) as f32).collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::resample;

    fn tone(hz: f64, rate: u32, seconds: f64) -> Vec<i16> {
        (0..(f64::from(rate) * seconds) as usize)
            .map(|i| {
                ((i as f64 * 2.0 * std::f64::consts::PI * hz / f64::from(rate)).sin() * 10000.0)
                    as i16
            })
            .collect()
    }

    /// Root mean square away from the edges.
    fn rms(samples: &[i16]) -> f64 {
        let inner = &samples[samples.len() / 10..samples.len() * 9 / 10];
        (inner.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / inner.len() as f64).sqrt()
    }

    #[test]
    fn speech_band_tones_survive_and_keep_the_duration() {
        for (from, to, hz) in [
            (8000, 16000, 440.0),
            (16000, 8000, 440.0),
            (22050, 8000, 3000.0),
            (24000, 8000, 1000.0),
            (8000, 24000, 3000.0),
        ] {
            let input = tone(hz, from, 1.0);
            let output = resample(&input, from, to);
            assert_eq!(output.len(), to as usize, "{from} -> {to}");
            let ratio = rms(&output) / rms(&input);
            assert!(
                (0.95..1.05).contains(&ratio),
                "{hz} Hz {from} -> {to}: {ratio}"
            );
        }
    }

    #[test]
    fn what_the_lower_rate_cannot_carry_is_removed_not_folded_back() {
        // 6 kHz is above the telephone's 4 kHz Nyquist: it would alias to 2 kHz.
        let input = tone(6000.0, 22050, 1.0);
        let output = resample(&input, 22050, 8000);
        assert!(
            rms(&output) / rms(&input) < 0.02,
            "{}",
            rms(&output) / rms(&input)
        );
    }
}
