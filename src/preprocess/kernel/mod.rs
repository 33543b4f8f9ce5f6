//! The row kernels of the fused pass: one output row of the resized region, all three network
//! channels, `value = bilinear(source) × mul + add`, written as three planar f32 rows. Each
//! output pixel reads its four source taps (two pixels in each of the two source rows it
//! blends) straight from the image bytes: no intermediate resized image and no horizontal
//! buffer, whatever the ratio.
//!
//! [`Kernel`] picks the implementation at start-up by runtime CPU feature detection:
//! - AVX-512 (F, BW, VBMI), 16 pixels per step. Where the taps of 16 neighbouring outputs lie
//!   within 128 bytes of the row (horizontal ratios up to ~2.7 for 3-byte pixels, and every
//!   upscale), two masked loads and byte permutes (`vpermt2b`) fetch them; elsewhere
//!   `vpgatherdd` gathers each tap's pixel word.
//! - AVX2 + FMA, 8 pixels per step, gathers.
//! - Portable code in chunks of 8 that the compiler vectorises for the build target (any CPU).
//!
//! All of them compute the same f32 arithmetic (`a + (b − a) × w`, then `× mul + add`) and
//! agree to within f32 rounding. A row narrower than a step is done by the portable code; a
//! row that is not a multiple of the step ends with one step overlapping the one before it.

/// Calls `$run::<KIND, TWO_X, TWO_Y>($args)` monomorphised for the row: `KIND` is [`PACKED`]
/// or [`YUV`], `TWO_X` whether the second horizontal tap matters (not point sampling), `TWO_Y`
/// whether the bottom row does (`wy ≠ 0`).
macro_rules! monomorphised {
    ($job:expr, $run:ident($($arg:expr),*)) => {{
        use $crate::preprocess::source_format::PixelKind;
        let job: &$crate::preprocess::kernel::RowJob<'_> = $job;
        let yuv = matches!(job.format.kind, PixelKind::Uyvy | PixelKind::Yuyv);
        match (yuv, !job.taps.point_sampling, job.wy != 0.0) {
            (false, true, true) => $run::<PACKED, true, true>($($arg),*),
            (false, true, false) => $run::<PACKED, true, false>($($arg),*),
            (false, false, true) => $run::<PACKED, false, true>($($arg),*),
            (false, false, false) => $run::<PACKED, false, false>($($arg),*),
            (true, true, true) => $run::<YUV, true, true>($($arg),*),
            (true, true, false) => $run::<YUV, true, false>($($arg),*),
            (true, false, true) => $run::<YUV, false, true>($($arg),*),
            (true, false, false) => $run::<YUV, false, false>($($arg),*),
        }
    }};
}

/// The kernels' `KIND` parameter: pixels whose channels are bytes of the pixel (mono, rgb8,
/// bgr8, rgba8, bgra8) …
const PACKED: u8 = 0;
/// … or packed 4:2:2, converted to RGB per sampled pixel.
const YUV: u8 = 1;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;

use super::source_format::SourceFormat;
use super::taps::AxisTaps;

/// An implementation of the row kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Portable code in chunks of 8 pixels that the compiler vectorises for the build target
    /// (every CPU).
    Portable,
    /// The same portable code compiled for x86-64 AVX2 + FMA.
    PortableAvx2,
    /// x86-64 AVX2 + FMA, 8 pixels per step.
    Avx2,
    /// x86-64 AVX-512 (F, BW, VBMI), 16 pixels per step.
    Avx512,
}

/// The kernel was asked for on a CPU without the instructions it needs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {} preprocessing kernel needs {}, which this CPU lacks", .0.name(), .0.requires())]
pub struct KernelUnsupported(pub Kernel);

impl Kernel {
    /// Every kernel, slowest first.
    pub const ALL: [Self; 4] = [Self::Portable, Self::PortableAvx2, Self::Avx2, Self::Avx512];

    /// The fastest kernel this CPU runs.
    pub fn best() -> Self {
        Self::ALL
            .into_iter()
            .rev()
            .find(|k| k.is_supported())
            .unwrap_or(Self::Portable)
    }

    /// Whether this CPU has the instructions the kernel needs.
    pub fn is_supported(self) -> bool {
        match self {
            Self::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 | Self::PortableAvx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vbmi")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Self::Avx2 | Self::PortableAvx2 | Self::Avx512 => false,
        }
    }

