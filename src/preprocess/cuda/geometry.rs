//! Pure host-side geometry of the GPU pass: the kernel's region of interest and sampling ratios,
//! from the same [`PreprocessSpec::placement`] and [`PreprocessSpec::transform`] the CPU pass
//! uses. No CUDA here, so it is unit-tested everywhere.

use crate::frame::LetterboxTransform;
use crate::preprocess::PreprocessSpec;

/// Placement of the resized source inside the network input, for one source size.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct KernelGeometry {
    pub roi_x: u32,
    pub roi_y: u32,
    pub roi_w: u32,
    pub roi_h: u32,
    /// Source pixels per resized pixel (`src / roi`), as OpenCV's `cv2.resize` uses.
    pub src_per_dst_x: f32,
    pub src_per_dst_y: f32,
    pub transform: LetterboxTransform,
}

impl KernelGeometry {
    /// The kernel geometry for a `src_w × src_h` source.
    pub fn compute(spec: &PreprocessSpec, src_w: u32, src_h: u32) -> Self {
        let p = spec.placement(src_w, src_h);
        Self {
            roi_x: p.x,
            roi_y: p.y,
            roi_w: p.width,
            roi_h: p.height,
            src_per_dst_x: src_w as f32 / p.width as f32,
            src_per_dst_y: src_h as f32 / p.height as f32,
            transform: spec.transform(src_w, src_h),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};

    #[test]
    fn kernel_roi_and_ratios_come_from_the_shared_placement() {
        let spec = PreprocessSpec {
            width: 640,
            height: 640,
            layout: TensorLayout::Nchw,
            dtype: TensorDType::F32,
            channel_order: ChannelOrder::Rgb,
            resize: ResizeMode::Letterbox,
            anchor: LetterboxAnchor::Center,
            pad_value: 114,
            scale: 1.0 / 255.0,
            mean: [0.0; 3],
            std: [1.0; 3],
        };
        let g = KernelGeometry::compute(&spec, 1920, 1080);
        let p = spec.placement(1920, 1080);
        assert_eq!(
            (g.roi_x, g.roi_y, g.roi_w, g.roi_h),
            (p.x, p.y, p.width, p.height)
        );
        assert_eq!((g.src_per_dst_x, g.src_per_dst_y), (3.0, 3.0));
        assert_eq!(g.transform, spec.transform(1920, 1080));
    }
}
