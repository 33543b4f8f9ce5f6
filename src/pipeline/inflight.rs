//! What moves between stage threads: one frame ([`InFlight`]: metadata + payload), or one engine
//! run ([`InFlightBatch`]: the pooled per-row metadata + the batch the row stage decodes).

use crate::frame::Lease;
use crate::pipeline::stage::FrameMeta;

/// A frame between stages: metadata plus the payload the next stage consumes.
pub(crate) struct InFlight<T> {
    pub(crate) meta: FrameMeta,
    pub(crate) payload: T,
}

/// The frames of one engine run, in row order (pooled: capacity `max_batch`, never grows).
#[derive(Debug)]
pub(crate) struct Rows {
    pub(crate) metas: Vec<FrameMeta>,
    /// False for a row whose frame was dropped after the run (its deadline passed meanwhile).
    pub(crate) alive: Vec<bool>,
}

impl Rows {
    pub(crate) fn with_capacity(max_batch: usize) -> Self {
        Self {
            metas: Vec::with_capacity(max_batch),
            alive: Vec::with_capacity(max_batch),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.metas.clear();
        self.alive.clear();
    }

    pub(crate) fn push(&mut self, meta: FrameMeta) {
        self.metas.push(meta);
        self.alive.push(true);
    }

    pub(crate) fn len(&self) -> usize {
        self.metas.len()
    }
}

/// One finished engine run on its way to the row stage.
pub(crate) struct InFlightBatch<B> {
    pub(crate) rows: Lease<Rows>,
    pub(crate) batch: B,
}
