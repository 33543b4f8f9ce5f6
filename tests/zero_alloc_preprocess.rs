//! Proof that the fused pass allocates nothing per call in steady state: a counting global
//! allocator counts allocations made by this test's thread while `Preprocessor::run` executes,
//! after the first frame of each source size (which builds the coefficient tables).

mod common;

use half::f16;
use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{PreprocessSpec, Preprocessor, TensorMut};

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    common::alloc::on_this_thread(f).1 as usize
}

fn spec(layout: TensorLayout, dtype: TensorDType) -> PreprocessSpec {
    PreprocessSpec {
        width: 64,
        height: 64,
        layout,
        dtype,
        channel_order: ChannelOrder::Rgb,
        resize: ResizeMode::Letterbox,
        anchor: LetterboxAnchor::Center,
        pad_value: 114,
        scale: 1.0 / 255.0,
        mean: [0.0; 3],
        std: [1.0; 3],
    }
}

#[test]
fn the_fused_pass_allocates_nothing_in_steady_state() {
    // The counter itself must see allocations, or a zero below would prove nothing.
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);

    let limits = ImageLimits::default();
    let sizes = [(192u32, 108u32), (91, 133)];
    let data = vec![77u8; 192 * 4 * 133 + 64];
    let mut f32_tensor = vec![0f32; 3 * 64 * 64];
    let mut f16_tensor = vec![f16::ZERO; 3 * 64 * 64];
    for layout in [TensorLayout::Nchw, TensorLayout::Nhwc] {
        for dtype in [TensorDType::F32, TensorDType::F16] {
            let mut pre = Preprocessor::new(spec(layout, dtype));
            for enc in PixelEncoding::ALL {
                let views: Vec<ImageView<'_>> = sizes
                    .iter()
                    .map(|&(w, h)| {
                        let step = w as usize * 4 + 8;
                        ImageView::new(w, h, step, enc, &data, limits).unwrap()
                    })
                    .collect();
                let mut run = |view: &ImageView<'_>| match dtype {
                    TensorDType::F32 => pre.run(view, TensorMut::F32(&mut f32_tensor)),
                    TensorDType::F16 => pre.run(view, TensorMut::F16(&mut f16_tensor)),
                };
                // Warm-up: first frame of each size builds its tables.
                for v in &views {
                    run(v).unwrap();
                }
                // Steady state, alternating sizes (and so rebuilding tables in place).
                let n = allocations_in(|| {
                    for _ in 0..3 {
                        for v in &views {
                            run(v).unwrap();
                        }
                    }
                });
                assert_eq!(n, 0, "{layout:?} {dtype:?} {enc:?}: {n} allocations");
            }
        }
    }
}
