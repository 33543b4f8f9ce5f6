//! Greedy non-maximum suppression, in place and allocation-free: candidates are sorted by
//! score, and each is kept unless it overlaps an already kept box (of the same class, or of any
//! class when class-agnostic) by more than the IoU threshold. Stops after `max_keep`.

use super::Candidate;

/// Intersection over union of two `(x1, y1, x2, y2)` boxes (0 when either is empty).
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Run NMS over `candidates` (reordered in place: kept ones move to the front) and hand each
/// kept candidate, best first, to `keep`; at most `max_keep` of them.
pub fn nms_into(
    candidates: &mut [Candidate],
    iou_threshold: f32,
    class_agnostic: bool,
    max_keep: usize,
    mut keep: impl FnMut(&Candidate),
) {
    candidates.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = 0usize;
    for i in 0..candidates.len() {
        if kept >= max_keep {
            break;
        }
        let c = candidates[i];
        let suppressed = candidates[..kept].iter().any(|k| {
            (class_agnostic || k.class_id == c.class_id) && iou(&k.bbox, &c.bbox) > iou_threshold
        });
        if !suppressed {
            candidates[kept] = c;
            kept += 1;
            keep(&c);
        }
    }
}
