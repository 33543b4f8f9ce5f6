//! The AVX-512 (F, BW, VBMI) row kernel, 16 output pixels per step. Each step's [`Window`]
//! says where its taps are: within 128 bytes of the source row (two masked loads), within two
//! such windows of 8 outputs each or four of 64 bytes for 4 outputs each (four loads), or as
//! 16 pairs of neighbouring pixels (two
//! `vpgatherqq` of 8 bytes each: both taps of an output in one load), or, when sampling
//! exactly (one tap), as 16 pixel words (one `vpgatherdd`). One `vpermt2b` per fetched
//! component and window then puts each output's byte in its lane; then, as in the AVX2
//! kernel: channels (or the 4:2:2 → RGB integer conversion), f32 FMAs to blend and normalise,
//! and stores straight into the planar rows. Contiguous loads beat gathers here: the windows
//! are tried first.

// The AVX-512 intrinsics are stable since Rust 1.89, above the `rust-version` in Cargo.toml;
// the crate's real floor is already higher (tract 0.23 needs 1.91).
#![allow(clippy::incompatible_msrv)]

use std::arch::x86_64::*;

use super::{RowJob, Window, WindowSource, PACKED, WINDOW_LANES, YUV};
use crate::preprocess::source_format::{CUB, CUG, CVG, CVR, CY, HALF};

const LANES: usize = WINDOW_LANES;

/// Byte 0 of every 32-bit lane.
const LOW_BYTES: u64 = 0x1111_1111_1111_1111;
/// Bytes of lanes 0–7, and of lanes 8–15.
const FIRST_HALF: u64 = 0x0000_0000_ffff_ffff;
const SECOND_HALF: u64 = !FIRST_HALF;

/// The bytes a window's source yields: one 128-byte table (two registers), or two (outputs
/// 0–7 from the first, 8–15 from the second).
#[derive(Copy, Clone)]
enum Table {
    One([__m512i; 2]),
    Two([__m512i; 4]),
}

/// Write the first `n` output pixels of the row; `false` (nothing written) when its windows do
/// not cover exactly `n` pixels (rows narrower than 16, rows of fewer than 8 bytes).
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VBMI; every word the taps name lies inside
/// `job.top` (and `job.bottom` when `job.wy ≠ 0`), which are at least `taps.row_bytes` long;
/// every `out` row holds at least `n` elements.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn row(job: &RowJob<'_>, out: &mut [&mut [f32]; 3], n: usize) -> bool {
    if n < LANES || n != job.taps.len() || !job.taps.windows_complete {
        return false;
    }
    // SAFETY: this function's contract.
    unsafe { monomorphised!(job, run(job, out)) }
    true
}

/// 4:2:2 components (Y, U, V in lanes, 0–255) → the network's three channels.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn yuv_channels(y: __m512i, u: __m512i, v: __m512i, swap_rb: bool) -> [__m512; 3] {
    let set = _mm512_set1_epi32;
    let (u, v) = (_mm512_sub_epi32(u, set(128)), _mm512_sub_epi32(v, set(128)));
    let y = _mm512_mullo_epi32(
        _mm512_max_epi32(_mm512_sub_epi32(y, set(16)), _mm512_setzero_si512()),
        set(CY),
    );
    let y = _mm512_add_epi32(y, set(HALF));
    let clamp = |s: __m512i| {
        _mm512_cvtepi32_ps(_mm512_min_epi32(
            _mm512_max_epi32(_mm512_srai_epi32::<20>(s), _mm512_setzero_si512()),
            set(255),
        ))
    };
    let mul = _mm512_mullo_epi32;
    let r = clamp(_mm512_add_epi32(y, mul(v, set(CVR))));
    let g = clamp(_mm512_add_epi32(
        y,
        _mm512_add_epi32(mul(v, set(CVG)), mul(u, set(CUG))),
    ));
    let b = clamp(_mm512_add_epi32(y, mul(u, set(CUB))));
    if swap_rb {
        [b, g, r]
    } else {
        [r, g, b]
    }
}

/// The channels of one tap of the window's 16 outputs, from its `table`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn decode<const KIND: u8>(table: Table, index: &[[u8; 64]; 3], swap_rb: bool) -> [__m512; 3] {
    let [c0, c1, c2] = index.map(|idx| {
        // SAFETY: `idx` is 64 bytes.
        let idx = unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) };
        match table {
            Table::One([lo, hi]) => _mm512_maskz_permutex2var_epi8(LOW_BYTES, lo, idx, hi),
            Table::Two([a0, a1, b0, b1]) => _mm512_or_si512(
                _mm512_maskz_permutex2var_epi8(LOW_BYTES & FIRST_HALF, a0, idx, a1),
                _mm512_maskz_permutex2var_epi8(LOW_BYTES & SECOND_HALF, b0, idx, b1),
            ),
        }
    });
    if KIND == PACKED {
        [c0, c1, c2].map(|v| _mm512_cvtepi32_ps(v))
    } else {
        yuv_channels(c0, c1, c2, swap_rb)
    }
}

