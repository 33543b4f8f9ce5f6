//! The fused pass equals a plain reference implementation written here, straight from the
//! formulas (f64, one output pixel at a time): OpenCV INTER_LINEAR with half-pixel centres and
//! border clamping, letterbox r = min(W/w, H/h) with floor-sized resize, pad, channel order,
//! `(p × scale − mean) / std`, NCHW/NHWC, f32/f16 — for every row kernel this CPU runs
//! (scalar, AVX2, AVX-512; the others print SKIPPED).
//!
//! Tolerance, in units of one 8-bit level before normalisation (× |scale/std| after): 1e-3 for
//! the 8-bit encodings (the kernels blend in f32: a few f32 roundings of values ≤ 255, ~1e-4),
//! 1.0 + 1e-3 for 4:2:2 (ours rounds the YUV→RGB conversion to 8 bits in fixed point as OpenCV
//! does, the reference rounds in f64: a source pixel may differ by one level). f16 adds its own
//! half-ulp (2⁻¹¹ relative).

use half::f16;
use proptest::prelude::*;
use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{Kernel, PreprocessSpec, Preprocessor, TensorMut};

const LIMITS: ImageLimits = ImageLimits {
    max_width: 4096,
    max_height: 4096,
};

fn spec(w: u32, h: u32, resize: ResizeMode, anchor: LetterboxAnchor) -> PreprocessSpec {
    PreprocessSpec {
        width: w,
        height: h,
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

/// Deterministic pseudo-random bytes (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// RGB of source pixel (x, y), in f64, straight from the encoding's definition.
fn ref_pixel(v: &ImageView<'_>, x: usize, y: usize) -> [f64; 3] {
    let row = &v.data()[y * v.step()..];
    let at = |i: usize| f64::from(row[i]);
    match v.encoding() {
        PixelEncoding::Rgb8 => [at(3 * x), at(3 * x + 1), at(3 * x + 2)],
        PixelEncoding::Bgr8 => [at(3 * x + 2), at(3 * x + 1), at(3 * x)],
        PixelEncoding::Rgba8 => [at(4 * x), at(4 * x + 1), at(4 * x + 2)],
        PixelEncoding::Bgra8 => [at(4 * x + 2), at(4 * x + 1), at(4 * x)],
        PixelEncoding::Mono8 => [at(x); 3],
        PixelEncoding::Uyvy | PixelEncoding::Yuyv => {
            let pair = 4 * (x / 2);
            let (yy, u, vv) = if v.encoding() == PixelEncoding::Uyvy {
                (at(pair + 1 + 2 * (x % 2)), at(pair), at(pair + 2))
            } else {
                (at(pair + 2 * (x % 2)), at(pair + 1), at(pair + 3))
            };
            // BT.601 video range (OpenCV's COLOR_YUV2RGB_UYVY / YUY2).
            let c = 1.164_383 * (yy - 16.0).max(0.0);
            let (d, e) = (u - 128.0, vv - 128.0);
            let q = |s: f64| s.round().clamp(0.0, 255.0);
            [
                q(c + 1.596_027 * e),
                q(c - 0.812_968 * e - 0.391_762 * d),
                q(c + 2.017_232 * d),
            ]
        }
    }
}

/// Source coordinate sampled by destination index `d` (half-pixel centres, clamped).
fn ref_coord(d: usize, src: u32, dst: u32) -> (usize, usize, f64) {
    let c =
        ((d as f64 + 0.5) * f64::from(src) / f64::from(dst) - 0.5).clamp(0.0, f64::from(src - 1));
    let i0 = c.floor() as usize;
    (i0, (i0 + 1).min(src as usize - 1), c - c.floor())
}

/// The whole tensor, NCHW f64.
fn reference(v: &ImageView<'_>, s: &PreprocessSpec) -> Vec<f64> {
    let (w, h) = (v.width(), v.height());
    let (dw, dh) = (s.width as usize, s.height as usize);
    let (rw, rh, ox, oy) = match s.resize {
        ResizeMode::Stretch => (s.width, s.height, 0, 0),
        ResizeMode::Letterbox => {
            let r = (f64::from(s.width) / f64::from(w)).min(f64::from(s.height) / f64::from(h));
            let rw = ((f64::from(w) * r).floor() as u32).max(1);
            let rh = ((f64::from(h) * r).floor() as u32).max(1);
            match s.anchor {
                LetterboxAnchor::TopLeft => (rw, rh, 0, 0),
                LetterboxAnchor::Center => (rw, rh, (s.width - rw) / 2, (s.height - rh) / 2),
            }
        }
    };
    let order: [usize; 3] = match s.channel_order {
        ChannelOrder::Rgb => [0, 1, 2],
        ChannelOrder::Bgr => [2, 1, 0],
    };
    let mut out = vec![0.0; 3 * dw * dh];
    for y in 0..dh {
        for x in 0..dw {
            let inside = x >= ox as usize
                && x < (ox + rw) as usize
                && y >= oy as usize
                && y < (oy + rh) as usize;
            let rgb = if inside {
                let (x0, x1, tx) = ref_coord(x - ox as usize, w, rw);
                let (y0, y1, ty) = ref_coord(y - oy as usize, h, rh);
                let (a, b, c, d) = (
                    ref_pixel(v, x0, y0),
                    ref_pixel(v, x1, y0),
                    ref_pixel(v, x0, y1),
                    ref_pixel(v, x1, y1),
                );
                std::array::from_fn(|k| {
                    (a[k] * (1.0 - tx) + b[k] * tx) * (1.0 - ty)
                        + (c[k] * (1.0 - tx) + d[k] * tx) * ty
                })
            } else {
                [f64::from(s.pad_value); 3]
            };
            for c in 0..3 {
                let p = rgb[order[c]];
                out[c * dw * dh + y * dw + x] =
                    (p * f64::from(s.scale) - f64::from(s.mean[c])) / f64::from(s.std[c]);
            }
        }
    }
    out
}

/// Run ours with the spec's layout/dtype and return NCHW f64.
fn ours(v: &ImageView<'_>, s: &PreprocessSpec, pre: &mut Preprocessor) -> Vec<f64> {
    let n = s.tensor_len();
    let flat: Vec<f64> = match s.dtype {
        TensorDType::F32 => {
            let mut t = vec![f32::NAN; n];
            pre.run(v, TensorMut::F32(&mut t)).unwrap();
            t.into_iter().map(f64::from).collect()
        }
        TensorDType::F16 => {
            let mut t = vec![f16::NAN; n];
            pre.run(v, TensorMut::F16(&mut t)).unwrap();
            t.into_iter().map(f64::from).collect()
        }
    };
    match s.layout {
        TensorLayout::Nchw => flat,
        TensorLayout::Nhwc => {
            let hw = n / 3;
            (0..n).map(|i| flat[(i % hw) * 3 + i / hw]).collect()
        }
    }
}

fn make_image(data: &[u8], w: u32, h: u32, enc: PixelEncoding, padding: usize) -> ImageView<'_> {
    let row = match enc {
        PixelEncoding::Uyvy | PixelEncoding::Yuyv => (w as usize).div_ceil(2) * 4,
        e => w as usize * e.bytes_per_pixel(),
    };
    ImageView::new(w, h, row + padding, enc, data, LIMITS).unwrap()
}

/// The kernels this CPU runs; the others are reported once per test as SKIPPED.
fn kernels() -> Vec<Kernel> {
    static REPORT: std::sync::Once = std::sync::Once::new();
    REPORT.call_once(|| {
        for k in Kernel::ALL.into_iter().filter(|k| !k.is_supported()) {
            eprintln!(
                "SKIPPED: the {} kernel: this CPU lacks {}",
                k.name(),
                k.requires()
            );
        }
    });
    Kernel::ALL
        .into_iter()
        .filter(|k| k.is_supported())
        .collect()
}

fn check(w: u32, h: u32, enc: PixelEncoding, padding: usize, s: PreprocessSpec, seed: u64) {
    let row = (w as usize + 1) * 4 + padding; // ≥ any encoding's step
    let data = noise(row * h as usize, seed);
    let v = make_image(&data, w, h, enc, padding);
    let want = reference(&v, &s);
    for kernel in kernels() {
        let mut pre = Preprocessor::with_kernel(s, kernel).unwrap();
        let got = ours(&v, &s, &mut pre);
        assert_close(
            &got,
            &want,
            enc,
            &s,
            &format!("{kernel:?} {w}x{h} pad {padding}"),
        );
        check_transform(&pre, &v, &s);
    }
}

/// Every element of `got` within the tolerance of the module doc of `want`.
fn assert_close(got: &[f64], want: &[f64], enc: PixelEncoding, s: &PreprocessSpec, what: &str) {
    let level = if matches!(enc, PixelEncoding::Uyvy | PixelEncoding::Yuyv) {
        1.0 + 1e-3
    } else {
        1e-3
    };
    assert_eq!(got.len(), want.len());
    for (i, (g, r)) in got.iter().zip(want).enumerate() {
        let c = i / (s.width as usize * s.height as usize);
        let mul = f64::from(s.scale / s.std[c]).abs();
        let mut tol = level * mul + 1e-6;
        if s.dtype == TensorDType::F16 {
            tol += r.abs() * 2f64.powi(-11) + 1e-7;
        }
        assert!(
            (g - r).abs() <= tol,
            "{what} {enc:?} {s:?}: element {i} (c{c}) ours {g} reference {r} (tol {tol})"
        );
    }
}

fn check_transform(pre: &Preprocessor, v: &ImageView<'_>, s: &PreprocessSpec) {
    let (w, h) = (v.width(), v.height());
    // The transform maps the source's far corner into the canvas and back.
    let t = pre.transform(v);
    let (x, y) = t.to_network(w as f32, h as f32);
    assert!(
        x <= s.width as f32 + 1e-3 && y <= s.height as f32 + 1e-3,
        "{t:?}"
    );
    let (sx, sy) = t.to_source(x, y);
    assert!(
        (sx - w as f32).abs() < 1e-2 && (sy - h as f32).abs() < 1e-2,
        "{t:?}"
    );
}

#[test]
fn every_encoding_layout_dtype_order_and_fit_matches_the_reference() {
    let fits = [
        (ResizeMode::Letterbox, LetterboxAnchor::TopLeft),
        (ResizeMode::Letterbox, LetterboxAnchor::Center),
        (ResizeMode::Stretch, LetterboxAnchor::TopLeft),
    ];
    let mut seed = 1;
    for enc in PixelEncoding::ALL {
        for (resize, anchor) in fits {
            for layout in [TensorLayout::Nchw, TensorLayout::Nhwc] {
                for dtype in [TensorDType::F32, TensorDType::F16] {
                    for order in [ChannelOrder::Rgb, ChannelOrder::Bgr] {
                        let mut s = spec(24, 16, resize, anchor);
                        (s.layout, s.dtype, s.channel_order) = (layout, dtype, order);
                        seed += 1;
                        check(37, 29, enc, 5, s, seed);
                    }
                }
            }
        }
    }
}

#[test]
fn odd_and_tiny_sizes_match_the_reference() {
    for enc in PixelEncoding::ALL {
        for (w, h) in [(1, 1), (3, 7), (7, 3), (2, 1)] {
            for resize in [ResizeMode::Letterbox, ResizeMode::Stretch] {
                check(
                    w,
                    h,
                    enc,
                    3,
                    spec(16, 12, resize, LetterboxAnchor::Center),
                    7,
                );
                check(
                    w,
                    h,
                    enc,
                    0,
                    spec(9, 11, resize, LetterboxAnchor::TopLeft),
                    8,
                );
            }
        }
    }
}

#[test]
fn large_odd_frame_1921x1081_matches_the_reference() {
    for enc in PixelEncoding::ALL {
        let s = spec(64, 64, ResizeMode::Letterbox, LetterboxAnchor::Center);
        check(1921, 1081, enc, 7, s, 99);
    }
}

#[test]
fn the_benchmark_ratios_match_the_reference() {
    // The jobs of `benches/preprocess.rs` at full size: non-integer ratios (1080p → 416,
    // 720p → 640, 768×576 → 300 stretch) and the exact 3× of 1080p → 640.
    let jobs = [
        (1920, 1080, PixelEncoding::Bgr8, 416, ResizeMode::Letterbox),
        (1920, 1080, PixelEncoding::Rgba8, 416, ResizeMode::Letterbox),
        (1920, 1080, PixelEncoding::Yuyv, 640, ResizeMode::Letterbox),
        (1280, 720, PixelEncoding::Rgb8, 640, ResizeMode::Letterbox),
        (768, 576, PixelEncoding::Rgb8, 300, ResizeMode::Stretch),
    ];
    for (i, (w, h, enc, net, resize)) in jobs.into_iter().enumerate() {
        check(
            w,
            h,
            enc,
            0,
            spec(net, net, resize, LetterboxAnchor::TopLeft),
            i as u64,
        );
    }
}

#[test]
fn huge_downscales_match_the_reference() {
    // Ratios of 100–4000: every output pixel still blends its four nearest source pixels
    // (INTER_LINEAR, no area averaging — what the models' reference detections use).
    let fit = (ResizeMode::Letterbox, LetterboxAnchor::Center);
    for enc in PixelEncoding::ALL {
        check(4000, 40, enc, 1, spec(8, 8, fit.0, fit.1), 5);
        check(3, 4000, enc, 0, spec(7, 9, ResizeMode::Stretch, fit.1), 6);
    }
    check(
        4096,
        2048,
        PixelEncoding::Bgr8,
        0,
        spec(20, 20, fit.0, fit.1),
        7,
    );
}

#[test]
fn tiny_sources_upscaled_to_large_inputs_match_the_reference() {
    for enc in PixelEncoding::ALL {
        for (w, h) in [(1, 1), (2, 3), (5, 1)] {
            for resize in [ResizeMode::Letterbox, ResizeMode::Stretch] {
                let mut s = spec(67, 45, resize, LetterboxAnchor::Center);
                s.layout = TensorLayout::Nhwc;
                check(w, h, enc, 2, s, 9);
                check(
                    w,
                    h,
                    enc,
                    0,
                    spec(64, 33, resize, LetterboxAnchor::TopLeft),
                    10,
                );
            }
        }
    }
}

#[test]
fn upscaling_matches_the_reference() {
    let s = spec(40, 40, ResizeMode::Letterbox, LetterboxAnchor::Center);
    check(5, 3, PixelEncoding::Rgb8, 1, s, 3);
    let s = spec(40, 30, ResizeMode::Stretch, LetterboxAnchor::TopLeft);
    check(13, 17, PixelEncoding::Bgra8, 0, s, 4);
}

#[test]
fn reusing_a_preprocessor_across_sizes_and_encodings_stays_exact() {
    let s = spec(32, 24, ResizeMode::Letterbox, LetterboxAnchor::Center);
    for kernel in kernels() {
        let mut pre = Preprocessor::with_kernel(s, kernel).unwrap();
        let frames = [
            (50, 20, PixelEncoding::Rgb8),
            (20, 50, PixelEncoding::Mono8),
            (50, 20, PixelEncoding::Yuyv),
            (50, 20, PixelEncoding::Rgb8),
            (1, 1, PixelEncoding::Bgra8),
            (50, 20, PixelEncoding::Rgb8),
        ];
        for (i, (w, h, enc)) in frames.into_iter().enumerate() {
            let data = noise(w as usize * 4 * h as usize, i as u64);
            let v = make_image(&data, w, h, enc, 0);
            let got = ours(&v, &s, &mut pre);
            let want = reference(&v, &s);
            assert_close(
                &got,
                &want,
                enc,
                &s,
                &format!("{kernel:?} {w}x{h} frame {i}"),
            );
        }
    }
}

#[test]
fn letterbox_transform_matches_the_resized_geometry() {
    let mut s = spec(640, 640, ResizeMode::Letterbox, LetterboxAnchor::Center);
    let data = vec![0u8; 1920 * 1080 * 3];
    let v = ImageView::new(1920, 1080, 1920 * 3, PixelEncoding::Bgr8, &data, LIMITS).unwrap();
    let t = Preprocessor::new(s).transform(&v);
    assert_eq!((t.scale_x, t.scale_y), (640.0 / 1920.0, 360.0 / 1080.0));
    assert_eq!((t.offset_x, t.offset_y), (0.0, 140.0));
    s.anchor = LetterboxAnchor::TopLeft;
    let t = Preprocessor::new(s).transform(&v);
    assert_eq!((t.offset_x, t.offset_y), (0.0, 0.0));
    s.resize = ResizeMode::Stretch;
    let t = Preprocessor::new(s).transform(&v);
    assert_eq!((t.scale_x, t.scale_y), (640.0 / 1920.0, 640.0 / 1080.0));
}

#[test]
fn a_short_output_tensor_is_an_error_not_a_panic() {
    let s = spec(8, 8, ResizeMode::Stretch, LetterboxAnchor::TopLeft);
    let data = vec![0u8; 12];
    let v = ImageView::new(2, 2, 6, PixelEncoding::Rgb8, &data, LIMITS).unwrap();
    let mut t = vec![0f32; 10];
    assert!(Preprocessor::new(s)
        .run(&v, TensorMut::F32(&mut t))
        .is_err());
}

/// The spec a property test drew: size, and letterbox (else stretch), centred (else top-left),
/// NHWC (else NCHW), f16 (else f32).
fn drawn_spec(dw: u32, dh: u32, [letterbox, center, nhwc, f16]: [bool; 4]) -> PreprocessSpec {
    let mut s = spec(
        dw,
        dh,
        if letterbox {
            ResizeMode::Letterbox
        } else {
            ResizeMode::Stretch
        },
        if center {
            LetterboxAnchor::Center
        } else {
            LetterboxAnchor::TopLeft
        },
    );
    if nhwc {
        s.layout = TensorLayout::Nhwc;
    }
    if f16 {
        s.dtype = TensorDType::F16;
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn random_sizes_match_the_reference(
        w in 1u32..260, h in 1u32..90, dw in 1u32..72, dh in 1u32..40,
        enc in 0usize..7, padding in 0usize..9, letterbox: bool, center: bool, nhwc: bool, f16: bool,
        seed: u64,
    ) {
        let s = drawn_spec(dw, dh, [letterbox, center, nhwc, f16]);
        check(w, h, PixelEncoding::ALL[enc], padding, s, seed);
    }
}

#[test]
fn exact_odd_downscale_takes_the_point_sampling_path_and_matches() {
    // 45×27 → 15×9 is an exact 3× downscale: every weight is zero (the 1920×1080 → 640×360 case).
    for enc in PixelEncoding::ALL {
        for layout in [TensorLayout::Nchw, TensorLayout::Nhwc] {
            let mut s = spec(15, 15, ResizeMode::Letterbox, LetterboxAnchor::Center);
            s.layout = layout;
            check(45, 27, enc, 2, s, 11);
        }
    }
}

#[test]
fn a_zero_sized_spec_is_an_error_not_a_panic() {
    let s = spec(0, 8, ResizeMode::Letterbox, LetterboxAnchor::Center);
    let data = vec![0u8; 12];
    let v = ImageView::new(2, 2, 6, PixelEncoding::Rgb8, &data, LIMITS).unwrap();
    let mut t = vec![0f32; 10];
    let mut pre = Preprocessor::new(s);
    assert!(pre.run(&v, TensorMut::F32(&mut t)).is_err());
    let _ = pre.transform(&v);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    /// Any geometry — huge downscales, tiny sources into large inputs, padded steps, every
    /// encoding, layout, dtype — runs on every kernel without panicking and writes every
    /// element of the tensor with a value a pixel can produce (none left from before).
    #[test]
    fn arbitrary_geometry_fills_every_element_with_a_pixel_value(
        w in 1u32..3000, h in 1u32..24, dw in 1u32..700, dh in 1u32..24,
        enc in 0usize..7, padding in 0usize..5, letterbox: bool, center: bool, nhwc: bool,
        f16: bool, seed: u64,
    ) {
        let s = drawn_spec(dw, dh, [letterbox, center, nhwc, f16]);
        let enc = PixelEncoding::ALL[enc];
        let data = noise(((w as usize + 1) * 4 + padding) * h as usize, seed);
        let v = make_image(&data, w, h, enc, padding);
        // Pixel levels 0..=255 normalise into [lo, hi] per channel (plus f16 rounding).
        let bounds: Vec<(f64, f64)> = (0..3)
            .map(|c| {
                let f = |p: f64| (p * f64::from(s.scale) - f64::from(s.mean[c])) / f64::from(s.std[c]);
                (f(0.0).min(f(255.0)) - 1e-2, f(0.0).max(f(255.0)) + 1e-2)
            })
            .collect();
        for kernel in kernels() {
            let mut pre = Preprocessor::with_kernel(s, kernel).unwrap();
            let got = ours(&v, &s, &mut pre);
            let plane = (dw * dh) as usize;
            for (i, g) in got.iter().enumerate() {
                let (lo, hi) = bounds[i / plane];
                prop_assert!(
                    (lo..=hi).contains(g),
                    "{kernel:?} {w}x{h} {enc:?} {s:?}: element {i} = {g} outside [{lo}, {hi}]"
                );
            }
        }
    }
}
