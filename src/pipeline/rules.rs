//! The per-frame rules of one stage, independent of how the stage is executed: on entry the hop
//! check (`MissedAt`) and the predictive check (`PredictedMiss`, with probes), after the work the
//! cost measurement, the per-stage budget and the deadline check. The stage threads call them
//! with the system clock's readings; the simulation calls them with virtual times.

use crate::deadline::{CostEstimator, LatencyHistogram, MonoTime};
use crate::error::{DropReason, FrameError, Stage};
use crate::pipeline::camera::CameraId;
use crate::pipeline::shared::Shared;
use crate::pipeline::stage::FrameMeta;

/// After this many consecutive predicted misses at a stage, the next frame goes through as a
/// probe: it re-measures the stage costs, so an estimate inflated by a stall that has ended
/// cannot keep every frame dropped forever.
pub(crate) const PROBE_AFTER_PREDICTED_MISSES: u32 = 5;

/// Whose cost estimate a stage publishes: one camera's (ingest, preprocess) or every camera's
/// (the shared decode and publish stages).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Camera(CameraId),
    Shared,
}

/// One stage's rules and measurements: its cost estimator, the probe counter and the work-time
/// histograms (one per camera).
pub(crate) struct StageRules<'a, M> {
    pub(crate) stage: Stage,
    scope: Scope,
    pub(crate) shared: &'a Shared<M>,
    estimator: CostEstimator,
    /// Work time: one histogram for a camera's own stage, one per camera for a shared stage.
    pub(crate) histograms: Vec<LatencyHistogram>,
    predicted_in_a_row: u32,
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
            predicted_in_a_row: 0,
        }
    }

    /// Entry checks at `now`: the deadline has not passed and the remaining stages can still
    /// fit. After [`PROBE_AFTER_PREDICTED_MISSES`] predicted misses in a row, the frame becomes
    /// a probe instead of being dropped.
    pub(crate) fn enter(&mut self, now: MonoTime, meta: &mut FrameMeta) -> Result<(), DropReason> {
        let Some(lane) = self.shared.lane(meta.camera) else {
            return Err(DropReason::MissedAt { stage: self.stage });
        };
        lane.policy.check_hop(self.stage, now, &meta.deadline)?;
        if meta.probe {
            return Ok(());
        }
        match lane
            .policy
            .predict(self.stage, now, &meta.deadline, &lane.costs)
        {
            Ok(()) => {
                self.predicted_in_a_row = 0;
                Ok(())
            }
            Err(_) if self.predicted_in_a_row + 1 >= PROBE_AFTER_PREDICTED_MISSES => {
                self.predicted_in_a_row = 0;
                meta.probe = true;
                tracing::debug!(stage = self.stage.name(), seq = meta.seq, "probe frame");
                Ok(())
            }
            Err(reason) => {
                self.predicted_in_a_row += 1;
                Err(reason)
            }
        }
    }

    /// Record that the work for a frame of `camera` took `cost_ns` (a probe's measurement
    /// restarts the estimate) and publish the new estimate.
    pub(crate) fn measured(&mut self, camera: CameraId, cost_ns: u64, probe: bool) {
        let estimate = if probe {
            self.estimator.restart(cost_ns)
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
            Scope::Shared => camera.index(),
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
