//! One detected object in source-image pixels: what decoders produce and publishers serialise.

/// A detection: class index (into `model.class_names`), score and box `(x1, y1, x2, y2)` in
/// source-image pixels.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Detection {
    pub class_id: u32,
    pub score: f32,
    pub bbox: [f32; 4],
}

impl Detection {
    /// Box centre and size `(cx, cy, w, h)`, as `vision_msgs/BoundingBox2D` wants it.
    pub fn center_size(&self) -> (f32, f32, f32, f32) {
        let [x1, y1, x2, y2] = self.bbox;
        ((x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1)
    }
}
