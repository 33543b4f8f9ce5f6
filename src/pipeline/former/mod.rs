//! The batch former (ARCHITECTURE §13): when the engine is free, which ready frames run
//! together, which wait, which are dropped, and whether to hold a batch open.
//!
//! The former is a plain decision maker — no clock, no threads, no allocation after `new`: the
//! infer thread (or the simulation) hands it the ready frames and `now`, and it answers with a
//! [`Decision`] and a [`Plan`]. Policies ([`BatchPolicyKind`]):
//!
//! * **edf** (redline): frames in deadline order, each of which must also start before its
//!   camera's next frame is expected (a frame still waiting then is superseded: latest wins);
//!   a frame that cannot make its deadline even
//!   alone (`now + cost(1) + downstream > deadline`) is dropped before the engine as
//!   `predicted_miss:infer`; the first batch is the largest `b ≤ max_batch` with
//!   `now + cost(b) + downstream ≤` the earliest deadline in it. If the frames that wait cannot
//!   all be served in time by the batches that follow (greedy, in deadline order), the frame with
//!   the lowest criticality — then the latest deadline — among those up to the first one that
//!   fails is dropped, and the plan is made again: under overload the least critical camera
//!   loses frames first. A batch is held open for a frame about to arrive (from a camera with no
//!   frame waiting) only while every deadline in it still holds after the wait, and only when
//!   the frames involved finish earlier in total: the wait plus the extra row, paid by each of
//!   the `b` frames, must be less than what the newcomer saves by not running alone after them
//!   (`cost(b) + cost(1) − cost(b+1) − wait`). Never for a fixed time. Holding buys latency for
//!   one frame at the others' expense, so it is rare; capacity under load comes from the
//!   batches that form by themselves while the engine is busy.
//! * **fifo**: one frame per run, in the order frames became ready: what one node per camera
//!   sharing a GPU amounts to.
//! * **timeout**: round-robin batches of up to `min(max_batch, cameras)` frames, pushed when full
//!   or `batching.timeout_ms` after the batch's first frame became ready (`nvstreammux`).
//!
//! Every policy runs behind the pipeline's own checks: a frame whose deadline has passed is
//! dropped (`missed_at:infer`) before it takes a row, whatever the policy chose.
//!
//! `cost(b)` is learned per batch size ([`BatchCosts`]); `downstream` is the expected cost of the
//! stages after the engine. Whether a frame that cannot make it alone is dropped or runs alone as
//! a *probe* is decided by a [`PredictionGate`], as at every stage (the second such frame in a row
//! probes, then every fourth); a probe still in time restarts `cost(1)`, so estimates inflated by
//! a stall that has ended cannot keep every frame away.

mod arrivals;
mod costs;
mod edf;
mod stats;

pub use arrivals::ReadyTracker;
pub use costs::BatchCosts;
pub use stats::FormerStats;

use crate::config::{BatchPolicyKind, BatchingConfig};
use crate::deadline::clock::ms_to_nanos;
use crate::deadline::{MonoTime, PredictionGate};
use crate::error::{DropReason, Stage};
use crate::pipeline::camera::CameraId;

/// A frame ready for the engine, as the former sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub camera: CameraId,
    pub seq: u64,
    /// The last instant (exclusive) at which the frame may be published.
    pub deadline: MonoTime,
    pub criticality: i32,
    /// When the frame became ready for the engine.
    pub ready_at: MonoTime,
    /// Already a probe (an earlier stage let it through despite a predicted miss): the former
    /// does not drop it for a predicted miss either, it runs alone.
    pub probe: bool,
}

/// What the engine thread should do now.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run [`Plan::run`] now.
    Run,
    /// Run nothing now: wait for another frame, or until `until` at the latest (a held batch or
    /// a pending timeout), then ask again.
    Wait { until: Option<MonoTime> },
}

/// The former's answer beside the [`Decision`]: candidate indices (into the slice given to
/// [`BatchFormer::plan`]).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Frames to drop now, with why.
    pub drop: Vec<(usize, DropReason)>,
    /// Frames to run, in row order.
    pub run: Vec<usize>,
    /// The run is a probe (a frame predicted to miss, let through to re-measure `cost(1)`).
    pub probe: bool,
}

