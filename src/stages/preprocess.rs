//! A camera's preprocessing stage: make the pooled frame viewable as raw pixels — a raw frame is
//! checked and passed on as it is; a compressed frame (JPEG/PNG) is decoded into another pooled
//! buffer of the camera's own. The fused pass into the engine input happens later, row by row,
//! when the batch former has chosen the frame ([`super::InferStage`]).

use crate::error::{FrameError, Stage};
use crate::frame::{ImageView, Lease, Pool};
use crate::pipeline::{FrameMeta, ProcessStage};
use crate::preprocess::CompressedDecoder;

use super::frame_buffer::{FrameBuffer, FrameKind};

/// A frame ready for the engine: raw pixels in a pooled buffer.
pub struct Prepared {
    frame: Lease<FrameBuffer>,
}

impl Prepared {
    /// The pixels (checked when the frame was prepared).
    pub fn view(&self) -> Result<ImageView<'_>, FrameError> {
        match self.frame.raw_view() {
            Some(view) => view,
            None => Err(FrameError::BadInput(
                crate::error::BadInputKind::CorruptCompressed,
            )),
        }
    }
}

/// Decodes compressed frames into the camera's decode pool; passes raw frames through.
pub struct PreprocessStage {
    decoder: CompressedDecoder,
    decoded: Pool<FrameBuffer>,
}

impl PreprocessStage {
    /// `decoded`: buffers of capacity [`CompressedDecoder::buffer_capacity`] for decoded frames
    /// (one being decoded, one in the ready slot, one waiting for the engine).
    pub fn new(decoder: CompressedDecoder, decoded: Pool<FrameBuffer>) -> Self {
        Self { decoder, decoded }
    }
}

impl ProcessStage<Lease<FrameBuffer>> for PreprocessStage {
    type Output = Prepared;

    fn process(
        &mut self,
        frame: Lease<FrameBuffer>,
        _meta: &FrameMeta,
    ) -> Result<Prepared, FrameError> {
        if let Some(view) = frame.raw_view() {
            view?;
            return Ok(Prepared { frame });
        }
        let mut out = self
            .decoded
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Preprocess))?;
        let out_frame: &mut FrameBuffer = &mut out;
        let view = self.decoder.decode(&frame.bytes, &mut out_frame.bytes)?;
        let kind = FrameKind::Raw {
            width: view.width(),
            height: view.height(),
            step: view.step(),
            encoding: view.encoding(),
        };
        out_frame.kind = kind;
        // The compressed bytes go back to the camera's frame pool now.
        drop(frame);
        Ok(Prepared { frame: out })
    }
}
