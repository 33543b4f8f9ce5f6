//! The stage thread loops. Each frame, at each stage: hop check (`MissedAt`), predictive check
//! through the stage's [`PredictionGate`] (go, probe, or `PredictedMiss`), the stage's work
//! (timed into its cost estimate and histogram, panics caught as `EngineError`), the per-stage
//! budget, then the hand-over. Publish checks the
//! deadline last, immediately before the send.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam::channel::{Receiver, Sender};
use crossbeam::sync::Parker;

use crate::deadline::{CostEstimator, Entering, Entry, LatencyHistogram, PredictionGate};
use crate::error::{DropReason, FrameError, Stage};
use crate::pipeline::shared::Shared;
use crate::pipeline::slot::{CloseOnDrop, Slot};
use crate::pipeline::stage::{FrameMeta, IngestStage, ProcessStage, PublishStage};

/// A frame between stages: metadata plus the payload the next stage consumes.
pub(crate) struct InFlight<T> {
    pub(crate) meta: FrameMeta,
    pub(crate) payload: T,
}

/// Per-thread stage state: its cost estimator, work-time histogram and prediction gate.
pub(crate) struct StageCtx<'a, M> {
    stage: Stage,
    shared: &'a Shared<M>,
    estimator: CostEstimator,
    pub(crate) histogram: LatencyHistogram,
    gate: PredictionGate,
}

impl<'a, M> StageCtx<'a, M> {
    pub(crate) fn new(stage: Stage, shared: &'a Shared<M>) -> Self {
        Self {
            stage,
            shared,
            estimator: CostEstimator::new(shared.cost_percentile),
            histogram: LatencyHistogram::new(),
            gate: PredictionGate::new(),
        }
    }

    /// Entry checks: the deadline has not passed and the remaining stages can still fit; a
    /// predicted miss goes through as a probe or is dropped, as the stage's gate decides.
    fn enter(&mut self, meta: &mut FrameMeta) -> Result<(), DropReason> {
        let frame = Entering {
            deadline: meta.deadline,
            handed_over: meta.handoff,
            probe: meta.probe,
        };
        let entry = self.gate.enter(
            &self.shared.policy,
            self.stage,
            self.shared.now(),
            &frame,
            &self.shared.costs,
        )?;
        if entry == Entry::Probe {
            meta.probe = true;
            tracing::debug!(stage = self.stage.name(), seq = meta.seq, "probe frame");
        }
        Ok(())
    }

    /// Run the stage's work, timing it; a panic in the work is an `EngineError`. A probe's
    /// measurement restarts the stage's cost estimate if the probe is still in time.
    fn run<T>(
        &mut self,
        meta: &FrameMeta,
        work: impl FnOnce() -> Result<T, FrameError>,
    ) -> Result<T, DropReason> {
        let start = self.shared.now();
        let result = catch_unwind(AssertUnwindSafe(work));
        let end = self.shared.now();
        let cost = end.nanos_since(start);
        let estimate = if meta.probe {
            self.estimator
                .record_probe(cost, !meta.deadline.passed(end))
        } else {
            self.estimator.record(cost)
        };
        self.shared.costs.set_expected(self.stage, estimate);
        self.histogram.record_ns(cost);
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(error.drop_reason()),
            Err(_) => {
                tracing::error!(
                    stage = self.stage.name(),
                    "stage work panicked; frame dropped as engine_error"
                );
                Err(DropReason::EngineError)
            }
        }
    }

    /// After the work: the stage's own budget, then the deadline — a frame whose deadline
    /// passed while this stage worked is `MissedAt{this stage}`, attributed where the time went.
    fn check_budget(&self, meta: &FrameMeta) -> Result<(), DropReason> {
        let now = self.shared.now();
        self.shared
            .policy
            .check_stage_budget(self.stage, meta.handoff, now)?;
        if meta.deadline.passed(now) {
            return Err(DropReason::MissedAt { stage: self.stage });
        }
        Ok(())
    }

    fn drop_frame(&self, reason: DropReason, seq: u64) {
        self.shared.drop_frame(self.stage, reason, seq);
    }
}

/// The ingest thread: ingress queue → header → admission → copy → latest-wins slot.
pub(crate) fn ingest_loop<I: IngestStage>(
    shared: &Shared<I::Message>,
    ingress: &Parker,
    work: &mut I,
    out: &Slot<InFlight<I::Frame>>,
    histogram: &mut LatencyHistogram,
) {
    let _close = CloseOnDrop(out);
    let mut ctx = StageCtx::new(Stage::Ingest, shared);
    while let Some(arrived) = shared.ingress.take(ingress) {
        let seq = shared
            .next_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _span = tracing::debug_span!("stage", stage = "ingest", seq).entered();
        let header = match catch_unwind(AssertUnwindSafe(|| work.header(&arrived.message))) {
            Ok(Ok(header)) => header,
            Ok(Err(error)) => {
                drop(arrived);
                ctx.drop_frame(error.drop_reason(), seq);
                continue;
            }
            Err(_) => {
                drop(arrived);
                ctx.drop_frame(DropReason::EngineError, seq);
                continue;
            }
        };
        let deadline = match shared
            .policy
            .admit(header.stamp, arrived.ros_now, arrived.arrival)
        {
            Ok(deadline) => deadline,
            Err(reason) => {
                drop(arrived);
                ctx.drop_frame(reason, seq);
                continue;
            }
        };
        let mut meta = FrameMeta {
            seq,
            header,
            deadline,
            handoff: arrived.arrival,
            probe: false,
        };
        if let Err(reason) = ctx.enter(&mut meta) {
            drop(arrived);
            ctx.drop_frame(reason, seq);
            continue;
        }
        let message = arrived.message;
        let frame = match ctx
            .run(&meta, || work.load(message, &meta))
            .and_then(|frame| ctx.check_budget(&meta).map(|()| frame))
        {
            Ok(frame) => frame,
            Err(reason) => {
                ctx.drop_frame(reason, seq);
                continue;
            }
        };
        meta.handoff = shared.now();
        if let Some(evicted) = out.offer(InFlight {
            meta,
            payload: frame,
        }) {
            let evicted_seq = evicted.meta.seq;
            drop(evicted);
            shared.drop_frame(Stage::Preprocess, DropReason::Superseded, evicted_seq);
        }
    }
    *histogram = ctx.histogram;
}

