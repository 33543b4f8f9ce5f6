//! SSD candidate extraction: boxes `[1, N, 4]` already decoded and normalised (optionally
//! `ymin, xmin, ymax, xmax`), scores `[1, N, C]` (optionally with a background column 0).
//! Boxes are scaled to network-input pixels so the same letterbox inverse applies.

use super::candidate::keep_if_passing;
use super::{Candidate, DecodeParams};
use crate::error::FrameError;

/// Returns the number of non-finite anchors.
pub fn collect(
    p: &DecodeParams,
    boxes: &[f32],
    scores: &[f32],
    out: &mut Vec<Candidate>,
) -> Result<usize, FrameError> {
    let n = p.anchors;
    if boxes.len() != n * 4 || scores.len() != n * p.classes {
        return Err(FrameError::Engine);
    }
    let first = usize::from(p.ssd_background_column);
    let (w, h) = (p.input_width as f32, p.input_height as f32);
    let mut non_finite = 0;
    for (b, s) in boxes
        .chunks_exact(4)
        .zip(scores.chunks_exact(p.classes.max(1)))
    {
        if b.iter().chain(s.iter()).any(|v| !v.is_finite()) {
            non_finite += 1;
            continue;
        }
        let (x1, y1, x2, y2) = if p.ssd_boxes_yxyx {
            (b[1], b[0], b[3], b[2])
        } else {
            (b[0], b[1], b[2], b[3])
        };
        let bbox = [x1 * w, y1 * h, x2 * w, y2 * h];
        for (c, &score) in s.iter().enumerate().skip(first) {
            keep_if_passing(out, p.score_threshold, c, score, bbox);
        }
    }
    Ok(non_finite)
}
