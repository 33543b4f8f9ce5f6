//! Fixtures for the decoder tests: an `f32` output tensor spec and decode parameters with the
//! thresholds the tests' hand-built outputs are written against.

use redline::config::ModelFamily;
use redline::detect::DecodeParams;
use redline::infer::{ElementType, TensorSpec};

/// An `f32` output tensor named `out`.
pub fn spec(shape: &[usize]) -> TensorSpec {
    TensorSpec {
        name: "out".into(),
        shape: shape.to_vec(),
        element: ElementType::F32,
    }
}

/// Score 0.3, IoU 0.45, per-class NMS, top 100, SSD boxes `yxyx` with a background column.
pub fn params(family: ModelFamily, classes: usize, anchors: usize, w: u32, h: u32) -> DecodeParams {
    DecodeParams {
        family,
        classes,
        anchors,
        input_width: w,
        input_height: h,
        score_threshold: 0.3,
        nms_iou: 0.45,
        class_agnostic_nms: false,
        top_k: 100,
        ssd_boxes_yxyx: true,
        ssd_background_column: true,
    }
}
