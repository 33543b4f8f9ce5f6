//! The `edf` policy of the batch former: deadline order, batches only as large as every deadline
//! in them allows, criticality first under overload, holds that never break a deadline. The
//! rules are stated in the [parent module](super).

use std::cmp::Reverse;

use super::{BatchFormer, Candidate, Decision, Plan, PREDICTED_MISS_AT_INFER};
use crate::deadline::{Entry, MonoTime};
use crate::pipeline::camera::CameraId;

/// Smallest extra wait allowed past a frame's expected arrival while holding.
const MIN_HOLD_JITTER_NS: u64 = 1_000_000;

impl BatchFormer {
    pub(super) fn plan_edf(
        &mut self,
        now: MonoTime,
        candidates: &[Candidate],
        plan: &mut Plan,
    ) -> Decision {
        // A frame must finish before its deadline, and start before its camera's next frame
        // replaces it (latest wins: a frame still waiting then is superseded).
        self.start_by.clear();
        for c in candidates {
            let next = self
                .arrivals
                .next_ready(c.camera)
                .filter(|t| *t > c.ready_at);
            self.start_by
                .push(next.unwrap_or(MonoTime::from_nanos(u64::MAX)));
        }
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
            let probe = candidates[i].probe
                || self.gate.decide(Err(PREDICTED_MISS_AT_INFER)) == Ok(Entry::Probe);
            if probe {
                plan.run.push(i);
                plan.probe = true;
                return Decision::Run;
            }
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
        let first = self.room_for_critical(now, candidates, first);
        let _ = self.gate.decide(Ok(()));

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
    /// earliest deadline in it and starts before any of its frames is superseded:
    /// `Ok(size of the first batch)`, or `Err(position in the order of the first frame no batch
    /// can serve in time)`.
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
            // The live frames from here, in order, that can still start at t.
            let mut fits = 0;
            let mut scan = pos;
            while scan < n && fits < self.settings.max_batch {
                let i = self.order[scan];
                if self.live[i] {
                    // A batch starting now always may: the successor has not arrived yet.
                    if t > now && t >= self.start_by[i] {
                        if fits == 0 {
                            return Err(scan);
                        }
                        break;
                    }
                    fits += 1;
                }
                scan += 1;
            }
            let mut b = fits;
            while b > 0 && !self.batch_fits(t, candidates, pos, b, deadline) {
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

    /// Whether `b` live frames from `pos`, started at `t`, finish in time: by `cost(b)` before the
    /// earliest deadline, and — for frames of raised criticality — by the slowest recent run
    /// before their own deadline.
    fn batch_fits(
        &self,
        t: MonoTime,
        candidates: &[Candidate],
        pos: usize,
        b: usize,
        deadline: MonoTime,
    ) -> bool {
        let finish = |cost: u64| t.add_nanos(cost.saturating_add(self.downstream_ns));
        if finish(self.costs.cost(b)) >= deadline {
            return false;
        }
        let worst = finish(self.costs.worst(b));
        self.order[pos..]
            .iter()
            .copied()
            .filter(|&i| self.live[i])
            .take(b)
            .filter(|&i| candidates[i].criticality > self.base_criticality)
            .all(|i| worst < candidates[i].deadline)
    }

    /// The first batch's size, shrunk so that the engine is free in time for the next frame of
    /// every camera of raised criticality that has no frame waiting now: a run never makes the
    /// next critical frame late by its own length (the engine cannot be interrupted).
    fn room_for_critical(&self, now: MonoTime, candidates: &[Candidate], b: usize) -> usize {
        let mut b = b;
        for (i, &criticality) in self.settings.criticalities.iter().enumerate() {
            let camera = CameraId::at(i);
            if criticality <= self.base_criticality
                || candidates
                    .iter()
                    .enumerate()
                    .any(|(k, c)| self.live[k] && c.camera == camera)
            {
                continue;
            }
            let Some((arrives, due)) = self.arrivals.next_frame(camera) else {
                continue;
            };
            let solo = self.costs.worst(1).saturating_add(self.downstream_ns);
            while b > 1 {
                let free = now.add_nanos(self.costs.worst(b));
                if free <= arrives || free.add_nanos(solo) < due {
                    break;
                }
                b -= 1;
            }
        }
        b
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
        // Holding delays each of the b frames by the wait plus the extra row's cost, and spares
        // the newcomer a solo run after this batch: hold only when the frames involved finish
        // earlier in total (which also means the wait is shorter than the engine time saved).
        let saving = cost_b.saturating_add(cost_1).saturating_sub(cost_next);
        let wait = expected.nanos_since(now);
        let delay_each = wait.saturating_add(cost_next.saturating_sub(cost_b));
        let gain = saving.saturating_sub(wait);
        let finish_with_it = expected.add_nanos(cost_next.saturating_add(self.downstream_ns));
        if wait >= saving
            || delay_each.saturating_mul(b as u64) >= gain
            || finish_with_it >= earliest
        {
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
