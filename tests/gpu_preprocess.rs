//! CUDA preprocessing: the kernel compiles to PTX with NVRTC (needs only libnvrtc, no GPU:
//! point `REDLINE_NVRTC_LIB` at e.g. the `nvidia-cuda-nvrtc-cu12` wheel's `libnvrtc.so.12`),
//! and on a GPU the kernel's output equals a plain f64 reference of the CPU semantics for every
//! encoding, layout, dtype and resize mode.
//!
//! Tolerance: 0.02 in 0..255 pixel units before normalisation (float vs f64 bilinear), plus
//! 1.2 for 4:2:2 (float BT.601 vs OpenCV's fixed-point), plus f16 rounding (2^-10 relative).
#![cfg(feature = "cuda")]

use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::cuda::{
    compile_kernel_ptx, CudaPreprocessor, DeviceTensor, GpuContext, KernelGeometry,
};
use redline::preprocess::PreprocessSpec;

/// Loads the NVRTC library named by `REDLINE_NVRTC_LIB` globally, so cudarc's dlopen of
/// `libnvrtc.so.12` finds it by soname. Returns false when nothing usable is present.
fn nvrtc_available() -> bool {
    if let Ok(path) = std::env::var("REDLINE_NVRTC_LIB") {
        let c = std::ffi::CString::new(path.clone()).unwrap();
        // SAFETY: loading a shared library by path; the handle is intentionally leaked.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        assert!(
            !handle.is_null(),
            "REDLINE_NVRTC_LIB={path} could not be loaded"
        );
    }
    // SAFETY: probes whether the library opens.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

#[test]
fn kernel_compiles_to_ptx_with_nvrtc() {
    if !nvrtc_available() {
        eprintln!("SKIPPED: no NVRTC library (set REDLINE_NVRTC_LIB to libnvrtc.so.12 from the nvidia-cuda-nvrtc-cu12 wheel)");
        return;
    }
    for arch in [None, Some("compute_72"), Some("compute_87")] {
        let ptx = compile_kernel_ptx(arch).expect("kernel compiles").to_src();
        assert!(
            ptx.contains(".entry redline_preprocess"),
            "{arch:?}: no entry in PTX"
        );
        assert!(
            ptx.contains("cvt.rn.f16.f32"),
            "{arch:?}: f16 store missing"
        );
        if let Some(a) = arch {
            let sm = a.replace("compute_", "sm_");
            assert!(
                ptx.contains(&format!(".target {sm}")),
                "{arch:?}: wrong target"
            );
        }
    }
}

fn rgb_at(enc: PixelEncoding, data: &[u8], step: usize, x: usize, y: usize) -> [f64; 3] {
    let row = &data[y * step..];
    let px = |n: usize| &row[n * x..n * x + n];
    match enc {
        PixelEncoding::Rgb8 => px(3)
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>()
            .try_into()
            .unwrap(),
        PixelEncoding::Bgr8 => {
            let p = px(3);
            [p[2], p[1], p[0]].map(f64::from)
        }
        PixelEncoding::Rgba8 => {
            let p = px(4);
            [p[0], p[1], p[2]].map(f64::from)
        }
        PixelEncoding::Bgra8 => {
            let p = px(4);
            [p[2], p[1], p[0]].map(f64::from)
        }
        PixelEncoding::Mono8 => [f64::from(row[x]); 3],
        PixelEncoding::Uyvy | PixelEncoding::Yuyv => {
            let q = &row[4 * (x / 2)..4 * (x / 2) + 4];
            let (u, v, yy) = if enc == PixelEncoding::Uyvy {
                (q[0], q[2], if x % 2 == 1 { q[3] } else { q[1] })
            } else {
                (q[1], q[3], if x % 2 == 1 { q[2] } else { q[0] })
            };
            let l = (f64::from(yy) - 16.0).max(0.0) * 1.164;
            let (u, v) = (f64::from(u) - 128.0, f64::from(v) - 128.0);
            [l + 1.596 * v, l - 0.813 * v - 0.391 * u, l + 2.018 * u].map(|c| c.clamp(0.0, 255.0))
        }
    }
}

/// Straight from the formula: OpenCV INTER_LINEAR half-pixel, clamped borders, pad outside.
fn reference(
    spec: &PreprocessSpec,
    enc: PixelEncoding,
    data: &[u8],
    step: usize,
    w: u32,
    h: u32,
) -> Vec<f64> {
    let g = KernelGeometry::compute(spec, w, h);
    let (dw, dh) = (spec.width as usize, spec.height as usize);
    let mut out = vec![0.0; dw * dh * 3];
    let axis = |d: i64, ratio: f64, size: i64| {
        let f = (d as f64 + 0.5) * ratio - 0.5;
        let mut i = f.floor() as i64;
        let mut a = f - i as f64;
        if i < 0 {
            i = 0;
            a = 0.0;
        }
        if i >= size - 1 {
            i = size - 1;
            a = 0.0;
        }
        (i as usize, (i + 1).min(size - 1) as usize, a)
    };
    for oy in 0..dh {
        for ox in 0..dw {
            let (dx, dy) = (
                ox as i64 - i64::from(g.roi_x),
                oy as i64 - i64::from(g.roi_y),
            );
            let rgb = if dx < 0 || dy < 0 || dx >= i64::from(g.roi_w) || dy >= i64::from(g.roi_h) {
                [f64::from(spec.pad_value); 3]
            } else {
                let (x0, x1, ax) = axis(dx, f64::from(w) / f64::from(g.roi_w), i64::from(w));
                let (y0, y1, ay) = axis(dy, f64::from(h) / f64::from(g.roi_h), i64::from(h));
                let [a, b, c, d] = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
                    .map(|(x, y)| rgb_at(enc, data, step, x, y));
                std::array::from_fn(|k| {
                    let top = a[k] + (b[k] - a[k]) * ax;
                    let bottom = c[k] + (d[k] - c[k]) * ax;
                    top + (bottom - top) * ay
                })
            };
            for c in 0..3 {
                let src = if spec.channel_order == ChannelOrder::Bgr {
                    2 - c
                } else {
                    c
                };
                let v = (rgb[src] * f64::from(spec.scale) - f64::from(spec.mean[c]))
                    / f64::from(spec.std[c]);
                let idx = match spec.layout {
                    TensorLayout::Nchw => c * dw * dh + oy * dw + ox,
                    TensorLayout::Nhwc => (oy * dw + ox) * 3 + c,
                };
                out[idx] = v;
            }
        }
    }
    out
}

