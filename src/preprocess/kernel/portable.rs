//! The portable row kernel: steps of 8 output pixels, each a fixed-size array computation the
//! compiler vectorises for whatever the target has (SSE2 on any x86-64, NEON on aarch64): the
//! four taps' pixel words are fetched with plain loads into arrays, then channels, blends and
//! normalisation run lane-wise. Rows narrower than 8 pixels (or shorter than a word) go one
//! pixel at a time with bounds-checked reads.

use super::{steps, RowJob, PACKED, YUV};
use crate::preprocess::source_format::{read_word, yuv_to_rgb};

/// Pixels per step.
const C: usize = 8;

/// Write the first `n` output pixels of the row.
pub(super) fn row(job: &RowJob<'_>, out: &mut [&mut [f32]; 3], n: usize) {
    if n >= C && job.taps.vectorizable {
        stepped(job, out, n);
    } else {
        one_by_one(job, out, n);
    }
}

/// The chunked code compiled for AVX2 + FMA (the compiler's own vectorisation, to compare with
/// the hand-written kernel). Returns whether it wrote the row (rows narrower than 8: no).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn row_avx2(job: &RowJob<'_>, out: &mut [&mut [f32]; 3], n: usize) -> bool {
    if n < C {
        return false;
    }
    stepped(job, out, n);
    true
}

#[inline(always)]
fn stepped(job: &RowJob<'_>, out: &mut [&mut [f32]; 3], n: usize) {
    monomorphised!(job, run(job, out, n))
}

/// The words at `offsets` of `row` (0 for a word outside the row: never when vectorizable).
#[inline(always)]
fn words(row: &[u8], offsets: &[u32; C]) -> [u32; C] {
    let mut w = [0u32; C];
    for (w, &o) in w.iter_mut().zip(offsets) {
        let o = o as usize;
        if let Some(&[a, b, c, d]) = row.get(o..o + 4) {
            *w = u32::from_le_bytes([a, b, c, d]);
        }
    }
    w
}

/// The network's three channels (0–255) of 8 pixels.
#[inline(always)]
fn decode<const KIND: u8>(job: &RowJob<'_>, w: &[u32; C], shift: &[u32; C]) -> [[f32; C]; 3] {
    let mut out = [[0f32; C]; 3];
    let byte = |w: u32, at: u32| ((w >> (at & 31)) & 0xff) as i32;
    if KIND == PACKED {
        // Words are pixel-aligned except near the row's end: a uniform shift vectorises on
        // targets without per-lane shifts (SSE2).
        let aligned = shift.iter().all(|&s| s == 0);
        for (plane, &channel) in out.iter_mut().zip(&job.format.channel) {
            if aligned {
                let at = 8 * (channel & 3);
                for (v, &w) in plane.iter_mut().zip(w) {
                    *v = ((w >> at) & 0xff) as f32;
                }
                continue;
            }
            for ((v, &w), &s) in plane.iter_mut().zip(w).zip(shift) {
                *v = byte(w, s + 8 * channel) as f32;
            }
        }
    } else {
        let (u_at, v_at) = job.format.chroma_shifts();
        let mut rgb = [[0i32; C]; 3];
        for i in 0..C {
            let [r, g, b] = yuv_to_rgb(byte(w[i], shift[i]), byte(w[i], u_at), byte(w[i], v_at));
            (rgb[0][i], rgb[1][i], rgb[2][i]) = (r, g, b);
        }
        for (plane, &c) in out.iter_mut().zip(&job.format.channel) {
            for (v, &s) in plane.iter_mut().zip(&rgb[(c as usize).min(2)]) {
                *v = s as f32;
            }
        }
    }
    out
}

/// `a + (b − a) × w` lane-wise, per channel.
#[inline(always)]
fn lerp(a: &mut [[f32; C]; 3], b: &[[f32; C]; 3], w: &[f32; C]) {
    for (a, b) in a.iter_mut().zip(b) {
        for ((a, &b), &w) in a.iter_mut().zip(b).zip(w) {
            *a += (b - *a) * w;
        }
    }
}

/// The taps of one step.
struct Taps {
    w0: [u32; C],
    w1: [u32; C],
    s0: [u32; C],
    s1: [u32; C],
    wx: [f32; C],
}

/// The channels of one step's outputs blended horizontally in `row`.
#[inline(always)]
fn horizontal<const KIND: u8, const TWO_X: bool>(
    job: &RowJob<'_>,
    row: &[u8],
    t: &Taps,
) -> [[f32; C]; 3] {
    let mut a = decode::<KIND>(job, &words(row, &t.w0), &t.s0);
    if TWO_X {
        let b = decode::<KIND>(job, &words(row, &t.w1), &t.s1);
        lerp(&mut a, &b, &t.wx);
    }
    a
}

#[inline(always)]
fn run<const KIND: u8, const TWO_X: bool, const TWO_Y: bool>(
    job: &RowJob<'_>,
    out: &mut [&mut [f32]; 3],
    n: usize,
) {
    let taps = job.taps;
    let array = |v: &[u32], x: usize| -> Option<[u32; C]> { v.get(x..x + C)?.try_into().ok() };
    for x in steps(n, C) {
        let (Some(w0), Some(w1), Some(s0), Some(s1), Some(wx)) = (
            array(&taps.word0, x),
            array(&taps.word1, x),
            array(&taps.shift0, x),
            array(&taps.shift1, x),
            taps.weight
                .get(x..x + C)
                .and_then(|w| <[f32; C]>::try_from(w).ok()),
        ) else {
            return;
        };
        let step = Taps { w0, w1, s0, s1, wx };
        let mut value = horizontal::<KIND, TWO_X>(job, job.top, &step);
        if TWO_Y {
            let bottom = horizontal::<KIND, TWO_X>(job, job.bottom, &step);
            lerp(&mut value, &bottom, &[job.wy; C]);
        }
        for ((plane, v), (mul, add)) in out.iter_mut().zip(&value).zip(job.affine) {
            if let Some(dst) = plane.get_mut(x..x + C) {
                for (d, &v) in dst.iter_mut().zip(v) {
                    *d = v * mul + add;
                }
            }
        }
    }
}

/// One pixel at a time with bounds-checked reads.
fn one_by_one(job: &RowJob<'_>, out: &mut [&mut [f32]; 3], n: usize) {
    let taps = job.taps;
    let format = job.format;
    let sample =
        |row: &[u8], word: u32, shift: u32| format.channels(read_word(row, word as usize), shift);
    for x in 0..n {
        let (Some(&w0), Some(&w1), Some(&s0), Some(&s1), Some(&wx)) = (
            taps.word0.get(x),
            taps.word1.get(x),
            taps.shift0.get(x),
            taps.shift1.get(x),
            taps.weight.get(x),
        ) else {
            return;
        };
        let horizontal = |row: &[u8]| {
            let a = sample(row, w0, s0);
            if taps.point_sampling {
                return a;
            }
            let b = sample(row, w1, s1);
            std::array::from_fn(|c| a[c] + (b[c] - a[c]) * wx)
        };
        let top = horizontal(job.top);
        let value: [f32; 3] = if job.wy == 0.0 {
            top
        } else {
            let bottom = horizontal(job.bottom);
            std::array::from_fn(|c| top[c] + (bottom[c] - top[c]) * job.wy)
        };
        for ((plane, v), (mul, add)) in out.iter_mut().zip(value).zip(job.affine) {
            if let Some(d) = plane.get_mut(x) {
                *d = v * mul + add;
            }
        }
    }
}
