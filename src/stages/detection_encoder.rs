//! One frame's `vision_msgs/msg/Detection2DArray` CDR bytes, written into one buffer reused
//! for every frame: what the ROS node publishes raw, and what the zero-allocation test drives.

use crate::frame::Detection;
use crate::msgs::write_detection2d_array;
use crate::pipeline::FrameHeader;

/// Room for `top_k` = 100 detections (about 400 bytes each) without growing.
const INITIAL_CAPACITY: usize = 64 * 1024;

/// Serialises detections with the model's class names into a reused buffer.
pub struct Detection2DArrayEncoder {
    buf: Vec<u8>,
    class_names: Vec<String>,
}

impl Detection2DArrayEncoder {
    pub fn new(class_names: Vec<String>) -> Self {
        Self {
            buf: Vec::with_capacity(INITIAL_CAPACITY),
            class_names,
        }
    }

    /// The CDR bytes of this frame's detections, stamped with the source image's header.
    pub fn encode(&mut self, header: &FrameHeader, detections: &[Detection]) -> &[u8] {
        write_detection2d_array(
            &mut self.buf,
            header.stamp,
            header.frame_id.as_str(),
            detections,
            &self.class_names,
        );
        &self.buf
    }
}
