//! The row stage: one row of a finished engine run → that frame's detections in source pixels,
//! into a pooled array.

use crate::detect::Decoder;
use crate::error::{FrameError, Stage};
use crate::frame::{Detection, Lease, Pool};
use crate::pipeline::{FrameMeta, RowStage};

use super::infer::InferredBatch;

/// Decodes rows into pooled detection arrays (capacity `model.top_k`).
pub struct DecodeStage {
    decoder: Decoder,
    detections: Pool<Vec<Detection>>,
    non_finite_anchors: u64,
}

impl DecodeStage {
    pub fn new(decoder: Decoder, detections: Pool<Vec<Detection>>) -> Self {
        Self {
            decoder,
            detections,
            non_finite_anchors: 0,
        }
    }

    /// Anchors skipped so far because the model produced NaN or infinite values.
    pub fn non_finite_anchors(&self) -> u64 {
        self.non_finite_anchors
    }
}

impl RowStage<InferredBatch> for DecodeStage {
    type Output = Lease<Vec<Detection>>;

    fn process_row(
        &mut self,
        batch: &mut InferredBatch,
        row: usize,
        _meta: &FrameMeta,
    ) -> Result<Self::Output, FrameError> {
        let transform = *batch.transform(row).ok_or(FrameError::Engine)?;
        let mut out = self
            .detections
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Decode))?;
        let stats = self
            .decoder
            .decode(&batch.outputs, row, &transform, &mut out)?;
        self.non_finite_anchors += stats.non_finite as u64;
        Ok(out)
    }
}
