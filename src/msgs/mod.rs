//! ROS 2 CDR: a zero-copy reader for images and writers for detections, diagnostics and alarms.

pub mod cdr;
pub mod image;

pub use cdr::{CdrError, CdrReader, CDR_LE_HEADER};
pub use image::{CompressedImageMsg, HeaderRef, ImageMsg};
