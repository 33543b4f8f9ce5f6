//! The fused preprocessing pass: raw image bytes straight into the engine input tensor.
//!
//! [`Preprocessor::run`] does resize (OpenCV-compatible bilinear, half-pixel centres; letterbox
//! or stretch) + channel order + `(pixel × scale − mean) / std` + NCHW/NHWC layout + f32/f16 in
//! one pass, with no intermediate image, through a row [`Kernel`] chosen by CPU feature
//! detection (AVX-512, AVX2 or portable). [`CompressedDecoder`] turns JPEG/PNG into a raw
//! [`ImageView`](crate::frame::ImageView) inside a caller-owned pooled buffer.

mod compressed;
#[cfg(feature = "cuda")]
pub mod cuda;
mod fused;
mod jpeg_scan;
mod kernel;
mod output;
mod source_format;
mod spec;
mod taps;

pub use compressed::{CompressedDecoder, CompressedFormat, CompressedHeader, PNG_WORKING_BYTES};
pub use fused::{Preprocessor, TensorMut};
pub use jpeg_scan::{JpegFrame, JpegProblem, JpegScanCheck};
pub use kernel::{Kernel, KernelUnsupported};
pub use spec::{Placement, PreprocessSpec};
