//! ROS 2 CDR: a zero-copy reader for images and writers for detections, diagnostics and alarms.

pub mod cdr;
pub mod detections;
pub mod diagnostics;
pub mod image;
pub mod writer;

pub use cdr::{CdrError, CdrReader, CDR_LE_HEADER};
pub use detections::write_detection2d_array;
pub use diagnostics::{
    write_diagnostic_array, write_diagnostic_status, DiagnosticStatusView, DIAG_ERROR, DIAG_OK,
    DIAG_STALE, DIAG_WARN,
};
pub use image::{CompressedImageMsg, HeaderRef, ImageMsg};
pub use writer::{write_compressed_image, write_image, CdrWriter};
