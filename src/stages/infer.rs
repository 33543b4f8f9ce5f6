//! The infer stage: run the engine on a filled input tensor (a batch of one, row 0) into pooled
//! output buffers.

use crate::error::{FrameError, Stage};
use crate::frame::{Lease, LetterboxTransform, Pool};
use crate::infer::{Engine, OutputBuffers};
use crate::pipeline::{FrameMeta, ProcessStage};

use super::preprocess::Preprocessed;

/// Raw network outputs and the transform back to source pixels.
pub struct Inferred {
    pub outputs: Lease<OutputBuffers>,
    pub transform: LetterboxTransform,
}

/// Owns the engine; runs one frame at a time.
pub struct InferStage {
    engine: Box<dyn Engine>,
    outputs: Pool<OutputBuffers>,
}

impl InferStage {
    pub fn new(engine: Box<dyn Engine>, outputs: Pool<OutputBuffers>) -> Self {
        Self { engine, outputs }
    }

    /// The engine, e.g. to inspect it after shutdown.
    pub fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }
}

impl ProcessStage<Preprocessed> for InferStage {
    type Output = Inferred;

    fn process(&mut self, input: Preprocessed, meta: &FrameMeta) -> Result<Inferred, FrameError> {
        let mut outputs = self
            .outputs
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Infer))?;
        self.engine.run(&[meta.seq], &input.tensor, &mut outputs)?;
        // The input tensor returns to its pool here, before decoding starts.
        Ok(Inferred {
            outputs,
            transform: input.transform,
        })
    }
}