#[test]
fn gpu_matches_the_cpu_semantics_for_every_encoding() {
    if !GpuContext::driver_present() {
        eprintln!("SKIPPED: no CUDA device (libcuda not found)");
        return;
    }
    let gpu = match GpuContext::open(0) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("SKIPPED: no CUDA device ({e})");
            return;
        }
    };
    let limits = ImageLimits {
        max_width: 4096,
        max_height: 4096,
    };
    let encodings = [
        PixelEncoding::Rgb8,
        PixelEncoding::Bgr8,
        PixelEncoding::Rgba8,
        PixelEncoding::Bgra8,
        PixelEncoding::Mono8,
        PixelEncoding::Uyvy,
        PixelEncoding::Yuyv,
    ];
    let cases = [
        (
            TensorLayout::Nchw,
            TensorDType::F32,
            ResizeMode::Letterbox,
            LetterboxAnchor::TopLeft,
            64,
            48,
        ),
        (
            TensorLayout::Nhwc,
            TensorDType::F16,
            ResizeMode::Letterbox,
            LetterboxAnchor::Center,
            40,
            72,
        ),
        (
            TensorLayout::Nchw,
            TensorDType::F16,
            ResizeMode::Stretch,
            LetterboxAnchor::Center,
            48,
            40,
        ),
    ];
    let (w, h) = (198u32, 101u32);
    for enc in encodings {
        let bpp = enc.bytes_per_pixel();
        let step = (w as usize).div_ceil(2) * 2 * bpp + 12; // padded rows
        let data: Vec<u8> = (0..step * h as usize)
            .map(|i| ((i * 7919) % 251) as u8)
            .collect();
        let image = ImageView::new(w, h, step, enc, &data, limits).unwrap();
        for (layout, dtype, resize, anchor, dw, dh) in cases {
            let spec = PreprocessSpec {
                width: dw,
                height: dh,
                layout,
                dtype,
                channel_order: ChannelOrder::Bgr,
                resize,
                anchor,
                pad_value: 114,
                scale: 1.0 / 255.0,
                mean: [0.485, 0.456, 0.406],
                std: [0.229, 0.224, 0.225],
            };
            let expected = reference(&spec, enc, &data, step, w, h);
            let mut pre = CudaPreprocessor::new(&gpu, spec, limits).expect("preprocessor");
            let n = spec.tensor_len();
            let stream = gpu.stream();
            let got: Vec<f64> = match dtype {
                TensorDType::F32 => {
                    let out = stream.alloc_zeros::<f32>(n).unwrap();
                    let (ptr, _s) = cudarc::driver::DevicePtr::device_ptr(&out, stream);
                    pre.run(&image, &DeviceTensor { ptr, len: n, dtype })
                        .unwrap();
                    drop(_s);
                    stream
                        .clone_dtoh(&out)
                        .unwrap()
                        .into_iter()
                        .map(f64::from)
                        .collect()
                }
                TensorDType::F16 => {
                    let out = stream.alloc_zeros::<u16>(n).unwrap();
                    let (ptr, _s) = cudarc::driver::DevicePtr::device_ptr(&out, stream);
                    pre.run(&image, &DeviceTensor { ptr, len: n, dtype })
                        .unwrap();
                    drop(_s);
                    stream
                        .clone_dtoh(&out)
                        .unwrap()
                        .into_iter()
                        .map(|b| half::f16::from_bits(b).to_f64())
                        .collect()
                }
            };
            let pixel_tol = if matches!(enc, PixelEncoding::Uyvy | PixelEncoding::Yuyv) {
                1.2
            } else {
                0.02
            };
            let mut worst = 0.0f64;
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                let c = match layout {
                    TensorLayout::Nchw => i / (dw * dh) as usize,
                    TensorLayout::Nhwc => i % 3,
                };
                let mut tol = pixel_tol * f64::from(spec.scale) / f64::from(spec.std[c]);
                if dtype == TensorDType::F16 {
                    tol += e.abs() * 2f64.powi(-10);
                }
                assert!(
                    (g - e).abs() <= tol + 1e-6,
                    "{enc:?} {layout:?} {dtype:?} {resize:?} at {i}: gpu {g} ref {e}"
                );
                worst = worst.max((g - e).abs());
            }
            eprintln!("{enc:?} {layout:?} {dtype:?} {resize:?}: max |gpu - ref| = {worst:.2e}");
        }
    }
}
