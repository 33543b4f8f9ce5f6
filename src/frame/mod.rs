//! Frame data and the preallocated pools it lives in: the borrowed raw-image view, pooled frame
//! and tensor buffers, and leases that return their buffer to the pool when dropped.

mod detection;
mod header;
mod image;
mod pool;
mod transform;

pub use detection::Detection;
pub use header::{FrameId, Stamp, FRAME_ID_CAPACITY};
pub use image::{ImageLimits, ImageView, PixelEncoding};
pub use pool::{EmptyPoolError, Lease, Pool};
pub use transform::LetterboxTransform;