impl Plan {
    /// Room for `cameras` candidates (start-up).
    pub fn with_capacity(cameras: usize) -> Self {
        Self {
            drop: Vec::with_capacity(cameras),
            run: Vec::with_capacity(cameras),
            probe: false,
        }
    }

    fn clear(&mut self) {
        self.drop.clear();
        self.run.clear();
        self.probe = false;
    }
}

/// What the former needs from the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct FormerSettings {
    pub batching: BatchingConfig,
    /// Rows one engine run takes.
    pub max_batch: usize,
    /// Number of cameras (frames that can be ready at once).
    pub cameras: usize,
    /// `deadline.predictive`: with it off, edf drops nothing predictively and never holds.
    pub predictive: bool,
    /// `deadline.cost_percentile`.
    pub cost_percentile: f64,
    /// Each camera's criticality (camera index order). Batches carrying a camera more critical
    /// than the least critical one are planned with the slowest recent run, not the percentile.
    pub criticalities: Vec<i32>,
}

/// The batch former. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct BatchFormer {
    settings: FormerSettings,
    timeout_ns: u64,
    costs: BatchCosts,
    arrivals: ReadyTracker,
    downstream_ns: u64,
    gate: PredictionGate,
    /// Round-robin position of the timeout policy (next camera to serve first).
    round_robin: usize,
    /// When the current hold began, while one is in force.
    holding_since: Option<MonoTime>,
    /// Planning for the last frames: no holds, no timeouts.
    flushing: bool,
    /// The lowest configured criticality: frames above it are planned conservatively.
    base_criticality: i32,
    stats: FormerStats,
    /// Scratch: candidate indices in deadline order, which are still live, and by when each
    /// must start (before its camera's next frame supersedes it).
    order: Vec<usize>,
    live: Vec<bool>,
    start_by: Vec<MonoTime>,
}

impl BatchFormer {
    /// A former for `settings` (start-up: allocates every buffer it will use).
    pub fn new(settings: FormerSettings) -> Self {
        let max_batch = settings.max_batch.max(1);
        let cameras = settings.cameras.max(1);
        Self {
            timeout_ns: ms_to_nanos(settings.batching.timeout_ms),
            costs: BatchCosts::new(max_batch, settings.cost_percentile),
            arrivals: ReadyTracker::new(cameras),
            downstream_ns: 0,
            gate: PredictionGate::new(),
            round_robin: 0,
            holding_since: None,
            flushing: false,
            base_criticality: settings.criticalities.iter().copied().min().unwrap_or(0),
            stats: FormerStats::new(max_batch, cameras),
            order: Vec::with_capacity(cameras),
            live: Vec::with_capacity(cameras),
            start_by: Vec::with_capacity(cameras),
            settings: FormerSettings {
                max_batch,
                cameras,
                ..settings
            },
        }
    }

    pub fn policy(&self) -> BatchPolicyKind {
        self.settings.batching.policy
    }

    pub fn max_batch(&self) -> usize {
        self.settings.max_batch
    }

    /// Expected cost of one run over `b` rows, nanoseconds.
    pub fn cost(&self, b: usize) -> u64 {
        self.costs.cost(b)
    }

    /// The learned costs.
    pub fn costs(&self) -> &BatchCosts {
        &self.costs
    }

    /// Set the expected cost of the stages after the engine (decode + publish), nanoseconds.
    pub fn set_downstream(&mut self, nanos: u64) {
        self.downstream_ns = nanos;
    }

    /// A frame of `camera` became ready at `now`, due at `deadline` (feeds the estimates of
    /// each camera's next frame, used for holds and to keep room for critical cameras).
    pub fn on_ready(&mut self, camera: CameraId, now: MonoTime, deadline: MonoTime) {
        self.arrivals.on_ready(camera, now, deadline);
    }

    /// One engine run over `rows` rows took `cost_ns`; `probe`: `Some(in time)` for a probe run
    /// (one still in time restarts that size's estimate).
    pub fn record(&mut self, rows: usize, cost_ns: u64, probe: Option<bool>) {
        self.costs.record(rows, cost_ns, probe);
    }

