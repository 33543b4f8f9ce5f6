//! What the network wants its input to look like: size, layout, dtype, channel order, fit mode
//! and normalisation, taken from the model config.

use crate::config::{
    ChannelOrder, LetterboxAnchor, ModelConfig, ResizeMode, TensorDType, TensorLayout,
};

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

    /// Per-channel `(multiplier, offset)` so that `value = pixel × mul + add`.
    pub(crate) fn affine(&self) -> [(f32, f32); 3] {
        let mut out = [(0.0, 0.0); 3];
        for (c, slot) in out.iter_mut().enumerate() {
            *slot = (self.scale / self.std[c], -self.mean[c] / self.std[c]);
        }
        out
    }
}
