//! The engine thread, shared by every camera: collects each camera's newest ready frame, asks
//! the [`BatchFormer`] what to run, fills the batch row by row (the fused preprocessing pass
//! writes straight into row `i` of the engine input), runs it, and hands the finished batch to
//! the row stage. Frames whose deadline passes while they wait are `missed_at:infer`; frames the
//! former gives up on are `predicted_miss:infer`; a newer frame of the same camera supersedes a
//! waiting one.

use std::time::Duration;

use crossbeam::channel::Sender;
use crossbeam::sync::Parker;

use crate::deadline::cost::MIN_COST_SAMPLES;
use crate::deadline::{LatencyHistogram, MonoTime};
use crate::error::{DropReason, Stage};
use crate::frame::{Lease, Pool};
use crate::pipeline::former::{BatchFormer, Candidate, Decision, Plan};
use crate::pipeline::inflight::{InFlight, InFlightBatch, Rows};
use crate::pipeline::rules::guarded;
use crate::pipeline::shared::Shared;
use crate::pipeline::slot::Slot;
use crate::pipeline::stage::BatchStage;

/// How long the engine thread sleeps when nothing is ready (a guard: arrivals wake it).
const IDLE_PARK: Duration = Duration::from_millis(20);

/// One engine run, done but not yet accounted: its rows and what the engine returned.
pub(crate) struct Ran<B> {
    pub(crate) rows: Lease<Rows>,
    pub(crate) result: Result<B, DropReason>,
    probe: bool,
}

impl<B> Ran<B> {
    /// Rows in the run.
    pub(crate) fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The frames of the run, in row order.
    pub(crate) fn metas(&self) -> &[crate::pipeline::FrameMeta] {
        &self.rows.metas
    }
}

/// The engine thread's state between decisions (preallocated at start-up).
pub(crate) struct EngineState<In> {
    /// Each camera's waiting frame (index = camera).
    waiting: Vec<Option<InFlight<In>>>,
    candidates: Vec<Candidate>,
    /// Camera of each candidate.
    camera_of: Vec<usize>,
    plan: Plan,
    rows: Pool<Rows>,
    /// Time of each engine run (one sample per run), per camera in the run.
    pub(crate) histograms: Vec<LatencyHistogram>,
}

impl<In> EngineState<In> {
    /// State for `cameras` cameras and runs of up to `max_batch` rows; `in_transit` batches may
    /// be between the engine and the row stage at once.
    pub(crate) fn new(cameras: usize, max_batch: usize, in_transit: usize) -> Self {
        Self {
            waiting: (0..cameras).map(|_| None).collect(),
            candidates: Vec::with_capacity(cameras),
            camera_of: Vec::with_capacity(cameras),
            plan: Plan::with_capacity(cameras),
            rows: Pool::at_least_one(in_transit, |_| Rows::with_capacity(max_batch)),
            histograms: (0..cameras).map(|_| LatencyHistogram::new()).collect(),
        }
    }

    /// Move each camera's newest ready frame into `waiting` (an older one waiting is superseded).
    pub(crate) fn collect<M>(
        &mut self,
        shared: &Shared<M>,
        ready: &[Slot<InFlight<In>>],
        former: &mut BatchFormer,
    ) {
        for (c, slot) in ready.iter().enumerate() {
            while let Some(item) = slot.try_take() {
                self.offer(shared, former, c, item);
            }
        }
    }

    /// A ready frame of camera `c` (from a slot or, in the simulation, directly).
    pub(crate) fn offer<M>(
        &mut self,
        shared: &Shared<M>,
        former: &mut BatchFormer,
        c: usize,
        item: InFlight<In>,
    ) {
        former.on_ready(
            item.meta.camera,
            item.meta.handoff,
            item.meta.deadline.deadline,
        );
        let Some(place) = self.waiting.get_mut(c) else {
            shared.drop_frame(
                item.meta.camera,
                Stage::Infer,
                DropReason::MissedAt {
                    stage: Stage::Infer,
                },
                item.meta.seq,
            );
            return;
        };
        if let Some(old) = place.replace(item) {
            shared.drop_frame(
                old.meta.camera,
                Stage::Infer,
                DropReason::Superseded,
                old.meta.seq,
            );
        }
    }

    /// True when no frame waits.
    pub(crate) fn idle(&self) -> bool {
        self.waiting.iter().all(Option::is_none)
    }

