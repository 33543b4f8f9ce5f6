//! The `edf` policy of the batch former: deadline order, batches only as large as every deadline
//! in them allows, criticality first under overload, holds that never break a deadline. The
//! rules are stated in the [parent module](super).

use std::cmp::Reverse;

use super::{
    BatchFormer, Candidate, Decision, Plan, PREDICTED_MISS_AT_INFER, PROBE_AFTER_PREDICTED_MISSES,
};
use crate::deadline::MonoTime;

/// Smallest extra wait allowed past a frame's expected arrival while holding.
const MIN_HOLD_JITTER_NS: u64 = 1_000_000;

impl BatchFormer {
    pub(super) fn plan_edf(
        &mut self,
        now: MonoTime,
        candidates: &[Candidate],
        plan: &mut Plan,
    ) -> Decision {
        self.order.clear();
        self.order.extend(0..candidates.len());
        // Total order (seq breaks ties), so the unstable, allocation-free sort is deterministic.
        self.order.sort_unstable_by_key(|&i| {
            let c = &candidates[i];
            (c.deadline, Reverse(c.criticality), c.seq)
        });
        self.live.clear();
        self.live.resize(candidates.len(), true);

        if !self.settings.predictive {
            plan.run
                .extend(self.order.iter().copied().take(self.settings.max_batch));
            return Decision::Run;
        }

        // 1. A frame that cannot make its deadline even alone goes before it wastes the engine —
        //    unless predictions have kept frames away for a while: then it runs alone as a probe.
        let solo = self.costs.cost(1).saturating_add(self.downstream_ns);
        for pos in 0..self.order.len() {
            let i = self.order[pos];
            if now.add_nanos(solo) < candidates[i].deadline {
                continue;
            }
            if candidates[i].probe || self.predicted_in_a_row + 1 >= PROBE_AFTER_PREDICTED_MISSES {
                self.predicted_in_a_row = 0;
                plan.run.push(i);
                plan.probe = true;
                return Decision::Run;
            }
            self.predicted_in_a_row += 1;
            self.live[i] = false;
            plan.drop.push((i, PREDICTED_MISS_AT_INFER));
        }

        // 2. Everyone left must be servable by consecutive batches; if not, the least critical
        //    frame (then the latest deadline) up to the first failure goes, and we plan again.
        let first = loop {
            match self.greedy(now, candidates) {
                Ok(first) => break first,
                Err(fail) => {
                    let victim = self.order[..=fail]
                        .iter()
                        .copied()
                        .filter(|&i| self.live[i])
                        .min_by_key(|&i| {
                            let c = &candidates[i];
                            (c.criticality, Reverse(c.deadline), Reverse(c.seq))
                        });
                    match victim {
                        Some(v) => {
                            self.live[v] = false;
                            plan.drop.push((v, PREDICTED_MISS_AT_INFER));
                        }
                        // Unreachable: the frame at `fail` is live.
                        None => break 0,
                    }
                }
            }
        };
        if first == 0 {
            return Decision::Wait { until: None };
        }
        self.predicted_in_a_row = 0;

        // 3. Hold the batch open for a frame about to arrive, if that is safe and pays.
        let live_count = self.live.iter().filter(|l| **l).count();
        if self.settings.batching.hold
            && !self.flushing
            && first == live_count
            && first < self.settings.max_batch
        {
            if let Some(until) = self.hold_until(now, candidates, first) {
                return Decision::Wait { until: Some(until) };
            }
        }
        plan.run.extend(
            self.order
                .iter()
                .copied()
                .filter(|&i| self.live[i])
                .take(first),
        );
        Decision::Run
    }

    /// Greedy batches over the live frames in deadline order, each the largest that meets the
    /// earliest deadline in it: `Ok(size of the first batch)`, or `Err(position in the order of
    /// the first frame no batch can serve in time)`.
    fn greedy(&self, now: MonoTime, candidates: &[Candidate]) -> Result<usize, usize> {
        let mut t = now;
        let mut first = None;
        let mut pos = 0;
        let n = self.order.len();
        while pos < n {
            if !self.live[self.order[pos]] {
                pos += 1;
                continue;
            }
            let deadline = candidates[self.order[pos]].deadline;
            let remaining = self.order[pos..].iter().filter(|&&i| self.live[i]).count();
            let mut b = remaining.min(self.settings.max_batch);
            while b > 0
                && t.add_nanos(self.costs.cost(b).saturating_add(self.downstream_ns)) >= deadline
            {
                b -= 1;
            }
            if b == 0 {
                return Err(pos);
            }
            first.get_or_insert(b);
            t = t.add_nanos(self.costs.cost(b));
            // Skip past the b live frames of this batch.
            let mut taken = 0;
            while pos < n && taken < b {
                if self.live[self.order[pos]] {
                    taken += 1;
                }
                pos += 1;
            }
        }
        Ok(first.unwrap_or(0))
    }

    /// How long to hold a batch of `b` (every live frame) for the next expected frame, if at all.
    fn hold_until(&self, now: MonoTime, candidates: &[Candidate], b: usize) -> Option<MonoTime> {
        let earliest = self
            .order
            .iter()
            .copied()
            .find(|&i| self.live[i])
            .map(|i| candidates[i].deadline)?;
        let waiting = |cam| {
            candidates
                .iter()
                .enumerate()
                .any(|(i, c)| self.live[i] && c.camera == cam)
        };
        let (camera, expected) = self.arrivals.earliest_after(now, waiting)?;
        let (cost_b, cost_1, cost_next) = (
            self.costs.cost(b),
            self.costs.cost(1),
            self.costs.cost(b + 1),
        );
        if cost_next == 0 {
            return None; // nothing measured: no basis for a hold
        }
        let saving = cost_b.saturating_add(cost_1).saturating_sub(cost_next);
        let finish_with_it = expected.add_nanos(cost_next.saturating_add(self.downstream_ns));
        if expected.nanos_since(now) >= saving || finish_with_it >= earliest {
            return None;
        }
        // Start no later than the last instant at which b+1 rows still meet the earliest deadline.
        let latest_start = MonoTime::from_nanos(
            earliest
                .as_nanos()
                .saturating_sub(cost_next.saturating_add(self.downstream_ns))
                .saturating_sub(1),
        );
        let jitter = (self.arrivals.period_ns(camera) / 10).max(MIN_HOLD_JITTER_NS);
        Some(expected.add_nanos(jitter).min(latest_start))
    }
}
