//! Latency summaries.

use std::time::Duration;

/// The latency at quantile `q` (0–1) of latencies sorted ascending, in milliseconds, by
/// nearest rank (0 when there are none).
pub fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// p50 and p99 of a set of latencies, in milliseconds.
pub fn percentiles(latencies: &mut [Duration]) -> (f64, f64) {
    latencies.sort_unstable();
    (quantile(latencies, 0.50), quantile(latencies, 0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let mut values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let (p50, p99) = percentiles(&mut values);
        assert!(
            (p50 - 50.0).abs() <= 1.0 && (p99 - 99.0).abs() <= 1.0,
            "{p50} {p99}"
        );
    }
}
