//! What the network wants its input to look like: size, layout, dtype, channel order, fit mode
//! and normalisation, taken from the model config — and where a source image of a given size
//! lands in it ([`Placement`]). The CPU pass and the CUDA kernel both take their geometry from
//! here, so the two cannot drift.

use crate::config::{
    ChannelOrder, LetterboxAnchor, ModelConfig, ResizeMode, TensorDType, TensorLayout,
};
use crate::frame::LetterboxTransform;

/// Where the resized source lies inside the network input, for one source size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Top-left corner of the resized source in the network input.
    pub x: u32,
    pub y: u32,
    /// Size of the resized source.
    pub width: u32,
    pub height: u32,
}

/// The target tensor and how to fill it.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PreprocessSpec {
    /// Network input width in pixels.
    pub width: u32,
    /// Network input height in pixels.
    pub height: u32,
    pub layout: TensorLayout,
    pub dtype: TensorDType,
    pub channel_order: ChannelOrder,
    pub resize: ResizeMode,
    pub anchor: LetterboxAnchor,
    /// Letterbox padding value (0–255, before normalisation).
    pub pad_value: u8,
    /// `value = (pixel × scale − mean[c]) / std[c]`, channels in network order.
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl PreprocessSpec {
    /// The spec the model config describes.
    pub fn from_model(model: &ModelConfig) -> Self {
        Self {
            width: model.input_width,
            height: model.input_height,
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

    /// Elements in one input tensor (`3 × height × width`).
    pub const fn tensor_len(&self) -> usize {
        3 * self.width as usize * self.height as usize
    }

    /// Letterbox: `r = min(W/w, H/h)`, resized size `(floor(w·r), floor(h·r))` clamped to
    /// `1..=W`/`1..=H`, top-left or centred (integer halves of the slack); stretch: the whole
    /// input.
    pub fn placement(&self, src_width: u32, src_height: u32) -> Placement {
        let (dw, dh) = (self.width, self.height);
        let (width, height) = match self.resize {
            ResizeMode::Stretch => (dw, dh),
            ResizeMode::Letterbox => {
                let r = (f64::from(dw) / f64::from(src_width))
                    .min(f64::from(dh) / f64::from(src_height));
                let fit = |s: u32, d: u32| ((f64::from(s) * r).floor() as u32).clamp(1, d.max(1));
                (fit(src_width, dw), fit(src_height, dh))
            }
        };
        let (x, y) = match (self.resize, self.anchor) {
            (ResizeMode::Letterbox, LetterboxAnchor::Center) => {
                (dw.saturating_sub(width) / 2, dh.saturating_sub(height) / 2)
            }
            _ => (0, 0),
        };
        Placement {
            x,
            y,
            width,
            height,
        }
    }

    /// The source ↔ network transform for a source of this size.
    pub fn transform(&self, src_width: u32, src_height: u32) -> LetterboxTransform {
        let p = self.placement(src_width, src_height);
        LetterboxTransform {
            scale_x: p.width as f32 / src_width as f32,
            scale_y: p.height as f32 / src_height as f32,
            offset_x: p.x as f32,
            offset_y: p.y as f32,
            src_width,
            src_height,
        }
    }

    /// Per-channel `(multiplier, offset)` so that `value = pixel × mul + add`.
    pub fn affine(&self) -> [(f32, f32); 3] {
        let mut out = [(0.0, 0.0); 3];
        for (c, slot) in out.iter_mut().enumerate() {
            *slot = (self.scale / self.std[c], -self.mean[c] / self.std[c]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(resize: ResizeMode, anchor: LetterboxAnchor) -> PreprocessSpec {
        PreprocessSpec {
            width: 640,
            height: 640,
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

    /// The placement and transform of one source size, as the tests below read them.
    struct Geometry {
        roi_x: u32,
        roi_y: u32,
        roi_w: u32,
        roi_h: u32,
        transform: LetterboxTransform,
    }

    impl Geometry {
        fn of(spec: &PreprocessSpec, w: u32, h: u32) -> Self {
            let p = spec.placement(w, h);
            Self {
                roi_x: p.x,
                roi_y: p.y,
                roi_w: p.width,
                roi_h: p.height,
                transform: spec.transform(w, h),
            }
        }
    }

    #[test]
    fn letterbox_full_hd_top_left_keeps_aspect() {
        let g = Geometry::of(
            &spec(ResizeMode::Letterbox, LetterboxAnchor::TopLeft),
            1920,
            1080,
        );
        assert_eq!((g.roi_x, g.roi_y, g.roi_w, g.roi_h), (0, 0, 640, 360));
        let (x, y) = g.transform.to_source(640.0, 360.0);
        assert!((x - 1920.0).abs() < 1e-3 && (y - 1080.0).abs() < 1e-3);
    }

    #[test]
    fn letterbox_centre_splits_the_slack() {
        let g = Geometry::of(
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
        let g = Geometry::of(&spec(ResizeMode::Letterbox, LetterboxAnchor::Center), 3, 7);
        assert_eq!((g.roi_w, g.roi_h), (274, 640));
        assert_eq!(g.roi_x, (640 - 274) / 2);
    }

    #[test]
    fn stretch_uses_the_whole_input_per_axis() {
        let g = Geometry::of(
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
        for (c, (mul, add)) in s.affine().into_iter().enumerate() {
            let pixel = 200.0_f32;
            let expected = (pixel * s.scale - s.mean[c]) / s.std[c];
            assert!((pixel * mul + add - expected).abs() < 1e-5);
        }
    }
}
