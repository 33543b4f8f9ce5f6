//! [`RunningPipeline`]: what the replay loop reads from a pipeline while it runs (frames in
//! flight, live transitions, the monitor snapshot), so the pacing and diagnostics helpers take
//! one bound instead of repeating the pipeline's five stage bounds each.

use crossbeam::channel::Receiver;

use crate::deadline::{MonitorSnapshot, Transition};
use crate::pipeline::{IngestStage, Pipeline, ProcessStage, PublishStage};

/// A started pipeline, as the replay loop observes it.
pub(super) trait RunningPipeline {
    /// Frames submitted and not yet published or dropped.
    fn in_flight(&self) -> u64;
    /// Live transitions (see [`Pipeline::transitions`]).
    fn live_transitions(&self) -> &Receiver<Transition>;
    /// The monitor now (see [`Pipeline::snapshot`]).
    fn monitor_snapshot(&self) -> MonitorSnapshot;
}

impl<I, P, N, D, S> RunningPipeline for Pipeline<I, P, N, D, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: ProcessStage<P::Output>,
    D: ProcessStage<N::Output>,
    S: PublishStage<D::Output>,
{
    fn in_flight(&self) -> u64 {
        self.accounting().in_flight
    }

    fn live_transitions(&self) -> &Receiver<Transition> {
        self.transitions()
    }

    fn monitor_snapshot(&self) -> MonitorSnapshot {
        self.snapshot()
    }
}
