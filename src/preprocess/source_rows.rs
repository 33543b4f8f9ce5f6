//! The horizontal half of the resize: one source row (any encoding) → one resampled row of
//! three planar f32 channels in network channel order, in units of `level × 2¹⁶` (16-bit
//! fixed-point weights, exact integer lerp, one conversion per value). Packed 4:2:2 rows are
//! first converted to RGB (BT.601 video range, as OpenCV's `COLOR_YUV2RGB_UYVY/YUY2`) in a
//! scratch row.

use super::taps::{AxisTaps, FIXED_ONE};
use crate::config::ChannelOrder;
use crate::frame::PixelEncoding;

/// How to read network channels out of a source row.
#[derive(Copy, Clone, Debug)]
pub(crate) struct ChannelMap {
    /// Byte offsets of the network's three channels inside one pixel.
    offsets: [usize; 3],
    /// Bytes per pixel of the row handed to [`resample_row`] (3 after a 4:2:2 conversion).
    bytes_per_pixel: usize,
    /// The source is 4:2:2 and must go through the RGB scratch row first.
    yuv: Option<YuvOrder>,
}

#[derive(Copy, Clone, Debug)]
enum YuvOrder {
    Uyvy,
    Yuyv,
}

impl ChannelMap {
    pub fn new(encoding: PixelEncoding, order: ChannelOrder) -> Self {
        // Offsets of R, G, B inside one source pixel.
        let (rgb, bytes_per_pixel, yuv) = match encoding {
            PixelEncoding::Rgb8 => ([0, 1, 2], 3, None),
            PixelEncoding::Bgr8 => ([2, 1, 0], 3, None),
            PixelEncoding::Rgba8 => ([0, 1, 2], 4, None),
            PixelEncoding::Bgra8 => ([2, 1, 0], 4, None),
            PixelEncoding::Mono8 => ([0, 0, 0], 1, None),
            PixelEncoding::Uyvy => ([0, 1, 2], 3, Some(YuvOrder::Uyvy)),
            PixelEncoding::Yuyv => ([0, 1, 2], 3, Some(YuvOrder::Yuyv)),
        };
        let offsets = match order {
            ChannelOrder::Rgb => rgb,
            ChannelOrder::Bgr => [rgb[2], rgb[1], rgb[0]],
        };
        Self {
            offsets,
            bytes_per_pixel,
            yuv,
        }
    }

    /// Bytes of RGB scratch needed for a source row of `width` pixels (0 when not 4:2:2).
    pub fn scratch_len(&self, width: u32) -> usize {
        if self.yuv.is_some() {
            width as usize * 3
        } else {
            0
        }
    }

    /// Resample `row` (one source row, no padding) horizontally into `out` (`3 × taps.len()`,
    /// planar). `scratch` must be [`Self::scratch_len`] long.
    pub fn resample(&self, row: &[u8], scratch: &mut [u8], taps: &AxisTaps, out: &mut [f32]) {
        let row = match self.yuv {
            Some(order) => {
                yuv422_to_rgb(row, order, scratch);
                &*scratch
            }
            None => row,
        };
        match (self.bytes_per_pixel, self.offsets) {
            (1, _) => resample_row::<1, 0, 0, 0>(row, taps, out),
            (3, [0, 1, 2]) => resample_row::<3, 0, 1, 2>(row, taps, out),
            (3, _) => resample_row::<3, 2, 1, 0>(row, taps, out),
            (_, [0, 1, 2]) => resample_row::<4, 0, 1, 2>(row, taps, out),
            (_, _) => resample_row::<4, 2, 1, 0>(row, taps, out),
        }
    }
}

/// The horizontal lerp for one row; the pixel size and channel offsets are compile-time
/// constants so each tap costs one bounds check and the loads are fixed-offset.
fn resample_row<const BPP: usize, const C0: usize, const C1: usize, const C2: usize>(
    row: &[u8],
    taps: &AxisTaps,
    out: &mut [f32],
) {
    let n = taps.len();
    let (c0, rest) = out.split_at_mut(n);
    let (c1, c2) = rest.split_at_mut(n);
    let outs = c0.iter_mut().zip(c1.iter_mut()).zip(c2.iter_mut());
    if taps.point_sampling {
        for (&i0, ((o0, o1), o2)) in taps.first.iter().zip(outs) {
            if let Some(a) = pixel::<BPP>(row, i0) {
                *o0 = (u32::from(a[C0]) * FIXED_ONE) as f32;
                *o1 = (u32::from(a[C1]) * FIXED_ONE) as f32;
                *o2 = (u32::from(a[C2]) * FIXED_ONE) as f32;
            }
        }
        return;
    }
    let taps_iter = taps.first.iter().zip(&taps.second).zip(&taps.weight_fixed);
    for (((&i0, &i1), &w), ((o0, o1), o2)) in taps_iter.zip(outs) {
        let (Some(a), Some(b)) = (pixel::<BPP>(row, i0), pixel::<BPP>(row, i1)) else {
            continue;
        };
        // Exact in u32 (≤ 255 × 2¹⁶) and in f32 (< 2²⁴): one conversion per channel.
        let lerp = |c: usize| (u32::from(a[c]) * (FIXED_ONE - w) + u32::from(b[c]) * w) as f32;
        *o0 = lerp(C0);
        *o1 = lerp(C1);
        *o2 = lerp(C2);
    }
}

/// The `BPP` bytes of pixel `i` (None only if the taps were built for another row width).
#[inline(always)]
fn pixel<const BPP: usize>(row: &[u8], i: u32) -> Option<&[u8; BPP]> {
    let start = i as usize * BPP;
    row.get(start..start + BPP)?.try_into().ok()
}

// BT.601 video-range coefficients in 20-bit fixed point, as OpenCV's `ITUR_BT_601_*`.
const CY: i32 = 1_220_542;
const CVR: i32 = 1_673_527;
const CVG: i32 = -852_492;
const CUG: i32 = -409_993;
const CUB: i32 = 2_116_026;
const HALF: i32 = 1 << 19;

/// Convert one packed 4:2:2 row to RGB8 (`out` is `3 × width`; an odd width uses only the
/// first pixel of the last pair).
fn yuv422_to_rgb(row: &[u8], order: YuvOrder, out: &mut [u8]) {
    let (y_at, u_at, v_at) = match order {
        YuvOrder::Uyvy => ([1, 3], 0, 2),
        YuvOrder::Yuyv => ([0, 2], 1, 3),
    };
    let clamp = |s: i32| ((s + HALF) >> 20).clamp(0, 255) as u8;
    for (pair, px) in row.chunks_exact(4).zip(out.chunks_mut(6)) {
        let u = i32::from(pair[u_at]) - 128;
        let v = i32::from(pair[v_at]) - 128;
        let (rv, guv, bu) = (CVR * v, CVG * v + CUG * u, CUB * u);
        for (rgb, &at) in px.chunks_exact_mut(3).zip(&y_at) {
            let y = (i32::from(pair[at]) - 16).max(0) * CY;
            rgb[0] = clamp(y + rv);
            rgb[1] = clamp(y + guv);
            rgb[2] = clamp(y + bu);
        }
    }
}
