//! The ingest stage: read the header of a received CDR image message without copying, then
//! copy its pixels (or compressed stream) once into a pooled [`FrameBuffer`].
//!
//! The message is whatever owns the CDR bytes (`Vec<u8>` from r2r or a bag reader); the
//! zero-copy readers in [`crate::msgs`] borrow from it until `load` has made the one copy.

use crate::config::ImageTransport;
use crate::error::{BadInputKind, FrameError, Stage};
use crate::frame::{FrameId, ImageLimits, ImageView, Lease, Pool};
use crate::msgs::{CompressedImageMsg, ImageMsg};
use crate::pipeline::{FrameHeader, FrameMeta, IngestStage};

use super::frame_buffer::FrameBuffer;

/// Parses `sensor_msgs/Image` or `sensor_msgs/CompressedImage` CDR into pooled frames.
pub struct CdrIngest<M> {
    transport: ImageTransport,
    limits: ImageLimits,
    frames: Pool<FrameBuffer>,
    _message: std::marker::PhantomData<fn() -> M>,
}

impl<M> CdrIngest<M> {
    pub fn new(transport: ImageTransport, limits: ImageLimits, frames: Pool<FrameBuffer>) -> Self {
        Self {
            transport,
            limits,
            frames,
            _message: std::marker::PhantomData,
        }
    }
}

const MALFORMED: FrameError = FrameError::BadInput(BadInputKind::MalformedMessage);

fn header_of(stamp: crate::frame::Stamp, frame_id: &str) -> Result<FrameHeader, FrameError> {
    Ok(FrameHeader {
        stamp,
        frame_id: FrameId::new(frame_id).ok_or(MALFORMED)?,
    })
}

impl<M: AsRef<[u8]> + Send + 'static> IngestStage for CdrIngest<M> {
    type Message = M;
    type Frame = Lease<FrameBuffer>;

    fn header(&mut self, message: &M) -> Result<FrameHeader, FrameError> {
        let bytes = message.as_ref();
        match self.transport {
            ImageTransport::Raw => {
                let m = ImageMsg::parse(bytes).map_err(|_| MALFORMED)?;
                header_of(m.header.stamp, m.header.frame_id)
            }
            ImageTransport::Compressed => {
                let m = CompressedImageMsg::parse(bytes).map_err(|_| MALFORMED)?;
                header_of(m.header.stamp, m.header.frame_id)
            }
        }
    }

    fn load(&mut self, message: M, _meta: &FrameMeta) -> Result<Lease<FrameBuffer>, FrameError> {
        let bytes = message.as_ref();
        match self.transport {
            ImageTransport::Raw => {
                let m = ImageMsg::parse(bytes).map_err(|_| MALFORMED)?;
                // Validate before leasing: a bad frame must not cost a buffer.
                let view = ImageView::from_parts(
                    m.width,
                    m.height,
                    m.step as usize,
                    m.encoding,
                    m.data,
                    self.limits,
                )?;
                let mut frame = self
                    .frames
                    .try_lease()
                    .ok_or(FrameError::PoolExhausted(Stage::Ingest))?;
                frame.fill_raw(&view);
                Ok(frame)
            }
            ImageTransport::Compressed => {
                let m = CompressedImageMsg::parse(bytes).map_err(|_| MALFORMED)?;
                if m.data.is_empty() {
                    return Err(FrameError::BadInput(BadInputKind::CorruptCompressed));
                }
                let mut frame = self
                    .frames
                    .try_lease()
                    .ok_or(FrameError::PoolExhausted(Stage::Ingest))?;
                frame.fill_compressed(m.data);
                Ok(frame)
            }
        }
    }
}