/// One frame through a middle stage; `None` when it was dropped (and counted).
fn process_one<M, In, W: ProcessStage<In>>(
    ctx: &mut StageCtx<'_, M>,
    work: &mut W,
    item: InFlight<In>,
) -> Option<InFlight<W::Output>> {
    let InFlight { mut meta, payload } = item;
    let _span = tracing::debug_span!("stage", stage = ctx.stage.name(), seq = meta.seq).entered();
    if let Err(reason) = ctx.enter(&mut meta) {
        drop(payload);
        ctx.drop_frame(reason, meta.seq);
        return None;
    }
    let frozen = meta;
    match ctx
        .run(&frozen, || work.process(payload, &frozen))
        .and_then(|out| ctx.check_budget(&frozen).map(|()| out))
    {
        Ok(output) => {
            meta.handoff = ctx.shared.now();
            Some(InFlight {
                meta,
                payload: output,
            })
        }
        Err(reason) => {
            ctx.drop_frame(reason, meta.seq);
            None
        }
    }
}

/// Hand a frame to the next stage's bounded channel (blocking while it is full).
fn hand_over<M, T>(
    ctx: &StageCtx<'_, M>,
    next: Stage,
    tx: &Sender<InFlight<T>>,
    item: InFlight<T>,
) {
    if let Err(failed) = tx.send(item) {
        // Only if the next stage's thread died: account for the frame rather than lose it.
        let seq = failed.0.meta.seq;
        drop(failed);
        tracing::error!(stage = next.name(), "next stage is gone; frame dropped");
        ctx.shared
            .drop_frame(next, DropReason::MissedAt { stage: next }, seq);
    }
}

/// The preprocess thread: latest-wins slot → work → channel.
pub(crate) fn preprocess_loop<M, In, W: ProcessStage<In>>(
    shared: &Shared<M>,
    slot: &Slot<InFlight<In>>,
    parker: &Parker,
    work: &mut W,
    tx: Sender<InFlight<W::Output>>,
    histogram: &mut LatencyHistogram,
) {
    let mut ctx = StageCtx::new(Stage::Preprocess, shared);
    while let Some(item) = slot.take(parker) {
        if let Some(out) = process_one(&mut ctx, work, item) {
            hand_over(&ctx, Stage::Infer, &tx, out);
        }
    }
    *histogram = ctx.histogram;
}

/// The infer and decode threads: channel → work → channel.
pub(crate) fn process_loop<M, In, W: ProcessStage<In>>(
    stage: Stage,
    shared: &Shared<M>,
    rx: Receiver<InFlight<In>>,
    work: &mut W,
    tx: Sender<InFlight<W::Output>>,
    histogram: &mut LatencyHistogram,
) {
    let mut ctx = StageCtx::new(stage, shared);
    let next = stage
        .downstream()
        .first()
        .copied()
        .unwrap_or(Stage::Publish);
    while let Ok(item) = rx.recv() {
        if let Some(out) = process_one(&mut ctx, work, item) {
            hand_over(&ctx, next, &tx, out);
        }
    }
    *histogram = ctx.histogram;
}

/// The publish thread: channel → checks → final deadline check → send.
pub(crate) fn publish_loop<M, In, W: PublishStage<In>>(
    shared: &Shared<M>,
    rx: Receiver<InFlight<In>>,
    work: &mut W,
    histogram: &mut LatencyHistogram,
) {
    let mut ctx = StageCtx::new(Stage::Publish, shared);
    while let Ok(InFlight { mut meta, payload }) = rx.recv() {
        let _span = tracing::debug_span!("stage", stage = "publish", seq = meta.seq).entered();
        if let Err(reason) = ctx.enter(&mut meta).and_then(|()| ctx.check_budget(&meta)) {
            drop(payload);
            ctx.drop_frame(reason, meta.seq);
            continue;
        }
        // The last check, immediately before the send: nothing is published late.
        if meta.deadline.passed(shared.now()) {
            drop(payload);
            ctx.drop_frame(
                DropReason::MissedAt {
                    stage: Stage::Publish,
                },
                meta.seq,
            );
            continue;
        }
        match ctx.run(&meta, || work.publish(payload, &meta)) {
            Ok(()) => shared.published(meta.deadline.latency_at(shared.now()), meta.seq),
            Err(reason) => ctx.drop_frame(reason, meta.seq),
        }
    }
    *histogram = ctx.histogram;
}