    /// Its name on the command line (`portable`, `portable-avx2`, `avx2`, `avx512`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Portable => "portable",
            Self::PortableAvx2 => "portable-avx2",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// The CPU features it needs, for messages.
    pub const fn requires(self) -> &'static str {
        match self {
            Self::Portable => "nothing",
            Self::Avx2 | Self::PortableAvx2 => "x86-64 avx2 and fma",
            Self::Avx512 => "x86-64 avx512f, avx512bw and avx512vbmi",
        }
    }

    /// Parse a name given by [`Self::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// `self` if this CPU runs it, else the error naming what is missing.
    pub fn checked(self) -> Result<Self, KernelUnsupported> {
        if self.is_supported() {
            Ok(self)
        } else {
            Err(KernelUnsupported(self))
        }
    }

    /// Fill `out` (three planar rows of the same length ≤ the taps) with one output row.
    pub(crate) fn run_row(self, job: &RowJob<'_>, out: [&mut [f32]; 3]) {
        let n = out
            .iter()
            .map(|o| o.len())
            .min()
            .unwrap_or(0)
            .min(job.taps.len());
        let mut out = out;
        let rows_whole = job.top.len() >= job.taps.row_bytes
            && (job.wy == 0.0 || job.bottom.len() >= job.taps.row_bytes);
        // A kernel this CPU cannot run falls back to portable code (the feature test is a
        // cached flag: cheap per row), so no caller reaches a `target_feature` function
        // unchecked.
        let kernel = if self.is_supported() && job.taps.vectorizable && rows_whole {
            self
        } else {
            Self::Portable
        };
        // SAFETY (the vector arms): `kernel.is_supported()` holds, i.e. the CPU has every
        // feature the `target_feature` function enables; every word the taps name lies inside
        // `row_bytes` (`vectorizable`), and `top` (and `bottom`, when `wy ≠ 0`) are at least
        // `row_bytes` long (`rows_whole`); each `out` row holds `n` ≤ `taps.len()` elements.
        let done = match kernel {
            Self::Portable => false,
            #[cfg(target_arch = "x86_64")]
            Self::PortableAvx2 => unsafe { portable::row_avx2(job, &mut out, n) },
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { avx2::row(job, &mut out, n) },
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => unsafe { avx512::row(job, &mut out, n) },
            #[cfg(not(target_arch = "x86_64"))]
            Self::Avx2 | Self::PortableAvx2 | Self::Avx512 => false,
        };
        if !done {
            portable::row(job, &mut out, n);
        }
    }
}

/// The starts of the `lanes`-wide steps that cover `0..n`: `0, lanes, 2·lanes, …` and, when
/// `n` is not a multiple, `n − lanes` (overlapping the step before; writing the same values
/// twice is harmless). Empty when `n < lanes`.
pub(crate) fn steps(n: usize, lanes: usize) -> impl Iterator<Item = usize> {
    let lanes = lanes.max(1);
    let whole = n / lanes;
    let last = (n % lanes != 0 && whole > 0).then(|| n - lanes);
    (0..whole).map(move |k| k * lanes).chain(last)
}

/// Output pixels per AVX-512 step, and per window.
pub(crate) const WINDOW_LANES: usize = 16;
/// Bytes one window covers (two 64-byte registers).
pub(crate) const WINDOW_BYTES: u32 = 128;

/// Horizontal taps of one (source width, resized width, encoding), as the kernels read them.
#[derive(Default, Debug)]
pub(crate) struct RowTaps {
    /// Per output x: the byte offsets of the words of its two source pixels
    /// ([`SourceFormat::locate`]: inside the row when `vectorizable`).
    pub word0: Vec<u32>,
    pub word1: Vec<u32>,
    /// Per output x: the bit shift of each pixel inside its word.
    pub shift0: Vec<u32>,
    pub shift1: Vec<u32>,
    /// Per output x: the weight of the second pixel.
    pub weight: Vec<f32>,
    /// Every weight is zero: only the first tap matters.
    pub point_sampling: bool,
    /// Bytes of pixel data in one source row.
    pub row_bytes: usize,
    /// The vector kernels may run: rows of ≥ 4 bytes (every word inside the row) and < 2³¹.
    pub vectorizable: bool,
    /// Per AVX-512 step (16 outputs, [`steps`]): where its taps are.
    pub windows: Vec<Window>,
    /// Every step has a window (false only for rows the AVX-512 kernel leaves to others).
    pub windows_complete: bool,
}

