//! Criterion benchmarks of the fused preprocessing pass, one thread, one frame per iteration,
//! for every row kernel this CPU runs (`<job>/<kernel>`). The six jobs of issue 14 (all
//! letterboxed top-left with pad 114, or stretched, into RGB NCHW f32 /255), plus one NHWC f16
//! job; `benches/compare_preprocess.sh` runs the same jobs against OpenCV through
//! `redline bench preprocess`.
//!
//! `cargo bench --bench preprocess -- <filter>`, e.g. `-- 416` or `-- /avx2`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use half::f16;
use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{Kernel, PreprocessSpec, Preprocessor, TensorMut};

/// Deterministic pseudo-random bytes, the same pattern as `redline bench preprocess` and the
/// OpenCV script (`(i × 7 + i / 4099) mod 251`).
fn frame_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 4099) % 251) as u8).collect()
}

fn spec(net: u32, layout: TensorLayout, dtype: TensorDType, resize: ResizeMode) -> PreprocessSpec {
    PreprocessSpec {
        width: net,
        height: net,
        layout,
        dtype,
        channel_order: ChannelOrder::Rgb,
        resize,
        anchor: LetterboxAnchor::TopLeft,
        pad_value: 114,
        scale: 1.0 / 255.0,
        mean: [0.0; 3],
        std: [1.0; 3],
    }
}

struct Job {
    name: &'static str,
    src: (u32, u32, PixelEncoding),
    spec: PreprocessSpec,
}

fn jobs() -> Vec<Job> {
    use PixelEncoding::{Bgr8, Rgb8, Rgba8, Yuyv};
    use ResizeMode::{Letterbox as L, Stretch as S};
    use TensorDType::{F16, F32};
    use TensorLayout::{Nchw, Nhwc};
    #[rustfmt::skip]
    let table = [
        ("bgr8_1920x1080_640_letterbox", (1920, 1080, Bgr8), (640, Nchw, F32, L)),
        ("bgr8_1920x1080_416_letterbox", (1920, 1080, Bgr8), (416, Nchw, F32, L)),
        ("rgb8_1280x720_640_letterbox", (1280, 720, Rgb8), (640, Nchw, F32, L)),
        ("rgb8_768x576_300_stretch", (768, 576, Rgb8), (300, Nchw, F32, S)),
        ("rgba8_1920x1080_416_letterbox", (1920, 1080, Rgba8), (416, Nchw, F32, L)),
        ("yuyv_1920x1080_640_letterbox", (1920, 1080, Yuyv), (640, Nchw, F32, L)),
        ("bgr8_1920x1080_640_letterbox_nhwc_f16", (1920, 1080, Bgr8), (640, Nhwc, F16, L)),
    ];
    table
        .into_iter()
        .map(|(name, src, (net, layout, dtype, resize))| Job {
            name,
            src,
            spec: spec(net, layout, dtype, resize),
        })
        .collect()
}

fn fused(c: &mut Criterion) {
    let limits = ImageLimits::default();
    for job in jobs() {
        let (w, h, enc) = job.src;
        let step = match enc {
            PixelEncoding::Uyvy | PixelEncoding::Yuyv => (w as usize).div_ceil(2) * 4,
            e => w as usize * e.bytes_per_pixel(),
        };
        let data = frame_bytes(step * h as usize);
        let view = ImageView::new(w, h, step, enc, &data, limits).expect("valid bench frame");
        let n = job.spec.tensor_len();
        let (mut t32, mut t16) = (vec![0f32; n], vec![f16::ZERO; n]);
        let mut group = c.benchmark_group(job.name);
        for kernel in Kernel::ALL {
            let Ok(mut pre) = Preprocessor::with_kernel(job.spec, kernel) else {
                eprintln!(
                    "SKIPPED: {}/{}: this CPU lacks {}",
                    job.name,
                    kernel.name(),
                    kernel.requires()
                );
                continue;
            };
            group.bench_function(kernel.name(), |b| {
                b.iter(|| {
                    let out = match job.spec.dtype {
                        TensorDType::F32 => TensorMut::F32(&mut t32),
                        TensorDType::F16 => TensorMut::F16(&mut t16),
                    };
                    black_box(
                        pre.run(black_box(&view), out)
                            .expect("bench frame preprocesses"),
                    )
                })
            });
        }
        group.finish();
    }
}

/// The CUDA pass on the headline job (feature `cuda`, a GPU and NVRTC present): `gpu_time`
/// is the CUDA-event time of upload + kernel per frame, `host_wall` the host's wall time of
/// `run` plus a stream synchronise. Prints SKIPPED and measures nothing without a GPU.
#[cfg(feature = "cuda")]
fn cuda(c: &mut Criterion) {
    use redline::preprocess::cuda::{CudaPreprocessor, DeviceTensor, GpuContext};
    use std::time::{Duration, Instant};

    let gpu = match GpuContext::open(0) {
        Ok(gpu) => gpu,
        Err(e) => {
            eprintln!("SKIPPED: cuda benches: no CUDA device ({e})");
            return;
        }
    };
    let limits = ImageLimits {
        max_width: 1920,
        max_height: 1080,
    };
    let spec = spec(
        640,
        TensorLayout::Nchw,
        TensorDType::F32,
        ResizeMode::Letterbox,
    );
    let mut pre = match CudaPreprocessor::new(&gpu, spec, limits) {
        Ok(pre) => pre,
        Err(e) => {
            eprintln!("SKIPPED: cuda benches: {e}");
            return;
        }
    };
    let data = frame_bytes(1920 * 1080 * 3);
    let view = ImageView::new(1920, 1080, 1920 * 3, PixelEncoding::Bgr8, &data, limits)
        .expect("bench frame is valid");
    let stream = gpu.stream();
    let out = stream
        .alloc_zeros::<f32>(spec.tensor_len())
        .expect("device output");
    let (ptr, _sync) = cudarc::driver::DevicePtr::device_ptr(&out, stream);
    let dst = DeviceTensor {
        ptr,
        len: spec.tensor_len(),
        dtype: TensorDType::F32,
    };
    eprintln!("cuda benches on {:?}", gpu.info());
    let mut group = c.benchmark_group("cuda_letterbox_1080p_bgr8_nchw_f32");
    group.bench_function("gpu_time", |b| {
        b.iter_custom(|iters| {
            let mut total_ms = 0.0f64;
            for _ in 0..iters {
                pre.run(&view, &dst).expect("cuda preprocess");
                gpu.synchronize().expect("synchronise");
                total_ms += f64::from(pre.last_gpu_ms().unwrap_or(f32::NAN));
            }
            Duration::from_secs_f64(total_ms / 1000.0)
        })
    });
    group.bench_function("host_wall", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                pre.run(&view, &dst).expect("cuda preprocess");
                gpu.synchronize().expect("synchronise");
            }
            start.elapsed()
        })
    });
    group.finish();
}

#[cfg(feature = "cuda")]
criterion_group!(benches, fused, cuda);
#[cfg(not(feature = "cuda"))]
criterion_group!(benches, fused);
criterion_main!(benches);