    /// Drop waiting frames whose deadline has passed, then ask the former. `last`: no more
    /// frames will come (no holds, no timeouts).
    pub(crate) fn decide<M>(
        &mut self,
        shared: &Shared<M>,
        former: &mut BatchFormer,
        now: MonoTime,
        last: bool,
    ) -> Decision {
        for place in self.waiting.iter_mut() {
            if place.as_ref().is_some_and(|w| w.meta.deadline.passed(now)) {
                if let Some(late) = place.take() {
                    let reason = DropReason::MissedAt {
                        stage: Stage::Infer,
                    };
                    shared.drop_frame(late.meta.camera, Stage::Infer, reason, late.meta.seq);
                }
            }
        }
        self.candidates.clear();
        self.camera_of.clear();
        for (c, place) in self.waiting.iter().enumerate() {
            if let Some(w) = place {
                let criticality = shared
                    .lane(w.meta.camera)
                    .map_or(0, |lane| lane.criticality);
                self.candidates.push(Candidate {
                    camera: w.meta.camera,
                    seq: w.meta.seq,
                    deadline: w.meta.deadline.deadline,
                    criticality,
                    ready_at: w.meta.handoff,
                    probe: w.meta.probe,
                });
                self.camera_of.push(c);
            }
        }
        let downstream = shared
            .lanes
            .first()
            .map_or(0, |l| l.costs.expected_from(Stage::Decode));
        former.set_downstream(downstream);
        let decision = if last {
            former.plan_final(now, &self.candidates, &mut self.plan)
        } else {
            former.plan(now, &self.candidates, &mut self.plan)
        };
        for &(i, reason) in &self.plan.drop {
            let Some(&c) = self.camera_of.get(i) else {
                continue;
            };
            if let Some(doomed) = self.waiting.get_mut(c).and_then(Option::take) {
                shared.drop_frame(doomed.meta.camera, Stage::Infer, reason, doomed.meta.seq);
            }
        }
        decision
    }

    /// Fill the batch the last decision chose, row by row at `now`, and run it. `None` when no
    /// frame was left to run (each one dropped and counted).
    pub(crate) fn fill_and_run<M, B: BatchStage<In>>(
        &mut self,
        shared: &Shared<M>,
        work: &mut B,
        now: MonoTime,
    ) -> Option<Ran<B::Batch>> {
        let probe = self.plan.probe;
        let Some(mut rows) = self.rows.try_lease() else {
            self.drop_chosen(
                shared,
                DropReason::PoolExhausted {
                    stage: Stage::Infer,
                },
            );
            return None;
        };
        rows.clear();
        if let Err(reason) = guarded(|| work.open()) {
            self.drop_chosen(shared, reason);
            return None;
        }
        for k in 0..self.plan.run.len() {
            let Some(item) = self
                .camera_of
                .get(self.plan.run[k])
                .and_then(|&c| self.waiting.get_mut(c))
                .and_then(Option::take)
            else {
                continue;
            };
            let InFlight { mut meta, payload } = item;
            if meta.deadline.passed(now) {
                let reason = DropReason::MissedAt {
                    stage: Stage::Infer,
                };
                shared.drop_frame(meta.camera, Stage::Infer, reason, meta.seq);
                continue;
            }
            meta.probe |= probe;
            match guarded(|| work.add(payload, &meta)) {
                Ok(()) => rows.push(meta),
                Err(reason) => shared.drop_frame(meta.camera, Stage::Infer, reason, meta.seq),
            }
        }
        if rows.len() == 0 {
            work.abandon();
            return None;
        }
        let result = guarded(|| work.run(&rows.metas));
        Some(Ran {
            rows,
            result,
            probe,
        })
    }

    /// After a run that took `cost_ns` and ended at `end`: record the cost, drop the rows whose
    /// deadline passed meanwhile, and return what goes on to the row stage.
    pub(crate) fn finish<M, Batch>(
        &mut self,
        shared: &Shared<M>,
        former: &mut BatchFormer,
        ran: Ran<Batch>,
        cost_ns: u64,
        end: MonoTime,
    ) -> Option<InFlightBatch<Batch>> {
        let Ran {
            mut rows,
            result,
            probe,
        } = ran;
        let in_time = rows.metas.iter().any(|m| !m.deadline.passed(end));
        former.record(rows.len(), cost_ns, probe.then_some(in_time));
        shared.set_expected_everywhere(Stage::Infer, former.cost(1));
        for meta in &rows.metas {
            if let Some(h) = self.histograms.get_mut(meta.camera.index()) {
                h.record_ns(cost_ns);
            }
        }
        let batch = match result {
            Ok(batch) => batch,
            Err(reason) => {
                for meta in &rows.metas {
                    shared.drop_frame(meta.camera, Stage::Infer, reason, meta.seq);
                }
                return None;
            }
        };
        let mut any_alive = false;
        let r: &mut Rows = &mut rows;
        for (meta, alive) in r.metas.iter_mut().zip(r.alive.iter_mut()) {
            let on_time = shared.lane(meta.camera).is_some_and(|lane| {
                lane.policy
                    .check_stage_budget(Stage::Infer, meta.handoff, end)
                    .is_ok()
                    && !meta.deadline.passed(end)
            });
            if on_time {
                meta.handoff = end;
                any_alive = true;
            } else {
                *alive = false;
                let reason = DropReason::MissedAt {
                    stage: Stage::Infer,
                };
                shared.drop_frame(meta.camera, Stage::Infer, reason, meta.seq);
            }
        }
        any_alive.then_some(InFlightBatch { rows, batch })
    }

