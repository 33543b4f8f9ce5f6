//! Expected stage costs for predictive drops: a running high percentile of each stage's
//! measured time over its last [`COST_WINDOW`] frames, computed without allocating.
//!
//! **Robust to one outlier.** The percentile is taken over the window *without its single
//! largest sample*. One slow frame, of any size, therefore never moves the estimate (it cannot
//! make the pipeline drop the frames after it as predicted misses); a stage's estimate rises
//! once at least two samples in the window show the higher cost, so a stall shows from its
//! second slow frame on. In steady state (≥ 100 samples) a p99 excludes the largest sample
//! anyway; the rule matters in the first hundred frames — a whole short replay.
//!
//! **Probes.** A frame let through despite a predicted miss (see [`crate::deadline::gate`])
//! re-measures the stage: if it made it through the stage in time, its cost contradicts the
//! estimate and the window restarts from it ([`CostEstimator::record_probe`]); if it missed, it
//! confirms the estimate and is recorded like any other sample.
//!
//! Each stage thread owns its [`CostEstimator`] and publishes the current estimate into the
//! shared, lock-free [`StageCosts`], which every stage reads to predict whether a frame can still
//! make its deadline.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Stage;

/// Number of recent samples the percentile is taken over.
pub const COST_WINDOW: usize = 128;
/// Below this many samples a stage's expected cost is reported as 0 (no prediction yet).
pub const MIN_COST_SAMPLES: usize = 8;

/// A running percentile of one stage's cost, over a fixed window of recent samples.
#[derive(Clone, Debug)]
pub struct CostEstimator {
    samples: [u64; COST_WINDOW],
    scratch: [u64; COST_WINDOW],
    len: usize,
    next: usize,
    percentile: f64,
    estimate: u64,
}

impl CostEstimator {
    /// `percentile` in (0, 100], e.g. `deadline.cost_percentile`.
    pub fn new(percentile: f64) -> Self {
        Self {
            samples: [0; COST_WINDOW],
            scratch: [0; COST_WINDOW],
            len: 0,
            next: 0,
            percentile: percentile.clamp(0.0, 100.0),
            estimate: 0,
        }
    }

    /// Add one measured cost (nanoseconds) and return the updated estimate.
    pub fn record(&mut self, cost_ns: u64) -> u64 {
        self.samples[self.next] = cost_ns;
        self.next = (self.next + 1) % COST_WINDOW;
        self.len = (self.len + 1).min(COST_WINDOW);
        self.estimate = if self.len < MIN_COST_SAMPLES {
            0
        } else {
            let window = &mut self.scratch[..self.len];
            window.copy_from_slice(&self.samples[..self.len]);
            // Set the single largest sample aside (moved to the end), then take the
            // nearest-rank percentile of the rest: the smallest sample ≥ `percentile`% of them.
            let largest = window
                .iter()
                .enumerate()
                .max_by_key(|(_, v)| **v)
                .map_or(0, |(i, _)| i);
            let last = window.len() - 1;
            window.swap(largest, last);
            let rest = &mut window[..last];
            let rank = ((self.percentile / 100.0) * rest.len() as f64).ceil() as usize;
            let k = rank.clamp(1, rest.len()) - 1;
            *rest.select_nth_unstable(k).1
        };
        self.estimate
    }

    /// Add a probe frame's measured cost: `in_time` when the probe was still before its
    /// deadline after this stage's work. A probe in time contradicts the estimate that predicted
    /// its miss, so the window [restarts](Self::restart) from its cost (the samples of a stall
    /// that has ended go); a probe that missed confirms the estimate and is simply recorded.
    pub fn record_probe(&mut self, cost_ns: u64, in_time: bool) -> u64 {
        if in_time {
            self.restart(cost_ns)
        } else {
            self.record(cost_ns)
        }
    }

    /// Forget every sample and start again from `cost_ns` (a probe frame's measurement): the
    /// estimate is 0 — no prediction — until [`MIN_COST_SAMPLES`] new samples exist. Used when
    /// predictions have kept every frame away from a stage, so stale samples (e.g. of a stall
    /// that has ended) cannot keep the pipeline dropping forever.
    pub fn restart(&mut self, cost_ns: u64) -> u64 {
        self.len = 0;
        self.next = 0;
        self.record(cost_ns)
    }

    /// The current estimate in nanoseconds (0 until [`MIN_COST_SAMPLES`] were recorded).
    pub fn estimate(&self) -> u64 {
        self.estimate
    }
}

