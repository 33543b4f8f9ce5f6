//! The decode stage: network outputs (row 0: batches of one) → detections in source pixels, into
//! a pooled array.

use crate::detect::Decoder;
use crate::error::{FrameError, Stage};
use crate::frame::{Detection, Lease, Pool};
use crate::pipeline::{FrameMeta, ProcessStage};

use super::infer::Inferred;

/// Decodes into pooled detection arrays (capacity `model.top_k`).
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

impl ProcessStage<Inferred> for DecodeStage {
    type Output = Lease<Vec<Detection>>;

    fn process(&mut self, input: Inferred, _meta: &FrameMeta) -> Result<Self::Output, FrameError> {
        let mut out = self
            .detections
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Decode))?;
        let stats = self
            .decoder
            .decode(&input.outputs, 0, &input.transform, &mut out)?;
        self.non_finite_anchors += stats.non_finite as u64;
        Ok(out)
    }
}
