//! The affine map between network-input pixels and source-image pixels, kept per frame.
//!
//! Preprocessing produces it (letterbox or stretch); decoding uses its inverse to put boxes
//! back into source pixels. `net = src × scale + offset` on each axis, in continuous pixel
//! coordinates (pixel centres at `i + 0.5`).

use nalgebra::Matrix3;

/// Source ↔ network pixel mapping for one frame.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct LetterboxTransform {
    pub scale_x: f32,
    pub scale_y: f32,
    pub offset_x: f32,
    pub offset_y: f32,
    /// Source image size, used to clamp mapped-back boxes.
    pub src_width: u32,
    pub src_height: u32,
}

impl LetterboxTransform {
    /// The identity for an image of the given size.
    pub const fn identity(width: u32, height: u32) -> Self {
        Self {
            scale_x: 1.0,
            scale_y: 1.0,
            offset_x: 0.0,
            offset_y: 0.0,
            src_width: width,
            src_height: height,
        }
    }

    /// Network pixel → source pixel (not clamped).
    pub fn to_source(&self, x: f32, y: f32) -> (f32, f32) {
        (
            (x - self.offset_x) / self.scale_x,
            (y - self.offset_y) / self.scale_y,
        )
    }

    /// Source pixel → network pixel.
    pub fn to_network(&self, x: f32, y: f32) -> (f32, f32) {
        (
            x * self.scale_x + self.offset_x,
            y * self.scale_y + self.offset_y,
        )
    }

    /// Map a network-space box `(x1, y1, x2, y2)` to source pixels, clamped to the image.
    pub fn box_to_source(&self, b: [f32; 4]) -> [f32; 4] {
        let (x1, y1) = self.to_source(b[0], b[1]);
        let (x2, y2) = self.to_source(b[2], b[3]);
        let w = self.src_width as f32;
        let h = self.src_height as f32;
        [
            x1.clamp(0.0, w),
            y1.clamp(0.0, h),
            x2.clamp(0.0, w),
            y2.clamp(0.0, h),
        ]
    }

    /// The homogeneous matrix mapping source pixels to network pixels.
    pub fn source_to_network(&self) -> Matrix3<f32> {
        Matrix3::new(
            self.scale_x,
            0.0,
            self.offset_x, //
            0.0,
            self.scale_y,
            self.offset_y, //
            0.0,
            0.0,
            1.0,
        )
    }

    /// The homogeneous matrix mapping network pixels back to source pixels.
    pub fn network_to_source(&self) -> Matrix3<f32> {
        Matrix3::new(
            1.0 / self.scale_x,
            0.0,
            -self.offset_x / self.scale_x, //
            0.0,
            1.0 / self.scale_y,
            -self.offset_y / self.scale_y, //
            0.0,
            0.0,
            1.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector3;

    #[test]
    fn round_trips_and_matrices_agree() {
        let t = LetterboxTransform {
            scale_x: 0.5,
            scale_y: 0.5,
            offset_x: 0.0,
            offset_y: 20.0,
            src_width: 800,
            src_height: 564,
        };
        let (nx, ny) = t.to_network(100.0, 50.0);
        assert_eq!((nx, ny), (50.0, 45.0));
        assert_eq!(t.to_source(nx, ny), (100.0, 50.0));
        let m = t.network_to_source() * t.source_to_network();
        assert!((m - Matrix3::identity()).abs().max() < 1e-6);
        let p = t.network_to_source() * Vector3::new(nx, ny, 1.0);
        assert!((p.x - 100.0).abs() < 1e-4 && (p.y - 50.0).abs() < 1e-4);
        assert_eq!(
            t.box_to_source([-10.0, 0.0, 1000.0, 45.0]),
            [0.0, 0.0, 800.0, 50.0]
        );
    }
}
