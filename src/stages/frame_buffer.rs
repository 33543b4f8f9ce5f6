//! The pooled frame buffer: the one copy of a received image's bytes the pipeline makes, plus
//! what is needed to view them again (geometry for raw images; nothing for compressed ones).

use crate::error::FrameError;
use crate::frame::{ImageLimits, ImageView, PixelEncoding};

/// What the bytes in a [`FrameBuffer`] are.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Raw pixels (`sensor_msgs/Image`), rows `step` bytes apart.
    Raw {
        width: u32,
        height: u32,
        step: usize,
        encoding: PixelEncoding,
    },
    /// A JPEG or PNG stream (`sensor_msgs/CompressedImage`).
    Compressed,
}

/// A pooled buffer holding one frame's bytes.
#[derive(Debug)]
pub struct FrameBuffer {
    pub kind: FrameKind,
    pub bytes: Vec<u8>,
    limits: ImageLimits,
}

impl FrameBuffer {
    /// A buffer with `capacity` bytes reserved now (start-up).
    pub fn with_capacity(capacity: usize, limits: ImageLimits) -> Self {
        Self {
            kind: FrameKind::Compressed,
            bytes: Vec::with_capacity(capacity),
            limits,
        }
    }

    /// Copy a validated raw image in (only its rows, not the padding after the last one).
    ///
    /// The buffer grows only when a frame is larger than any before it (warm-up); in steady
    /// state this is a plain copy.
    pub fn fill_raw(&mut self, image: &ImageView<'_>) {
        let used =
            image.step() * (image.height() as usize - 1) + image.row(image.height() - 1).len();
        self.bytes.clear();
        self.bytes
            .extend_from_slice(&image.data()[..used.min(image.data().len())]);
        self.kind = FrameKind::Raw {
            width: image.width(),
            height: image.height(),
            step: image.step(),
            encoding: image.encoding(),
        };
    }

    /// Copy a compressed stream in.
    pub fn fill_compressed(&mut self, data: &[u8]) {
        self.bytes.clear();
        self.bytes.extend_from_slice(data);
        self.kind = FrameKind::Compressed;
    }

    /// View a raw frame again (`None` for compressed frames).
    pub fn raw_view(&self) -> Option<Result<ImageView<'_>, FrameError>> {
        match self.kind {
            FrameKind::Raw {
                width,
                height,
                step,
                encoding,
            } => Some(
                ImageView::new(width, height, step, encoding, &self.bytes, self.limits)
                    .map_err(FrameError::BadInput),
            ),
            FrameKind::Compressed => None,
        }
    }
}

/// Bytes a frame buffer reserves at start-up: enough for a 1080p RGBA frame, or the configured
/// limit if smaller. Larger frames (up to the limits) grow the buffer once, during warm-up.
pub fn initial_frame_capacity(limits: ImageLimits) -> usize {
    let limit = limits.max_width as usize * limits.max_height as usize * 4;
    limit.min(1920 * 1080 * 4)
}