    /// Batch sizes, holds, probes and drops so far.
    pub fn stats(&self) -> &FormerStats {
        &self.stats
    }

    /// Decide what to do with the ready `candidates` at `now`; the answer's details go into
    /// `plan` (cleared first). Allocation-free once `plan` and the former have their capacity.
    pub fn plan(&mut self, now: MonoTime, candidates: &[Candidate], plan: &mut Plan) -> Decision {
        self.flushing = false;
        self.decide(now, candidates, plan)
    }

    /// Like [`BatchFormer::plan`] when no more frames will come (shutdown, end of input): never
    /// holds, never waits for a timeout.
    pub fn plan_final(
        &mut self,
        now: MonoTime,
        candidates: &[Candidate],
        plan: &mut Plan,
    ) -> Decision {
        self.flushing = true;
        let d = self.decide(now, candidates, plan);
        self.flushing = false;
        d
    }

    fn decide(&mut self, now: MonoTime, candidates: &[Candidate], plan: &mut Plan) -> Decision {
        plan.clear();
        let decision = if candidates.is_empty() {
            Decision::Wait { until: None }
        } else {
            match self.settings.batching.policy {
                BatchPolicyKind::Edf => self.plan_edf(now, candidates, plan),
                BatchPolicyKind::Fifo => self.plan_fifo(candidates, plan),
                BatchPolicyKind::Timeout => self.plan_timeout(now, candidates, plan),
            }
        };
        self.account(now, candidates, plan, decision);
        decision
    }

    fn plan_fifo(&mut self, candidates: &[Candidate], plan: &mut Plan) -> Decision {
        let first = candidates
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| (c.ready_at, c.seq))
            .map(|(i, _)| i);
        match first {
            Some(i) => {
                plan.run.push(i);
                Decision::Run
            }
            None => Decision::Wait { until: None },
        }
    }

    fn plan_timeout(
        &mut self,
        now: MonoTime,
        candidates: &[Candidate],
        plan: &mut Plan,
    ) -> Decision {
        let target = self.settings.max_batch.min(self.settings.cameras).max(1);
        let opened = candidates.iter().map(|c| c.ready_at).min().unwrap_or(now);
        let push_at = opened.add_nanos(self.timeout_ns);
        if candidates.len() < target && now < push_at && !self.flushing {
            return Decision::Wait {
                until: Some(push_at),
            };
        }
        // Round-robin: cameras in index order starting after the last one served.
        let cameras = self.settings.cameras;
        self.order.clear();
        self.order.extend(0..candidates.len());
        let start = self.round_robin;
        self.order.sort_by_key(|&i| {
            let cam = candidates[i].camera.index();
            (
                (cam + cameras - start % cameras) % cameras,
                candidates[i].seq,
            )
        });
        plan.run
            .extend(self.order.iter().copied().take(self.settings.max_batch));
        if let Some(&last) = plan.run.last() {
            self.round_robin = (candidates[last].camera.index() + 1) % cameras;
        }
        Decision::Run
    }

    /// Update the counters for one decision.
    fn account(&mut self, now: MonoTime, candidates: &[Candidate], plan: &Plan, d: Decision) {
        for (i, _) in &plan.drop {
            if let Some(c) = candidates.get(*i) {
                self.stats.dropped(c.camera);
            }
        }
        match d {
            Decision::Run => {
                if let Some(since) = self.holding_since.take() {
                    self.stats.held(now.nanos_since(since));
                }
                self.stats.batch(plan.run.len(), plan.probe);
            }
            // A batch held open (edf) or a partial batch waiting for its timeout.
            Decision::Wait { until: Some(_) } => {
                if self.holding_since.is_none() {
                    self.holding_since = Some(now);
                    self.stats.hold_started();
                }
            }
            Decision::Wait { until: None } => self.holding_since = None,
        }
    }
}

/// The reason the former gives a frame it drops because it cannot make its deadline.
pub(crate) const PREDICTED_MISS_AT_INFER: DropReason = DropReason::PredictedMiss {
    stage: Stage::Infer,
};

#[cfg(test)]
mod tests;
