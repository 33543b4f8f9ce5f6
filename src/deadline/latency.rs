//! Latency histograms (`hdrhistogram`, preallocated, nanoseconds): one per stage (the stage's
//! own work time) and one end to end (capture stamp → publish). Recording never allocates:
//! values beyond the range saturate at [`MAX_TRACKED_NS`].

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::Stage;

/// Largest latency tracked exactly (60 s); larger values are recorded as this.
pub const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// One preallocated latency histogram.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        // Start-up invariant: these constant bounds are valid for hdrhistogram.
        let hist = Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)
            .expect("constant histogram bounds are valid");
        Self { hist }
    }

    /// Record one latency in nanoseconds (saturating; never allocates).
    pub fn record_ns(&mut self, nanos: u64) {
        self.hist.saturating_record(nanos.clamp(1, MAX_TRACKED_NS));
    }

    /// Add every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// How many samples fall at or below each of `bounds_ns` (ascending) and above the previous
    /// bound; the last entry counts everything above the last bound.
    pub fn bucket_counts(&self, bounds_ns: &[u64]) -> Vec<u64> {
        let mut counts = vec![0u64; bounds_ns.len() + 1];
        for v in self.hist.iter_recorded() {
            let value = v.value_iterated_to();
            let i = bounds_ns.partition_point(|b| *b < value);
            if let Some(c) = counts.get_mut(i) {
                *c += v.count_at_value();
            }
        }
        counts
    }

    /// The value at quantile `q` in [0, 1], nanoseconds (0 when empty).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }

    /// p50/p90/p99/p99.9/max.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count(),
            p50_ns: self.quantile_ns(0.5),
            p90_ns: self.quantile_ns(0.9),
            p99_ns: self.quantile_ns(0.99),
            p999_ns: self.quantile_ns(0.999),
            max_ns: if self.hist.is_empty() {
                0
            } else {
                self.hist.max()
            },
        }
    }

    /// The underlying histogram (for plots).
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }
}

/// Percentiles of one histogram, nanoseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub max_ns: u64,
}

/// Per-stage and end-to-end histograms.
#[derive(Clone, Debug, Default)]
pub struct LatencyHistograms {
    /// Each stage's work time (index = [`Stage::index`]).
    pub stages: [LatencyHistogram; Stage::COUNT],
    /// Capture stamp → publish, for published frames.
    pub end_to_end: LatencyHistogram,
}

impl LatencyHistograms {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stage(&self, stage: Stage) -> &LatencyHistogram {
        &self.stages[stage.index()]
    }

    /// Summaries per stage (pipeline order) and end to end.
    pub fn summaries(&self) -> ([LatencySummary; Stage::COUNT], LatencySummary) {
        (
            std::array::from_fn(|i| self.stages[i].summary()),
            self.end_to_end.summary(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_recorded_values() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.summary(), LatencySummary::default());
        for v in 1..=1000u64 {
            h.record_ns(v * 1_000);
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        let near = |a: u64, b: u64| (a as f64 - b as f64).abs() / b as f64 <= 0.002;
        assert!(near(s.p50_ns, 500_000), "{s:?}");
        assert!(near(s.p99_ns, 990_000), "{s:?}");
        assert!(near(s.max_ns, 1_000_000), "{s:?}");
    }

    #[test]
    fn out_of_range_values_saturate() {
        let mut h = LatencyHistogram::new();
        h.record_ns(0);
        h.record_ns(u64::MAX);
        assert_eq!(h.count(), 2);
        assert!(h.summary().max_ns >= MAX_TRACKED_NS);
    }
}
