//! Latencies by kind of request, and their percentiles as a Markdown table.

use std::time::Duration;

/// Every timed request, grouped by kind in the order the kinds were first seen.
#[derive(Debug, Default)]
pub struct Timings {
    kinds: Vec<(&'static str, Vec<Duration>)>,
}

impl Timings {
    pub fn add(&mut self, kind: &'static str, elapsed: Duration) {
        match self.kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, samples)) => samples.push(elapsed),
            None => self.kinds.push((kind, vec![elapsed])),
        }
    }

    /// One row per kind: requests, p50, p95, p99, max (milliseconds).
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| request | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|\n",
        );
        let mut all = Vec::new();
        for (kind, samples) in &self.kinds {
            if !kind.starts_with("list: cursor page") {
                all.extend(samples.iter().copied());
            }
            out.push_str(&row(kind, samples));
        }
        out.push_str(&row("**all timed requests but the walk**", &all));
        out
    }
}

fn row(kind: &str, samples: &[Duration]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    format!(
        "| {kind} | {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
        sorted.len(),
        ms(percentile(&sorted, 50)),
        ms(percentile(&sorted, 95)),
        ms(percentile(&sorted, 99)),
        ms(sorted.last().copied().unwrap_or_default()),
    )
}

/// The nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 95), Duration::from_millis(95));
        assert_eq!(percentile(&samples[..1], 99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }
}