/// The expected cost of every stage, shared lock-free between stage threads.
#[derive(Debug, Default)]
pub struct StageCosts {
    expected_ns: [AtomicU64; Stage::COUNT],
}

impl StageCosts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Publish `stage`'s current estimate.
    pub fn set_expected(&self, stage: Stage, nanos: u64) {
        self.expected_ns[stage.index()].store(nanos, Ordering::Relaxed);
    }

    /// `stage`'s current estimate.
    pub fn expected(&self, stage: Stage) -> u64 {
        self.expected_ns[stage.index()].load(Ordering::Relaxed)
    }

    /// Expected cost of `stage` and every stage after it.
    pub fn expected_from(&self, stage: Stage) -> u64 {
        Stage::ALL[stage.index()..]
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(self.expected(*s)))
    }

    /// The stage from `stage` on with the largest expected cost: the one a predicted miss is
    /// attributed to (ties go to the earliest).
    pub fn bottleneck_from(&self, stage: Stage) -> Stage {
        Stage::ALL[stage.index()..]
            .iter()
            .copied()
            .fold((stage, 0u64), |(best, cost), s| {
                let c = self.expected(s);
                if c > cost {
                    (s, c)
                } else {
                    (best, cost)
                }
            })
            .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_estimate_until_enough_samples() {
        let mut e = CostEstimator::new(99.0);
        for _ in 0..MIN_COST_SAMPLES - 1 {
            assert_eq!(e.record(1_000), 0);
        }
        assert_eq!(e.record(1_000), 1_000);
    }

    #[test]
    fn high_percentile_tracks_the_tail_of_the_recent_window() {
        let mut e = CostEstimator::new(99.0);
        for i in 0..100u64 {
            e.record(i + 1);
        }
        // Nearest rank 99 of 1..=100.
        assert_eq!(e.estimate(), 99);
        let mut median = CostEstimator::new(50.0);
        for i in 0..100u64 {
            median.record(i + 1);
        }
        assert_eq!(median.estimate(), 50);
        // One outlier is set aside: 1..=100 remain, nearest rank 99 of 100 is 99.
        e.record(1_000_000);
        assert_eq!(e.estimate(), 99);
        // A full window of fast samples pushes the old ones out.
        for _ in 0..COST_WINDOW {
            e.record(10);
        }
        assert_eq!(e.estimate(), 10);
    }

    #[test]
    fn one_outlier_of_any_size_never_moves_the_estimate_and_two_do() {
        for outlier in [31_000, 1_000_000, u64::MAX] {
            let mut e = CostEstimator::new(99.0);
            for _ in 0..20 {
                e.record(30_000);
            }
            assert_eq!(e.record(outlier), 30_000, "outlier {outlier}");
            for _ in 0..5 {
                assert_eq!(e.record(30_000), 30_000);
            }
            // A second slow sample: the stage really got slower (or a stall is under way).
            assert_eq!(e.record(outlier - 1), outlier - 1);
        }
        // Early on too: the first window with enough samples ignores its largest one.
        let mut e = CostEstimator::new(99.0);
        for i in 0..MIN_COST_SAMPLES as u64 - 1 {
            e.record(if i == 3 { 500 } else { 10 });
        }
        assert_eq!(e.record(10), 10);
    }

    #[test]
    fn a_probe_in_time_restarts_the_window_and_a_late_one_confirms_it() {
        let mut e = CostEstimator::new(99.0);
        for _ in 0..10 {
            e.record(150);
        }
        assert_eq!(e.estimate(), 150);
        // The probe missed: it confirms the stall and joins the window.
        assert_eq!(e.record_probe(160, false), 150);
        // The probe made it: the stall is over; no prediction until the window refills.
        assert_eq!(e.record_probe(30, true), 0);
        for _ in 0..MIN_COST_SAMPLES - 2 {
            assert_eq!(e.record(30), 0);
        }
        assert_eq!(e.record(30), 30);
    }

    #[test]
    fn shared_costs_sum_downstream() {
        let c = StageCosts::new();
        c.set_expected(Stage::Preprocess, 2);
        c.set_expected(Stage::Infer, 30);
        c.set_expected(Stage::Publish, 1);
        assert_eq!(c.expected_from(Stage::Ingest), 33);
        assert_eq!(c.expected_from(Stage::Infer), 31);
        assert_eq!(c.expected_from(Stage::Publish), 1);
    }
}