    /// Drop every frame the last decision chose to run, for `reason`.
    fn drop_chosen<M>(&mut self, shared: &Shared<M>, reason: DropReason) {
        for &i in &self.plan.run {
            if let Some(item) = self
                .camera_of
                .get(i)
                .and_then(|&c| self.waiting.get_mut(c))
                .and_then(Option::take)
            {
                shared.drop_frame(item.meta.camera, Stage::Infer, reason, item.meta.seq);
            }
        }
    }

    /// Drop everything still waiting (the row stage is gone).
    pub(crate) fn drop_waiting<M>(&mut self, shared: &Shared<M>, reason: DropReason) {
        for place in &mut self.waiting {
            if let Some(item) = place.take() {
                shared.drop_frame(item.meta.camera, Stage::Infer, reason, item.meta.seq);
            }
        }
    }
}

/// Measure the engine before frames arrive, so the former predicts from the first frame: runs
/// over 1, 2, 4, … rows and `max_batch` rows, [`MIN_COST_SAMPLES`] each, timed by `measure`
/// (the clock for threads, the cost model for the simulation). Stops at the first size the
/// stage cannot run.
pub(crate) fn calibrate<M, In, B: BatchStage<In>>(
    shared: &Shared<M>,
    work: &mut B,
    former: &mut BatchFormer,
    mut measure: impl FnMut(&mut B, usize) -> Option<u64>,
) {
    let max = work.max_batch().max(1);
    let sizes = std::iter::successors(Some(1usize), |b| b.checked_mul(2))
        .take_while(|b| *b < max)
        .chain(std::iter::once(max));
    'sizes: for rows in sizes {
        for _ in 0..MIN_COST_SAMPLES {
            match measure(work, rows) {
                Some(cost) => former.record(rows, cost, None),
                None => break 'sizes,
            }
        }
    }
    shared.set_expected_everywhere(Stage::Infer, former.cost(1));
}

/// The engine thread: until every camera's ready slot is closed and drained and nothing waits.
#[allow(clippy::too_many_arguments)]
pub(crate) fn engine_loop<M, In, B: BatchStage<In>>(
    shared: &Shared<M>,
    ready: &[Slot<InFlight<In>>],
    parker: &Parker,
    work: &mut B,
    former: &mut BatchFormer,
    state: &mut EngineState<In>,
    tx: Sender<InFlightBatch<B::Batch>>,
) where
    In: Send + 'static,
{
    loop {
        state.collect(shared, ready, former);
        let finished = ready.iter().all(Slot::is_finished);
        if state.idle() {
            if finished {
                break;
            }
            parker.park_timeout(IDLE_PARK);
            continue;
        }
        let t = shared.now();
        match state.decide(shared, former, t, finished) {
            Decision::Run => {
                let start = shared.now();
                let Some(ran) = state.fill_and_run(shared, work, start) else {
                    continue;
                };
                let end = shared.now();
                let cost = end.nanos_since(start);
                if let Some(batch) = state.finish(shared, former, ran, cost, end) {
                    if let Err(failed) = tx.send(batch) {
                        // Only if the row stage's thread died: account for its frames.
                        let gone = DropReason::MissedAt {
                            stage: Stage::Decode,
                        };
                        for (meta, alive) in failed.0.rows.metas.iter().zip(&failed.0.rows.alive) {
                            if *alive {
                                shared.drop_frame(meta.camera, Stage::Decode, gone, meta.seq);
                            }
                        }
                        state.drop_waiting(shared, gone);
                    }
                }
            }
            Decision::Wait { until: Some(until) } => {
                let wait = Duration::from_nanos(until.nanos_since(t)).min(IDLE_PARK);
                if !wait.is_zero() {
                    parker.park_timeout(wait);
                }
            }
            Decision::Wait { until: None } => {
                if !finished {
                    parker.park_timeout(IDLE_PARK);
                }
            }
        }
    }
}