/// Where the AVX-512 kernel finds the taps of one step of 16 outputs in a source row.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    /// First output pixel of the step.
    pub x: u32,
    pub source: WindowSource,
    /// For tap 0 then tap 1, for each fetched component (the network channels, or Y, U, V):
    /// byte `4·j` is the position of output `j`'s component in the 128 bytes `source` yields;
    /// the other bytes are 0.
    pub index: [[[u8; 64]; 3]; 2],
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum WindowSource {
    /// The 128 bytes of the row from `start` (the taps span less than that).
    Bytes { start: u32 },
    /// Outputs 0–7 from the 128 bytes at `starts[0]`, outputs 8–15 from those at `starts[1]`
    /// (each half's taps span less than 128 bytes: horizontal ratios up to ~5.8 for 3-byte
    /// pixels).
    Split { starts: [u32; 2] },
    /// Outputs `4k .. 4k + 4` from the 64 bytes at `starts[k]` (each quarter's taps span less
    /// than 64 bytes: ratios up to ~6.4 for 3-byte pixels, ~4.7 for 4-byte ones).
    Quads { starts: [u32; 4] },
    /// For output `j`, the 8 bytes of the row from `pairs[j]` (both its taps' pixels, which
    /// are neighbours), gathered into bytes `8·j ..`.
    Pairs { pairs: [u32; WINDOW_LANES] },
    /// Point sampling (one tap): for output `j`, the 4 bytes of the row from `words[j]` (its
    /// pixel's word), gathered into bytes `4·j ..`.
    Words { words: [u32; WINDOW_LANES] },
}

impl RowTaps {
    /// Room for `len` output pixels: rebuilding for up to `len` allocates nothing.
    pub fn with_capacity(len: usize) -> Self {
        Self {
            word0: Vec::with_capacity(len),
            word1: Vec::with_capacity(len),
            shift0: Vec::with_capacity(len),
            shift1: Vec::with_capacity(len),
            weight: Vec::with_capacity(len),
            windows: Vec::with_capacity(len / WINDOW_LANES + 1),
            ..Self::default()
        }
    }

