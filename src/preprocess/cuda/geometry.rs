//! Pure host-side geometry of the GPU pass: where the resized image lands in the network
//! input, the kernel's sampling ratios and the returned [`LetterboxTransform`]. No CUDA here,
//! so it is unit-tested everywhere.

use crate::config::{
    ChannelOrder, LetterboxAnchor, ModelConfig, ResizeMode, TensorDType, TensorLayout,
};
use crate::frame::LetterboxTransform;

/// What the GPU pass produces (the same fields the CPU pass reads from the model config).
#[derive(Clone, Debug, PartialEq)]
pub struct GpuPreprocessSpec {
    pub dst_width: u32,
    pub dst_height: u32,
    pub layout: TensorLayout,
    pub dtype: TensorDType,
    pub channel_order: ChannelOrder,
    pub resize: ResizeMode,
    pub anchor: LetterboxAnchor,
    pub pad_value: u8,
    /// `value = (pixel × scale − mean[c]) / std[c]`, `c` in the network's channel order.
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl GpuPreprocessSpec {
    pub fn from_model(model: &ModelConfig) -> Self {
        Self {
            dst_width: model.input_width,
            dst_height: model.input_height,
            layout: model.layout,
            dtype: model.dtype,
            channel_order: model.channel_order,
            resize: model.resize,
            anchor: model.letterbox_anchor,
            pad_value: model.pad_value,
            scale: model.scale,
            mean: model.mean,
            std: model.std,
        }
    }

    /// Elements of the network input tensor (3 channels).
    pub fn output_len(&self) -> usize {
        self.dst_width as usize * self.dst_height as usize * 3
    }

    /// Per-channel `(mul, add)` so that `value = pixel × mul + add`.
    pub fn affine(&self) -> ([f32; 3], [f32; 3]) {
        let mut mul = [0.0; 3];
        let mut add = [0.0; 3];
        for c in 0..3 {
            mul[c] = self.scale / self.std[c];
            add[c] = -self.mean[c] / self.std[c];
        }
        (mul, add)
    }
}

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
    /// Letterbox: `r = min(W/w, H/h)`, resized size `(floor(w·r), floor(h·r))` (at least 1),
    /// top-left or centred (integer halves of the slack); stretch: the whole input.
    pub fn compute(spec: &GpuPreprocessSpec, src_w: u32, src_h: u32) -> Self {
        let (dw, dh) = (spec.dst_width, spec.dst_height);
        let (roi_w, roi_h) = match spec.resize {
            ResizeMode::Stretch => (dw, dh),
            ResizeMode::Letterbox => {
                let r = (f64::from(dw) / f64::from(src_w)).min(f64::from(dh) / f64::from(src_h));
                let w = ((f64::from(src_w) * r).floor() as u32).clamp(1, dw);
                let h = ((f64::from(src_h) * r).floor() as u32).clamp(1, dh);
                (w, h)
            }
        };
        let (roi_x, roi_y) = match (spec.resize, spec.anchor) {
            (ResizeMode::Letterbox, LetterboxAnchor::Center) => {
                ((dw - roi_w) / 2, (dh - roi_h) / 2)
            }
            _ => (0, 0),
        };
        let scale_x = roi_w as f32 / src_w as f32;
        let scale_y = roi_h as f32 / src_h as f32;
        Self {
            roi_x,
            roi_y,
            roi_w,
            roi_h,
            src_per_dst_x: src_w as f32 / roi_w as f32,
            src_per_dst_y: src_h as f32 / roi_h as f32,
            transform: LetterboxTransform {
                scale_x,
                scale_y,
                offset_x: roi_x as f32,
                offset_y: roi_y as f32,
                src_width: src_w,
                src_height: src_h,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(resize: ResizeMode, anchor: LetterboxAnchor) -> GpuPreprocessSpec {
        GpuPreprocessSpec {
            dst_width: 640,
            dst_height: 640,
            layout: TensorLayout::Nchw,
            dtype: TensorDType::F32,
            channel_order: ChannelOrder::Rgb,
            resize,
            anchor,
            pad_value: 114,
            scale: 1.0 / 255.0,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }

    #[test]
    fn letterbox_full_hd_top_left_keeps_aspect() {
        let g = KernelGeometry::compute(
            &spec(ResizeMode::Letterbox, LetterboxAnchor::TopLeft),
            1920,
            1080,
        );
        assert_eq!((g.roi_x, g.roi_y, g.roi_w, g.roi_h), (0, 0, 640, 360));
        assert_eq!(g.src_per_dst_x, 3.0);
        let (x, y) = g.transform.to_source(640.0, 360.0);
        assert!((x - 1920.0).abs() < 1e-3 && (y - 1080.0).abs() < 1e-3);
    }

    #[test]
    fn letterbox_centre_splits_the_slack() {
        let g = KernelGeometry::compute(
            &spec(ResizeMode::Letterbox, LetterboxAnchor::Center),
            1920,
            1080,
        );
        assert_eq!((g.roi_x, g.roi_y, g.roi_w, g.roi_h), (0, 140, 640, 360));
        let (_, y) = g.transform.to_source(0.0, 140.0);
        assert!(y.abs() < 1e-4);
    }

    #[test]
    fn letterbox_floors_the_resized_size() {
        // r = min(640/3, 640/7) = 91.43 → (floor(274.29), floor(640)) = (274, 640).
        let g =
            KernelGeometry::compute(&spec(ResizeMode::Letterbox, LetterboxAnchor::Center), 3, 7);
        assert_eq!((g.roi_w, g.roi_h), (274, 640));
        assert_eq!(g.roi_x, (640 - 274) / 2);
    }

    #[test]
    fn stretch_uses_the_whole_input_per_axis() {
        let g = KernelGeometry::compute(
            &spec(ResizeMode::Stretch, LetterboxAnchor::Center),
            1920,
            1080,
        );
        assert_eq!((g.roi_x, g.roi_y, g.roi_w, g.roi_h), (0, 0, 640, 640));
        assert!((g.transform.scale_y - 640.0 / 1080.0).abs() < 1e-6);
    }

    #[test]
    fn affine_matches_the_normalisation_formula() {
        let s = spec(ResizeMode::Stretch, LetterboxAnchor::Center);
        let (mul, add) = s.affine();
        for c in 0..3 {
            let pixel = 200.0_f32;
            let expected = (pixel * s.scale - s.mean[c]) / s.std[c];
            assert!((pixel * mul[c] + add[c] - expected).abs() < 1e-5);
        }
    }
}
