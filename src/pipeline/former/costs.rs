//! `cost(b)`: the expected time of one engine run over `b` rows, learned online per batch size
//! (the configured percentile of each size's recent runs, [`CostEstimator`]), and `worst(b)`, the
//! slowest of those recent runs, which batches carrying a camera of raised criticality are
//! planned with.
//!
//! Sizes not yet measured are estimated conservatively from the measured ones: between two
//! measured sizes linearly; above the largest measured size `a`, as if batching gained nothing
//! beyond it (`cost(a) / a` per extra row); below the smallest, as that size's cost. The result
//! never decreases with `b`. With nothing measured the cost is 0 (no prediction yet), as for a
//! single stage.

use crate::deadline::CostEstimator;

/// Cost estimates for batch sizes `1..=max_batch`.
#[derive(Clone, Debug)]
pub struct BatchCosts {
    /// `estimators[b - 1]` learns `cost(b)`.
    estimators: Vec<CostEstimator>,
    /// `worst[b - 1]` learns the slowest recent run over `b` rows.
    worst: Vec<CostEstimator>,
}

impl BatchCosts {
    /// Estimators for sizes `1..=max_batch` at `percentile` (start-up: allocates).
    pub fn new(max_batch: usize, percentile: f64) -> Self {
        Self {
            estimators: (0..max_batch.max(1))
                .map(|_| CostEstimator::new(percentile))
                .collect(),
            worst: (0..max_batch.max(1))
                .map(|_| CostEstimator::new(100.0))
                .collect(),
        }
    }

    /// Largest batch size with an estimator.
    pub fn max_batch(&self) -> usize {
        self.estimators.len()
    }

    /// Record one run of `rows` rows that took `cost_ns`. A probe's measurement restarts that
    /// size's estimates when the probe was still in time (see [`CostEstimator::record_probe`]).
    pub fn record(&mut self, rows: usize, cost_ns: u64, probe: Option<bool>) {
        let Some(i) = rows.checked_sub(1) else {
            return;
        };
        for set in [&mut self.estimators, &mut self.worst] {
            if let Some(e) = set.get_mut(i) {
                match probe {
                    Some(in_time) => e.record_probe(cost_ns, in_time),
                    None => e.record(cost_ns),
                };
            }
        }
    }

    /// The measured estimate for exactly `b` rows (0 when not measured).
    pub fn measured(&self, b: usize) -> u64 {
        measured(&self.estimators, b)
    }

    /// Expected cost of a run over `b` rows (see the module doc); 0 when nothing is measured.
    pub fn cost(&self, b: usize) -> u64 {
        curve(&self.estimators, b)
    }

    /// The slowest recent run over `b` rows, estimated like [`BatchCosts::cost`].
    pub fn worst(&self, b: usize) -> u64 {
        curve(&self.worst, b).max(self.cost(b))
    }
}

fn measured(set: &[CostEstimator], b: usize) -> u64 {
    b.checked_sub(1)
        .and_then(|i| set.get(i))
        .map_or(0, CostEstimator::estimate)
}

/// The estimate for `b` rows from `set`, made non-decreasing in `b`.
fn curve(set: &[CostEstimator], b: usize) -> u64 {
    let b = b.clamp(1, set.len().max(1));
    let mut best = 0u64;
    for size in 1..=b {
        best = best.max(raw(set, size));
    }
    best
}

/// The estimate for `b` before making the curve non-decreasing: measured, else interpolated
/// between measured sizes, else extrapolated conservatively.
fn raw(set: &[CostEstimator], b: usize) -> u64 {
    let m = measured(set, b);
    if m > 0 {
        return m;
    }
    let below = (1..b).rev().find(|&a| measured(set, a) > 0);
    let above = (b + 1..=set.len()).find(|&c| measured(set, c) > 0);
    match (below, above) {
        (Some(a), Some(c)) => {
            let (ca, cc) = (measured(set, a) as f64, measured(set, c) as f64);
            let t = (b - a) as f64 / (c - a) as f64;
            (ca + (cc - ca) * t).round() as u64
        }
        (Some(a), None) => {
            let ca = measured(set, a);
            ca.saturating_add(ca / a as u64 * (b - a) as u64)
        }
        (None, Some(c)) => measured(set, c),
        (None, None) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::cost::MIN_COST_SAMPLES;

    fn fill(c: &mut BatchCosts, rows: usize, cost: u64) {
        for _ in 0..MIN_COST_SAMPLES {
            c.record(rows, cost, None);
        }
    }

    #[test]
    fn nothing_measured_predicts_nothing() {
        let c = BatchCosts::new(4, 99.0);
        assert_eq!(c.cost(1), 0);
        assert_eq!(c.cost(4), 0);
    }

    #[test]
    fn unmeasured_sizes_are_estimated_conservatively_and_never_decrease() {
        let mut c = BatchCosts::new(8, 99.0);
        fill(&mut c, 1, 10);
        // Above the largest measured size: no batching gain assumed.
        assert_eq!(c.cost(3), 30);
        fill(&mut c, 4, 16);
        // Between measured sizes: linear.
        assert_eq!(c.cost(2), 12);
        assert_eq!(c.cost(3), 14);
        assert_eq!(c.cost(4), 16);
        assert_eq!(c.cost(6), 24);
        // A noisy smaller size above a larger one never makes cost(b) decrease.
        fill(&mut c, 2, 40);
        assert_eq!(c.cost(3), 40);
        assert_eq!(c.cost(4), 40);
    }

    #[test]
    fn out_of_range_sizes_clamp() {
        let mut c = BatchCosts::new(2, 50.0);
        fill(&mut c, 2, 7);
        assert_eq!(c.cost(0), 7);
        assert_eq!(c.cost(9), 7);
        c.record(0, 1, None);
        c.record(3, 1, None);
        assert_eq!(c.measured(2), 7);
    }
}
