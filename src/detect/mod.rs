//! Decoding network outputs (YOLOX, YOLOv8, SSD) into boxes in source pixels, with score
//! threshold, per-class or class-agnostic NMS and top-k, one frame (one row of a batch) at a
//! time.
//!
//! A [`Decoder`] is built once per engine from the config and the validated
//! [`crate::infer::ModelContract`]; it owns a candidate buffer sized for the worst case
//! (anchors × classes), so decoding a frame allocates nothing.
//!
//! Non-finite policy: an anchor whose box or any score is NaN/±inf is skipped (never published)
//! and counted in [`DecodeStats::non_finite`]. When *every* anchor is non-finite the whole frame
//! is garbage and [`Decoder::decode`] returns `FrameError::BadInput(NonFiniteOutput)`, so the
//! caller drops it with that reason; otherwise the frame is published with the finite anchors
//! and the count is recorded.

mod candidate;
mod image_detector;
mod nms;
mod ssd;
mod yolo;

pub use candidate::Candidate;
pub use image_detector::ImageDetector;
pub use nms::{iou, nms_into};

use crate::config::{ModelConfig, ModelFamily};
use crate::error::{BadInputKind, FrameError};
use crate::frame::{Detection, LetterboxTransform};
use crate::infer::{ModelContract, OutputBuffers};

/// Per-frame decode counts.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Anchors examined.
    pub anchors: usize,
    /// Anchors skipped because a box coordinate or score was NaN/±inf.
    pub non_finite: usize,
    /// Candidates above the score threshold, before NMS.
    pub candidates: usize,
    /// Detections written.
    pub detections: usize,
}

/// Decoder parameters taken from the config.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeParams {
    pub family: ModelFamily,
    pub classes: usize,
    pub anchors: usize,
    pub input_width: u32,
    pub input_height: u32,
    pub score_threshold: f32,
    pub nms_iou: f32,
    pub class_agnostic_nms: bool,
    pub top_k: usize,
    pub ssd_boxes_yxyx: bool,
    pub ssd_background_column: bool,
}

impl DecodeParams {
    /// Parameters for a validated model.
    pub fn new(config: &ModelConfig, contract: &ModelContract) -> Self {
        Self {
            family: config.family,
            classes: contract.classes,
            anchors: contract.anchors,
            input_width: config.input_width,
            input_height: config.input_height,
            score_threshold: config.score_threshold,
            nms_iou: config.nms_iou,
            class_agnostic_nms: config.class_agnostic_nms,
            top_k: config.top_k,
            ssd_boxes_yxyx: config.ssd_boxes_yxyx,
            ssd_background_column: config.ssd_background_column,
        }
    }
}

/// Decodes one frame's outputs into detections, reusing preallocated buffers.
#[derive(Clone, Debug)]
pub struct Decoder {
    params: DecodeParams,
    candidates: Vec<Candidate>,
}

impl Decoder {
    /// Build a decoder; allocates the candidate buffer once (anchors × classes).
    pub fn new(params: DecodeParams) -> Self {
        let capacity = params.anchors.saturating_mul(params.classes.max(1));
        Self {
            candidates: Vec::with_capacity(capacity),
            params,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &DecodeParams {
        &self.params
    }

    /// A detection buffer with room for `top_k` detections (start-up: allocates).
    pub fn new_detections(&self) -> Vec<Detection> {
        Vec::with_capacity(self.params.top_k)
    }

    /// Decode row `row` (frame `row` of the batch) of `outputs` (decoder order) into `out`
    /// (cleared first; at most `top_k`, best first), boxes in source pixels through
    /// `transform` (that frame's). A row outside the buffers is `FrameError::Engine`. See the
    /// module doc for the non-finite policy.
    pub fn decode(
        &mut self,
        outputs: &OutputBuffers,
        row: usize,
        transform: &LetterboxTransform,
        out: &mut Vec<Detection>,
    ) -> Result<DecodeStats, FrameError> {
        out.clear();
        self.candidates.clear();
        if row >= outputs.rows() {
            return Err(FrameError::Engine);
        }
        let p = &self.params;
        let first = outputs.row(0, row);
        let non_finite = match p.family {
            ModelFamily::Yolox => yolo::collect_yolox(p, first, &mut self.candidates),
            ModelFamily::Yolov8 => yolo::collect_yolov8(p, first, &mut self.candidates),
            ModelFamily::Ssd => ssd::collect(p, first, outputs.row(1, row), &mut self.candidates),
        }?;
        let mut stats = DecodeStats {
            anchors: p.anchors,
            non_finite,
            candidates: self.candidates.len(),
            detections: 0,
        };
        if p.anchors > 0 && non_finite == p.anchors {
            return Err(FrameError::BadInput(BadInputKind::NonFiniteOutput));
        }
        let capacity = out.capacity().min(p.top_k);
        nms_into(
            &mut self.candidates,
            p.nms_iou,
            p.class_agnostic_nms,
            capacity,
            |c| {
                out.push(Detection {
                    class_id: c.class_id,
                    score: c.score,
                    bbox: transform.box_to_source(c.bbox),
                })
            },
        );
        stats.detections = out.len();
        Ok(stats)
    }
}
