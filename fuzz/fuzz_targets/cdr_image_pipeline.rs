//! CDR `sensor_msgs/Image` or `CompressedImage` bytes → the borrowing reader → the raw view or
//! the JPEG/PNG decoder → the fused preprocessing pass, as the pipeline's stages run them. The
//! first byte picks the message type and the tensor layout; nothing may panic, and an accepted
//! image must lie within the limits.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::ImageView;
use redline::msgs::{CompressedImageMsg, ImageMsg};
use redline::preprocess::{CompressedDecoder, PreprocessSpec, Preprocessor, TensorMut};

struct State {
    decoder: CompressedDecoder,
    decoded: Vec<u8>,
    pre: [Preprocessor; 2],
    tensor: Vec<f32>,
}

fn spec(layout: TensorLayout, resize: ResizeMode) -> PreprocessSpec {
    PreprocessSpec {
        width: 32,
        height: 24,
        layout,
        dtype: TensorDType::F32,
        channel_order: ChannelOrder::Bgr,
        resize,
        anchor: LetterboxAnchor::Center,
        pad_value: 114,
        scale: 1.0 / 255.0,
        mean: [0.5; 3],
        std: [0.25; 3],
    }
}

thread_local! {
    static STATE: std::cell::RefCell<State> = std::cell::RefCell::new({
        let decoder = CompressedDecoder::new(common::LIMITS);
        State {
            decoded: Vec::with_capacity(decoder.buffer_capacity()),
            decoder,
            pre: [
                Preprocessor::new(spec(TensorLayout::Nchw, ResizeMode::Letterbox)),
                Preprocessor::new(spec(TensorLayout::Nhwc, ResizeMode::Stretch)),
            ],
            tensor: vec![0.0; 3 * 32 * 24],
        }
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, cdr)) = data.split_first() else {
        return;
    };
    STATE.with(|state| {
        let state = &mut *state.borrow_mut();
        let State {
            decoder,
            decoded,
            pre,
            tensor,
        } = state;
        let pre = &mut pre[usize::from(selector & 2 != 0)];
        let view = if selector & 1 == 0 {
            let Ok(m) = ImageMsg::parse(cdr) else { return };
            match ImageView::from_parts(
                m.width,
                m.height,
                m.step as usize,
                m.encoding,
                m.data,
                common::LIMITS,
            ) {
                Ok(v) => v,
                Err(_) => return,
            }
        } else {
            let Ok(m) = CompressedImageMsg::parse(cdr) else { return };
            match decoder.decode(m.data, decoded) {
                Ok(v) => v,
                Err(_) => return,
            }
        };
        assert!(view.width() <= common::LIMITS.max_width);
        assert!(view.height() <= common::LIMITS.max_height);
        let _ = pre.run(&view, TensorMut::F32(tensor));
        assert!(tensor.iter().all(|x| x.is_finite()));
    });
});
