//! The AVX2 + FMA row kernel, 8 output pixels per step: four `vpgatherdd` fetch the words of
//! the pixels' four source taps, variable shifts and byte shuffles (or the 4:2:2 → RGB integer
//! conversion) give the channels, and f32 FMAs blend, normalise and store straight into the
//! planar rows.

use std::arch::x86_64::*;

use super::{steps, RowJob, PACKED, YUV};
use crate::preprocess::source_format::{CUB, CUG, CVG, CVR, CY, HALF};

const LANES: usize = 8;

/// Write the first `n` output pixels of the row; `false` (nothing written) when `n < 8`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; every word the taps name lies inside `job.top` (and
/// `job.bottom` when `job.wy ≠ 0`); every `out` row and tap vector holds at least `n` elements.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn row(job: &RowJob<'_>, out: &mut [&mut [f32]; 3], n: usize) -> bool {
    if n < LANES {
        return false;
    }
    // SAFETY: this function's contract.
    unsafe { monomorphised!(job, run(job, out, n)) }
    true
}

/// Loop-invariant vectors.
struct Consts {
    /// Per network channel: `vpshufb` control that moves that channel's byte of each (shifted)
    /// word into the low byte of its lane and zeroes the rest.
    pick: [__m256i; 3],
    u_shift: __m128i,
    v_shift: __m128i,
    /// 4:2:2 into a BGR network: swap the converted R and B.
    swap_rb: bool,
    low_byte: __m256i,
}

#[target_feature(enable = "avx2,fma")]
fn consts(job: &RowJob<'_>) -> Consts {
    let pick = job.format.channel.map(|byte| {
        let mut ctrl = [-128i8; 32];
        for (lane, c) in ctrl.chunks_exact_mut(4).enumerate() {
            c[0] = (4 * (lane % 4) as u32 + byte.min(3)) as i8;
        }
        // SAFETY: `ctrl` is 32 bytes.
        unsafe { _mm256_loadu_si256(ctrl.as_ptr().cast()) }
    });
    let (u_at, v_at) = job.format.chroma_shifts();
    Consts {
        pick,
        u_shift: _mm_cvtsi32_si128(u_at as i32),
        v_shift: _mm_cvtsi32_si128(v_at as i32),
        swap_rb: job.format.channel[0] == 2,
        low_byte: _mm256_set1_epi32(0xff),
    }
}

/// The network's three channels (0–255, f32) of the pixels whose words are `word`, at bit
/// `shift` (the pixel's first byte, or its luma for 4:2:2).
#[inline]
#[target_feature(enable = "avx2,fma")]
fn decode<const KIND: u8>(word: __m256i, shift: __m256i, k: &Consts) -> [__m256; 3] {
    if KIND == PACKED {
        let pixel = _mm256_srlv_epi32(word, shift);
        let pick = |c: usize| _mm256_cvtepi32_ps(_mm256_shuffle_epi8(pixel, k.pick[c]));
        return [pick(0), pick(1), pick(2)];
    }
    let y = _mm256_and_si256(_mm256_srlv_epi32(word, shift), k.low_byte);
    let u = _mm256_and_si256(_mm256_srl_epi32(word, k.u_shift), k.low_byte);
    let v = _mm256_and_si256(_mm256_srl_epi32(word, k.v_shift), k.low_byte);
    let [r, g, b] = yuv_to_rgb(y, u, v).map(|c| _mm256_cvtepi32_ps(c));
    if k.swap_rb {
        [b, g, r]
    } else {
        [r, g, b]
    }
}

/// [`crate::preprocess::source_format::yuv_to_rgb`], 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn yuv_to_rgb(y: __m256i, u: __m256i, v: __m256i) -> [__m256i; 3] {
    let set = _mm256_set1_epi32;
    let (u, v) = (_mm256_sub_epi32(u, set(128)), _mm256_sub_epi32(v, set(128)));
    let y = _mm256_mullo_epi32(
        _mm256_max_epi32(_mm256_sub_epi32(y, set(16)), _mm256_setzero_si256()),
        set(CY),
    );
    let y = _mm256_add_epi32(y, set(HALF));
    let clamp = |s: __m256i| {
        _mm256_min_epi32(
            _mm256_max_epi32(_mm256_srai_epi32::<20>(s), _mm256_setzero_si256()),
            set(255),
        )
    };
    let mul = _mm256_mullo_epi32;
    [
        clamp(_mm256_add_epi32(y, mul(v, set(CVR)))),
        clamp(_mm256_add_epi32(
            y,
            _mm256_add_epi32(mul(v, set(CVG)), mul(u, set(CUG))),
        )),
        clamp(_mm256_add_epi32(y, mul(u, set(CUB)))),
    ]
}

/// `a + (b − a) × w` per channel.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn lerp(a: [__m256; 3], b: [__m256; 3], w: __m256) -> [__m256; 3] {
    [0, 1, 2].map(|c| _mm256_fmadd_ps(_mm256_sub_ps(b[c], a[c]), w, a[c]))
}

/// # Safety
/// As [`row`], with `n ≥ 8`.
#[target_feature(enable = "avx2,fma")]
unsafe fn run<const KIND: u8, const TWO_X: bool, const TWO_Y: bool>(
    job: &RowJob<'_>,
    out: &mut [&mut [f32]; 3],
    n: usize,
) {
    let taps = job.taps;
    let k = consts(job);
    let (top, bottom) = (
        job.top.as_ptr().cast::<i32>(),
        job.bottom.as_ptr().cast::<i32>(),
    );
    let wy = _mm256_set1_ps(job.wy);
    let mul = job.affine.map(|(m, _)| _mm256_set1_ps(m));
    let add = job.affine.map(|(_, a)| _mm256_set1_ps(a));
    let dst = [
        out[0].as_mut_ptr(),
        out[1].as_mut_ptr(),
        out[2].as_mut_ptr(),
    ];
    // SAFETY (the loads, gathers and stores below): every step covers `x..x + 8` with
    // `x + 8 ≤ n` (`steps`), inside every tap vector and `out` row; the gathered words lie
    // inside `top` (and `bottom` when `TWO_Y`) by the contract of `row`.
    let load = |v: &[u32], x: usize| unsafe { _mm256_loadu_si256(v.as_ptr().add(x).cast()) };
    for x in steps(n, LANES) {
        unsafe {
            let (w0, w1) = (load(&taps.word0, x), load(&taps.word1, x));
            let (s0, s1) = (load(&taps.shift0, x), load(&taps.shift1, x));
            let wx = _mm256_loadu_ps(taps.weight.as_ptr().add(x));
            let horizontal = |row: *const i32| {
                let a = decode::<KIND>(_mm256_i32gather_epi32::<1>(row, w0), s0, &k);
                if TWO_X {
                    let b = decode::<KIND>(_mm256_i32gather_epi32::<1>(row, w1), s1, &k);
                    lerp(a, b, wx)
                } else {
                    a
                }
            };
            let mut value = horizontal(top);
            if TWO_Y {
                value = lerp(value, horizontal(bottom), wy);
            }
            for c in 0..3 {
                let v = _mm256_fmadd_ps(value[c], mul[c], add[c]);
                _mm256_storeu_ps(dst[c].add(x), v);
            }
        }
    }
}
