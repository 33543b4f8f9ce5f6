//! What a supervisor (the replay driver, a status loop) reads from a running pipeline without
//! naming its stage types: frame counters, monitor snapshots and live level changes.

use crossbeam::channel::Receiver;

use crate::deadline::{AccountingSnapshot, Level, MonitorSnapshot};
use crate::pipeline::handle::Pipeline;
use crate::pipeline::monitors::{LevelChange, MonitorId};
use crate::pipeline::stage::{BatchStage, IngestStage, ProcessStage, PublishStage, RowStage};

/// A running pipeline, seen from outside.
pub trait RunningPipeline {
    /// Frame counters over every camera now (approximate while frames move).
    fn accounting(&self) -> AccountingSnapshot;
    /// What `/diagnostics` needs about one monitor, now.
    fn snapshot(&self, monitor: MonitorId) -> MonitorSnapshot;
    /// The monitors worth publishing (every camera's; the engine's with several cameras).
    fn monitor_ids(&self) -> Vec<MonitorId>;
    /// The worst level now.
    fn aggregate_level(&self) -> Level;
    /// Live level changes.
    fn transitions(&self) -> &Receiver<LevelChange>;
}

impl<I, P, N, D, S> RunningPipeline for Pipeline<I, P, N, D, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    fn accounting(&self) -> AccountingSnapshot {
        Pipeline::accounting(self)
    }

    fn snapshot(&self, monitor: MonitorId) -> MonitorSnapshot {
        Pipeline::snapshot_of(self, monitor)
    }

    fn monitor_ids(&self) -> Vec<MonitorId> {
        self.monitors().collect()
    }

    fn aggregate_level(&self) -> Level {
        Pipeline::aggregate_level(self)
    }

    fn transitions(&self) -> &Receiver<LevelChange> {
        Pipeline::transitions(self)
    }
}