    /// Recompute from the axis taps of a `src_width`-pixel row in `format`.
    pub fn rebuild(&mut self, axis: &AxisTaps, format: SourceFormat, src_width: u32) {
        self.word0.clear();
        self.word1.clear();
        self.shift0.clear();
        self.shift1.clear();
        self.weight.clear();
        self.windows.clear();
        self.row_bytes = format.row_bytes(src_width);
        self.vectorizable = (4..=i32::MAX as usize).contains(&self.row_bytes);
        let taps = axis.first.iter().zip(&axis.second).zip(&axis.weight);
        for ((&i0, &i1), &w) in taps {
            let ((w0, s0), (w1, s1)) = (
                format.locate(i0, self.row_bytes),
                format.locate(i1, self.row_bytes),
            );
            self.word0.push(w0);
            self.word1.push(w1);
            self.shift0.push(s0);
            self.shift1.push(s1);
            self.weight.push(w);
        }
        self.point_sampling = axis.point_sampling;
        self.windows_complete = self.vectorizable;
        for x in steps(axis.first.len(), WINDOW_LANES) {
            match Window::new(axis, format, x, self.row_bytes) {
                Some(window) => self.windows.push(window),
                None => self.windows_complete = false,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.weight.len()
    }
}

impl Window {
    /// The window of the step at `x`, or `None` when the row is too short for pairs and the
    /// taps span more than 128 bytes (not possible for a row of ≥ 8 bytes).
    fn new(axis: &AxisTaps, format: SourceFormat, x: usize, row_bytes: usize) -> Option<Self> {
        let lanes = x..x + WINDOW_LANES;
        let (first, second) = (axis.first.get(lanes.clone())?, axis.second.get(lanes)?);
        // Per output: the bytes of its two taps' components.
        let bytes: [[[u32; 3]; 2]; WINDOW_LANES] =
            std::array::from_fn(|j| [first[j], second[j]].map(|i| format.component_bytes(i)));
        let span = |outputs: &[[[u32; 3]; 2]]| {
            let all = outputs.iter().flatten().flatten();
            all.fold((u32::MAX, 0), |(lo, hi), &b| (lo.min(b), hi.max(b)))
        };
        let fits = |(lo, hi): (u32, u32)| hi - lo < WINDOW_BYTES;
        let (all, halves) = (span(&bytes), [span(&bytes[..8]), span(&bytes[8..])]);
        let quarters: [(u32, u32); 4] = std::array::from_fn(|k| span(&bytes[4 * k..4 * k + 4]));
        // Each output's (pair of) pixel(s) from the first byte of its components, moved left
        // to end inside the row.
        let gathered = |size: usize| -> Option<[u32; WINDOW_LANES]> {
            let last = u32::try_from(row_bytes.checked_sub(size)?).ok()?;
            Some(bytes.map(|b| span(&[b]).0.min(last)))
        };
        let source = if fits(all) {
            WindowSource::Bytes { start: all.0 }
        } else if halves.iter().all(|&h| fits(h)) {
            WindowSource::Split {
                starts: halves.map(|h| h.0),
            }
        } else if quarters.iter().all(|&(lo, hi)| hi - lo < WINDOW_BYTES / 2) {
            WindowSource::Quads {
                starts: quarters.map(|q| q.0),
            }
        } else if axis.point_sampling {
            WindowSource::Words {
                words: gathered(4)?,
            }
        } else {
            WindowSource::Pairs {
                pairs: gathered(8)?,
            }
        };
        // Output j's bytes: `room` bytes of the row from `origin[j]`, placed at `place[j]` of
        // the 128 bytes its window yields.
        let (origin, room, place): ([u32; WINDOW_LANES], u32, [u32; WINDOW_LANES]) = match source {
            WindowSource::Bytes { start } => ([start; WINDOW_LANES], WINDOW_BYTES, [0; 16]),
            WindowSource::Split { starts } => (
                std::array::from_fn(|j| starts[j / 8]),
                WINDOW_BYTES,
                [0; 16],
            ),
            WindowSource::Quads { starts } => (
                std::array::from_fn(|j| starts[j / 4]),
                WINDOW_BYTES / 2,
                std::array::from_fn(|j| 64 * (j as u32 / 4 % 2)),
            ),
            WindowSource::Words { words } => (words, 4, std::array::from_fn(|j| 4 * j as u32)),
            WindowSource::Pairs { pairs } => (pairs, 8, std::array::from_fn(|j| 8 * j as u32)),
        };
        let mut index = [[[0u8; 64]; 3]; 2];
        let used_taps = if axis.point_sampling { 1 } else { 2 };
        for (j, taps) in bytes.iter().enumerate() {
            for (tap_index, tap_bytes) in index.iter_mut().zip(taps).take(used_taps) {
                for (component, &b) in tap_index.iter_mut().zip(tap_bytes) {
                    let at = b.wrapping_sub(origin[j]);
                    if at >= room {
                        return None;
                    }
                    component[4 * j] = (place[j] + at) as u8;
                }
            }
        }
        Some(Self {
            x: x as u32,
            source,
            index,
        })
    }
}

/// One output row's work: the two source rows it blends and how.
pub(crate) struct RowJob<'a> {
    pub format: SourceFormat,
    pub taps: &'a RowTaps,
    /// Source rows `y0` and `y1` without padding (`y1` is ignored when `wy == 0`).
    pub top: &'a [u8],
    pub bottom: &'a [u8],
    /// Weight of `bottom`.
    pub wy: f32,
    /// Per network channel `(mul, add)`.
    pub affine: [(f32, f32); 3],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChannelOrder;
    use crate::frame::PixelEncoding;

    #[test]
    fn steps_cover_every_pixel_with_at_most_one_overlap() {
        assert_eq!(steps(32, 16).collect::<Vec<_>>(), [0, 16]);
        assert_eq!(steps(40, 16).collect::<Vec<_>>(), [0, 16, 24]);
        assert_eq!(steps(15, 16).count(), 0);
        assert_eq!(steps(16, 16).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn windows_load_small_ratios_and_gather_large_ones() {
        let rgb = SourceFormat::new(PixelEncoding::Rgb8, ChannelOrder::Rgb);
        let mut axis = AxisTaps::default();
        let mut taps = RowTaps::default();
        // 1280 → 640: outputs 0..16 read pixels 0..32 (96 bytes).
        axis.rebuild(1280, 640);
        taps.rebuild(&axis, rgb, 1280);
        assert_eq!(taps.windows.len(), 40);
        let w = &taps.windows[1];
        assert_eq!((w.x, w.source), (16, WindowSource::Bytes { start: 96 }));
        // Output 17 reads pixels 34 and 35: G of pixel 35 is byte 106, window offset 10.
        assert_eq!(w.index[1][1][4], (3 * 35 + 1 - 96) as u8);
        // 300 outputs: the last step overlaps.
        axis.rebuild(768, 300);
        taps.rebuild(&axis, rgb, 768);
        assert_eq!(taps.windows.last().map(|w| w.x), Some(284));
        assert!(taps.windows_complete);
        assert!(taps
            .windows
            .iter()
            .all(|w| matches!(w.source, WindowSource::Bytes { .. })));
        // 1400 → 200 is an exact 7× (one tap) too wide for windows: one 4-byte word per output.
        axis.rebuild(1400, 200);
        taps.rebuild(&axis, rgb, 1400);
        assert!(axis.point_sampling);
        let WindowSource::Words { words } = taps.windows[3].source else {
            panic!("{:?}", taps.windows[3]);
        };
        assert_eq!(words[1], 3 * axis.first[49]);
        assert_eq!(taps.windows[3].index[0][2][4], 4 + 2);
        // 1920 → 416: 16 outputs span ~74 pixels = 222 bytes, 8 outputs ~111: two windows.
        axis.rebuild(1920, 416);
        taps.rebuild(&axis, rgb, 1920);
        assert!(taps.windows_complete);
        let w = &taps.windows[25];
        let WindowSource::Split { starts } = w.source else {
            panic!("{w:?}");
        };
        // Output 415 (lane 15) reads pixels i and i + 1 from the second window.
        let i = axis.first[415];
        assert_eq!(u32::from(w.index[1][2][60]), 3 * i + 5 - starts[1]);
        // rgba8 at the same ratio: 8 outputs span 4 × 34 bytes, 4 outputs less than 64: four
        // windows of 64 bytes. Output 415 (lane 15) is the last of the fourth, placed at 64..
        let rgba = SourceFormat::new(PixelEncoding::Rgba8, ChannelOrder::Rgb);
        taps.rebuild(&axis, rgba, 1920);
        assert!(taps.windows_complete);
        let w = &taps.windows[25];
        let WindowSource::Quads { starts } = w.source else {
            panic!("{w:?}");
        };
        assert_eq!(u32::from(w.index[1][2][60]), 64 + 4 * i + 6 - starts[3]);
        // 1920 → 300 (ratio 6.4): quarters span more than 64 bytes: pairs, one 8-byte load
        // per output.
        axis.rebuild(1920, 300);
        taps.rebuild(&axis, rgba, 1920);
        assert!(taps.windows_complete);
        let w = &taps.windows[18];
        let i = axis.first[299];
        let WindowSource::Pairs { pairs } = w.source else {
            panic!("{w:?}");
        };
        // Output 299's pair starts at pixel i (bytes 4i..4i + 8, moved left to end at the
        // row's end), R of i and B of i + 1 inside it.
        assert_eq!(axis.second[299], i + 1);
        assert_eq!(pairs[15], (4 * i).min(4 * 1920 - 8));
        assert_eq!(u32::from(w.index[0][0][60]), 8 * 15 + 4 * i - pairs[15]);
        assert_eq!(u32::from(w.index[1][2][60]), 8 * 15 + 4 * i + 6 - pairs[15]);
    }

    #[test]
    fn every_step_of_every_encoding_and_ratio_gets_a_window() {
        // No silent fallback: rows of ≥ 8 bytes always vectorise in the AVX-512 kernel.
        let mut axis = AxisTaps::default();
        let mut taps = RowTaps::default();
        for encoding in PixelEncoding::ALL {
            let format = SourceFormat::new(encoding, ChannelOrder::Bgr);
            for (src, dst) in [
                (1920, 416),
                (1920, 640),
                (1280, 640),
                (768, 300),
                (4000, 17),
            ]
            .into_iter()
            .chain([(5, 40), (8, 16), (1921, 1000), (333, 64), (64, 64)])
            {
                axis.rebuild(src, dst);
                taps.rebuild(&axis, format, src);
                assert!(taps.windows_complete, "{encoding:?} {src} -> {dst}");
                assert_eq!(
                    taps.windows.len(),
                    steps(dst as usize, WINDOW_LANES).count()
                );
            }
        }
    }

    #[test]
    fn every_kernel_this_cpu_runs_is_reported_and_the_best_is_one_of_them() {
        assert!(Kernel::Portable.is_supported());
        assert!(Kernel::best().is_supported());
        for k in Kernel::ALL {
            assert_eq!(Kernel::parse(k.name()), Some(k));
            assert_eq!(k.checked().is_ok(), k.is_supported());
        }
        let msg = KernelUnsupported(Kernel::Avx512).to_string();
        assert!(
            msg.contains("avx512") && msg.contains("avx512vbmi"),
            "{msg}"
        );
    }
}
