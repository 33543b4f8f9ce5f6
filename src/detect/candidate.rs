//! A scored box in network-input pixels, before NMS, and the rule that keeps one.

/// One candidate: class, score and box `(x1, y1, x2, y2)` in network-input pixels.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Candidate {
    pub class_id: u32,
    pub score: f32,
    pub bbox: [f32; 4],
}

impl Candidate {
    /// Box area (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        let [x1, y1, x2, y2] = self.bbox;
        (x2 - x1).max(0.0) * (y2 - y1).max(0.0)
    }
}

/// Keep the candidate `(class, score, bbox)` when its score passes `threshold`, while the
/// preallocated `out` has room (a full buffer keeps the candidates found first and never
/// grows).
pub(super) fn keep_if_passing(
    out: &mut Vec<Candidate>,
    threshold: f32,
    class: usize,
    score: f32,
    bbox: [f32; 4],
) {
    if score > threshold && out.len() < out.capacity() {
        out.push(Candidate {
            class_id: class as u32,
            score,
            bbox,
        });
    }
}
