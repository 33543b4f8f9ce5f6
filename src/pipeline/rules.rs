//! The per-frame rules of one stage, independent of how the stage is executed: on entry the hop
//! check (`MissedAt`) and the predictive check (`PredictedMiss`, with probes), after the work the
//! cost measurement, the per-stage budget and the deadline check. The stage threads call them
//! with the system clock's readings; the simulation calls them with virtual times.

use crate::deadline::{CostEstimator, Entering, Entry, LatencyHistogram, MonoTime, PredictionGate};
use crate::error::{DropReason, FrameError, Stage};
use crate::pipeline::camera::CameraId;
use crate::pipeline::shared::Shared;
use crate::pipeline::stage::FrameMeta;

/// Whose cost estimate a stage publishes: one camera's (ingest, preprocess) or every camera's
/// (the shared decode and publish stages).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Camera(CameraId),
    Shared,
}

/// One stage's rules and measurements: its cost estimator, its prediction gate and the
/// work-time histograms.
pub(crate) struct StageRules<'a, M> {
    pub(crate) stage: Stage,
    scope: Scope,
    pub(crate) shared: &'a Shared<M>,
    estimator: CostEstimator,
    /// Work time: one histogram for a camera's own stage, one per camera for a shared stage.
    pub(crate) histograms: Vec<LatencyHistogram>,
    gate: PredictionGate,
}

impl<'a, M> StageRules<'a, M> {
    pub(crate) fn new(stage: Stage, scope: Scope, shared: &'a Shared<M>) -> Self {
        Self {
            stage,
            scope,
            shared,
            estimator: CostEstimator::new(shared.cost_percentile),
            histograms: match scope {
                Scope::Camera(_) => vec![LatencyHistogram::new()],
                Scope::Shared => (0..shared.lanes.len().max(1))
                    .map(|_| LatencyHistogram::new())
                    .collect(),
            },
            gate: PredictionGate::new(),
        }
    }

    /// Entry checks at `now`: the deadline has not passed and the remaining stages can still
    /// fit; a predicted miss goes through as a probe or is dropped, as the stage's gate decides.
    pub(crate) fn enter(&mut self, now: MonoTime, meta: &mut FrameMeta) -> Result<(), DropReason> {
        let Some(lane) = self.shared.lane(meta.camera) else {
            return Err(DropReason::MissedAt { stage: self.stage });
        };
        let frame = Entering {
            deadline: meta.deadline,
            handed_over: meta.handoff,
            probe: meta.probe,
        };
        let entry = self
            .gate
            .enter(&lane.policy, self.stage, now, &frame, &lane.costs)?;
        if entry == Entry::Probe {
            meta.probe = true;
            tracing::debug!(stage = self.stage.name(), seq = meta.seq, "probe frame");
        }
        Ok(())
    }

    /// Record that the work for `meta`'s frame took `cost_ns`, ending at `end` (a probe still in
    /// time restarts the estimate), and publish the new estimate.
    pub(crate) fn measured(&mut self, meta: &FrameMeta, cost_ns: u64, end: MonoTime) {
        let estimate = if meta.probe {
            self.estimator
                .record_probe(cost_ns, !meta.deadline.passed(end))
        } else {
            self.estimator.record(cost_ns)
        };
        match self.scope {
            Scope::Camera(c) => {
                if let Some(lane) = self.shared.lane(c) {
                    lane.costs.set_expected(self.stage, estimate);
                }
            }
            Scope::Shared => self.shared.set_expected_everywhere(self.stage, estimate),
        }
        let index = match self.scope {
            Scope::Camera(_) => 0,
            Scope::Shared => meta.camera.index(),
        };
        if let Some(h) = self.histograms.get_mut(index) {
            h.record_ns(cost_ns);
        }
    }

    /// After the work, at `now`: the stage's own budget, then the deadline — a frame whose
    /// deadline passed while this stage worked is `MissedAt{this stage}`, attributed where the
    /// time went.
    pub(crate) fn check_after(&self, now: MonoTime, meta: &FrameMeta) -> Result<(), DropReason> {
        let Some(lane) = self.shared.lane(meta.camera) else {
            return Err(DropReason::MissedAt { stage: self.stage });
        };
        lane.policy
            .check_stage_budget(self.stage, meta.handoff, now)?;
        if meta.deadline.passed(now) {
            return Err(DropReason::MissedAt { stage: self.stage });
        }
        Ok(())
    }

    /// Count a dropped frame of this stage.
    pub(crate) fn drop_frame(&self, meta: &FrameMeta, reason: DropReason) {
        self.shared
            .drop_frame(meta.camera, self.stage, reason, meta.seq);
    }

    /// Take the histograms (at the end of the thread).
    pub(crate) fn into_histograms(self) -> Vec<LatencyHistogram> {
        self.histograms
    }
}

/// Run `work`, catching a panic as an engine error (a stage must never take its thread down).
pub(crate) fn guarded<T>(work: impl FnOnce() -> Result<T, FrameError>) -> Result<T, DropReason> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.drop_reason()),
        Err(_) => {
            tracing::error!("stage work panicked; frame dropped as engine_error");
            Err(DropReason::EngineError)
        }
    }
}
