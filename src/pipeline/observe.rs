//! What a supervisor (the replay driver, a status loop) reads from a running pipeline without
//! naming its five stage types: frame counters, the monitor's snapshot and live transitions.

use crossbeam::channel::Receiver;

use crate::deadline::{AccountingSnapshot, MonitorSnapshot, Transition};
use crate::pipeline::handle::Pipeline;
use crate::pipeline::stage::{IngestStage, ProcessStage, PublishStage};

/// A running pipeline, seen from outside.
pub trait RunningPipeline {
    /// Frame counters now (approximate while frames move).
    fn accounting(&self) -> AccountingSnapshot;
    /// What `/diagnostics` needs, now.
    fn snapshot(&self) -> MonitorSnapshot;
    /// Live monitor transitions.
    fn transitions(&self) -> &Receiver<Transition>;
}

impl<I, P, N, D, S> RunningPipeline for Pipeline<I, P, N, D, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: ProcessStage<P::Output>,
    D: ProcessStage<N::Output>,
    S: PublishStage<D::Output>,
{
    fn accounting(&self) -> AccountingSnapshot {
        Pipeline::accounting(self)
    }

    fn snapshot(&self) -> MonitorSnapshot {
        Pipeline::snapshot(self)
    }

    fn transitions(&self) -> &Receiver<Transition> {
        Pipeline::transitions(self)
    }
}
