//! The preprocess stage: view (or decode) the pooled frame, then one fused pass straight into
//! row 0 of a pooled engine input tensor (batches of one; the batch former fills other rows).

use crate::error::{FrameError, Stage};
use crate::frame::{Lease, LetterboxTransform, Pool};
use crate::infer::InputTensor;
use crate::pipeline::{FrameMeta, ProcessStage};
use crate::preprocess::{CompressedDecoder, Preprocessor};

use super::frame_buffer::FrameBuffer;

/// A filled engine input and the transform back to source pixels.
pub struct Preprocessed {
    pub tensor: Lease<InputTensor>,
    pub transform: LetterboxTransform,
}

/// Decodes compressed frames into its own buffer and fills pooled input tensors.
pub struct PreprocessStage {
    preprocessor: Preprocessor,
    decoder: CompressedDecoder,
    /// Decoded pixels of a compressed frame (capacity fixed at start-up by the image limits).
    decoded: Vec<u8>,
    tensors: Pool<InputTensor>,
}

impl PreprocessStage {
    pub fn new(
        preprocessor: Preprocessor,
        decoder: CompressedDecoder,
        tensors: Pool<InputTensor>,
    ) -> Self {
        Self {
            decoded: Vec::with_capacity(decoder.buffer_capacity()),
            preprocessor,
            decoder,
            tensors,
        }
    }
}

impl ProcessStage<Lease<FrameBuffer>> for PreprocessStage {
    type Output = Preprocessed;

    fn process(
        &mut self,
        frame: Lease<FrameBuffer>,
        _meta: &FrameMeta,
    ) -> Result<Preprocessed, FrameError> {
        let mut tensor = self
            .tensors
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Preprocess))?;
        let image = match frame.raw_view() {
            Some(view) => view?,
            None => self.decoder.decode(&frame.bytes, &mut self.decoded)?,
        };
        let transform = self.preprocessor.run(&image, tensor.row_mut(0)?)?;
        Ok(Preprocessed { tensor, transform })
    }
}
