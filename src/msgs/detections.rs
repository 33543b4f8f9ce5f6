//! `vision_msgs/msg/Detection2DArray` (vision_msgs 4.1.1, Humble and Jazzy) serialisation.
//!
//! Field order (from the .msg files): Detection2DArray{Header header, Detection2D[] detections};
//! Detection2D{Header header, ObjectHypothesisWithPose[] results, BoundingBox2D bbox, string id};
//! ObjectHypothesisWithPose{ObjectHypothesis hypothesis{string class_id, float64 score},
//! geometry_msgs/PoseWithCovariance pose}; BoundingBox2D{Pose2D center{Point2D position{x, y},
//! float64 theta}, float64 size_x, float64 size_y}.

use super::writer::CdrWriter;
use crate::frame::{Detection, Stamp};

/// Serialise `detections` as a `Detection2DArray` into `buf` (cleared first).
///
/// Each detection carries one hypothesis whose `class_id` is its class name
/// (`class_names[class_id]`, or the decimal id when the name is missing), an identity pose
/// with zero covariance, and its box as centre/size in source-image pixels. Every detection's
/// header is the array's header; `id` is empty. Allocates only while `buf` grows.
pub fn write_detection2d_array<S: AsRef<str>>(
    buf: &mut Vec<u8>,
    stamp: Stamp,
    frame_id: &str,
    detections: &[Detection],
    class_names: &[S],
) {
    let mut w = CdrWriter::start(buf);
    w.header(stamp, frame_id);
    w.sequence_len(detections.len());
    for det in detections {
        w.header(stamp, frame_id);
        // results: one ObjectHypothesisWithPose
        w.sequence_len(1);
        let mut digits = DecimalBuf::default();
        let class = match class_names.get(det.class_id as usize) {
            Some(name) => name.as_ref(),
            None => digits.format(det.class_id),
        };
        w.string(class);
        w.f64(f64::from(det.score));
        write_identity_pose_with_covariance(&mut w);
        let (cx, cy, width, height) = det.center_size();
        w.f64(f64::from(cx));
        w.f64(f64::from(cy));
        w.f64(0.0); // theta
        w.f64(f64::from(width));
        w.f64(f64::from(height));
        w.string(""); // id
    }
}

/// `geometry_msgs/PoseWithCovariance`: position 0, orientation identity (w = 1), covariance 0.
fn write_identity_pose_with_covariance(w: &mut CdrWriter<'_>) {
    for v in [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0] {
        w.f64(v);
    }
    for _ in 0..36 {
        w.f64(0.0);
    }
}

/// Formats a `u32` in decimal on the stack (no allocation).
#[derive(Default)]
struct DecimalBuf([u8; 10]);

impl DecimalBuf {
    fn format(&mut self, mut v: u32) -> &str {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        // Only ASCII digits were written.
        std::str::from_utf8(&self.0[i..]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::DecimalBuf;

    #[test]
    fn decimal_formatting() {
        for v in [0u32, 7, 10, 12345, u32::MAX] {
            assert_eq!(DecimalBuf::default().format(v), v.to_string());
        }
    }
}
