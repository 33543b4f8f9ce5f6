//! Proof that the fused pass allocates nothing per call: a counting global allocator counts
//! allocations made by this test's thread while `Preprocessor::run` executes — for every row
//! kernel this CPU runs, every encoding, layout and dtype, and source sizes that take the
//! vector path, the scalar row tails, exact (point-sampled) ratios, huge downscales and
//! upscales. Tables and buffers are reserved in `Preprocessor::new`, so even the first frame
//! of a new source size allocates nothing.

mod common;

use half::f16;
use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{Kernel, PreprocessSpec, Preprocessor, TensorMut};

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

/// Allocations made by `f` on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    common::alloc::on_this_thread(f).1 as usize
}

fn spec(layout: TensorLayout, dtype: TensorDType, resize: ResizeMode) -> PreprocessSpec {
    PreprocessSpec {
        width: 64,
        height: 48,
        layout,
        dtype,
        channel_order: ChannelOrder::Rgb,
        resize,
        anchor: LetterboxAnchor::Center,
        pad_value: 114,
        scale: 1.0 / 255.0,
        mean: [0.0; 3],
        std: [1.0; 3],
    }
}

#[test]
fn the_fused_pass_allocates_nothing_even_on_new_source_sizes() {
    // The counter itself must see allocations, or a zero below would prove nothing.
    assert!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);

    let limits = ImageLimits::default();
    // Non-integer downscale, odd sizes, an exact 3× (point sampling), a huge downscale, 1×1
    // and a small upscale.
    let sizes = [
        (192u32, 108u32),
        (91, 133),
        (192, 144),
        (3001, 7),
        (1, 1),
        (23, 17),
    ];
    let data = vec![77u8; 3001 * 4 * 133 + 64];
    let mut f32_tensor = vec![0f32; 3 * 64 * 48];
    let mut f16_tensor = vec![f16::ZERO; 3 * 64 * 48];
    let kernels = Kernel::ALL.into_iter().filter(|k| {
        let ok = k.is_supported();
        if !ok {
            eprintln!(
                "SKIPPED: the {} kernel: this CPU lacks {}",
                k.name(),
                k.requires()
            );
        }
        ok
    });
    for kernel in kernels {
        for layout in [TensorLayout::Nchw, TensorLayout::Nhwc] {
            for dtype in [TensorDType::F32, TensorDType::F16] {
                for resize in [ResizeMode::Letterbox, ResizeMode::Stretch] {
                    let s = spec(layout, dtype, resize);
                    let mut pre = Preprocessor::with_kernel(s, kernel).unwrap();
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
                        // First frames of every size (tables rebuilt in place), then steady
                        // state alternating sizes.
                        let n = allocations_in(|| {
                            for _ in 0..2 {
                                for v in &views {
                                    run(v).unwrap();
                                }
                            }
                        });
                        assert_eq!(
                            n, 0,
                            "{kernel:?} {layout:?} {dtype:?} {resize:?} {enc:?}: {n} allocations"
                        );
                    }
                }
            }
        }
    }
}
