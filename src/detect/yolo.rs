//! YOLOX (`[1, N, 5 + C]`, grid-relative, strides 8/16/32) and YOLOv8 (`[1, 4 + C, N]`,
//! cx, cy, w, h in network pixels) candidate extraction. One candidate per (anchor, class)
//! whose score passes the threshold.

use super::candidate::keep_if_passing;
use super::{Candidate, DecodeParams};
use crate::error::FrameError;

const STRIDES: [u32; 3] = [8, 16, 32];

/// Grid cell `(gx, gy, stride)` of anchor `index`, in YOLOX order (stride 8 rows first).
fn grid_cell(p: &DecodeParams, mut index: usize) -> Option<(f32, f32, f32)> {
    for s in STRIDES {
        let gw = (p.input_width / s) as usize;
        let gh = (p.input_height / s) as usize;
        if index < gw * gh {
            return Some(((index % gw) as f32, (index / gw) as f32, s as f32));
        }
        index -= gw * gh;
    }
    None
}

/// Output of the wrong size: the engine broke its contract.
fn malformed() -> FrameError {
    FrameError::Engine
}

/// YOLOX: xy = (raw + grid) × stride, wh = exp(raw) × stride, score = obj × class.
/// Returns the number of non-finite anchors.
pub fn collect_yolox(
    p: &DecodeParams,
    data: &[f32],
    out: &mut Vec<Candidate>,
) -> Result<usize, FrameError> {
    let row = 5 + p.classes;
    if data.len() != p.anchors * row {
        return Err(malformed());
    }
    let mut non_finite = 0;
    for (a, r) in data.chunks_exact(row).enumerate() {
        if r.iter().any(|v| !v.is_finite()) {
            non_finite += 1;
            continue;
        }
        let Some((gx, gy, s)) = grid_cell(p, a) else {
            continue;
        };
        let obj = r[4];
        if obj < p.score_threshold {
            continue;
        }
        let cx = (r[0] + gx) * s;
        let cy = (r[1] + gy) * s;
        let w = r[2].exp() * s;
        let h = r[3].exp() * s;
        if !(w.is_finite() && h.is_finite()) {
            non_finite += 1;
            continue;
        }
        let bbox = [cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5];
        for (c, cls) in r[5..].iter().enumerate() {
            let score = obj * cls;
            keep_if_passing(out, p.score_threshold, c, score, bbox);
        }
    }
    Ok(non_finite)
}

/// YOLOv8: column-major `[4 + C, N]`; cx, cy, w, h already in network pixels.
/// Returns the number of non-finite anchors.
pub fn collect_yolov8(
    p: &DecodeParams,
    data: &[f32],
    out: &mut Vec<Candidate>,
) -> Result<usize, FrameError> {
    let n = p.anchors;
    if data.len() != n * (4 + p.classes) {
        return Err(malformed());
    }
    let at = |ch: usize, a: usize| data[ch * n + a];
    let mut non_finite = 0;
    for a in 0..n {
        if (0..4 + p.classes).any(|ch| !at(ch, a).is_finite()) {
            non_finite += 1;
            continue;
        }
        let (cx, cy, w, h) = (at(0, a), at(1, a), at(2, a), at(3, a));
        let bbox = [cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5];
        for c in 0..p.classes {
            let score = at(4 + c, a);
            keep_if_passing(out, p.score_threshold, c, score, bbox);
        }
    }
    Ok(non_finite)
}