/// `a + (b − a) × w` per channel.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn lerp(a: [__m512; 3], b: [__m512; 3], w: __m512) -> [__m512; 3] {
    [0, 1, 2].map(|c| _mm512_fmadd_ps(_mm512_sub_ps(b[c], a[c]), w, a[c]))
}

/// The 64 bytes of `row` from `start` (those past `row_bytes` read as 0, never touched).
///
/// # Safety
/// `row` is valid for `row_bytes` bytes.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn bytes64(row: *const u8, row_bytes: usize, start: usize) -> __m512i {
    let mask = match row_bytes.saturating_sub(start) {
        0 => 0,
        n if n >= 64 => u64::MAX,
        n => (1u64 << n) - 1,
    };
    // SAFETY: a masked load touches only the bytes its mask enables, those below `row_bytes`.
    unsafe { _mm512_maskz_loadu_epi8(mask, row.wrapping_add(start).cast::<i8>()) }
}

/// # Safety
/// As [`row`], with `n == taps.len() ≥ 16` (so every window's step `x..x + 16` is inside).
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn run<const KIND: u8, const TWO_X: bool, const TWO_Y: bool>(
    job: &RowJob<'_>,
    out: &mut [&mut [f32]; 3],
) {
    let taps = job.taps;
    let swap_rb = job.format.channel[0] == 2;
    let wy = _mm512_set1_ps(job.wy);
    let mul = job.affine.map(|(m, _)| _mm512_set1_ps(m));
    let add = job.affine.map(|(_, a)| _mm512_set1_ps(a));
    let dst = [
        out[0].as_mut_ptr(),
        out[1].as_mut_ptr(),
        out[2].as_mut_ptr(),
    ];
    // The channels of a window's 16 outputs blended horizontally in `row`. The bytes the
    // window's source yields: the row's 128 bytes from each window start, 64 from each
    // quarter's, or 4 or 8 bytes per output gathered. (A macro, not a closure or function: the
    // compiler does not inline those once they return several vectors, and calls cost ~2×.)
    macro_rules! horizontal {
        ($row:expr, $window:expr) => {{
            let (window, base, len): (&Window, *const u8, usize) =
                ($window, $row.as_ptr(), taps.row_bytes);
            // SAFETY: `row` holds `row_bytes` (the contract of `row`); gathered words and
            // pairs lie inside the row (`word + 4`, `pair + 8 ≤ row_bytes`, offsets < 2³¹ as
            // the row is); `words` and `pairs` are 16 u32; `x + 16 ≤ n` for every window
            // (`steps`), inside the weights.
            unsafe {
                let bytes = |start: u32| bytes64(base, len, start as usize);
                let table = match &window.source {
                    WindowSource::Bytes { start } => Table::One([bytes(*start), bytes(start + 64)]),
                    WindowSource::Split { starts: [a, b] } => {
                        Table::Two([bytes(*a), bytes(a + 64), bytes(*b), bytes(b + 64)])
                    }
                    WindowSource::Quads { starts } => Table::Two(starts.map(bytes)),
                    WindowSource::Words { words } => {
                        let at = _mm512_loadu_si512(words.as_ptr().cast());
                        let word = _mm512_i32gather_epi32::<1>(at, base.cast::<i32>());
                        Table::One([word, _mm512_setzero_si512()])
                    }
                    WindowSource::Pairs { pairs } => {
                        let at = |h: usize| _mm256_loadu_si256(pairs.as_ptr().add(8 * h).cast());
                        Table::One([
                            _mm512_i32gather_epi64::<1>(at(0), base.cast::<i64>()),
                            _mm512_i32gather_epi64::<1>(at(1), base.cast::<i64>()),
                        ])
                    }
                };
                let a = decode::<KIND>(table, &window.index[0], swap_rb);
                if TWO_X {
                    let b = decode::<KIND>(table, &window.index[1], swap_rb);
                    let wx = _mm512_loadu_ps(taps.weight.as_ptr().add(window.x as usize));
                    lerp(a, b, wx)
                } else {
                    a
                }
            }
        }};
    }
    for window in &taps.windows {
        let mut value = horizontal!(job.top, window);
        if TWO_Y {
            value = lerp(value, horizontal!(job.bottom, window), wy);
        }
        let x = window.x as usize;
        for c in 0..3 {
            let v = _mm512_fmadd_ps(value[c], mul[c], add[c]);
            // SAFETY: `x + 16 ≤ n ≤` the length of every `out` row.
            unsafe { _mm512_storeu_ps(dst[c].add(x), v) };
        }
    }
}
