//! Writing into the engine's input tensor: element types (f32, f16), one output row as three
//! NCHW plane rows or as NHWC pixels, and the letterbox padding. The row kernels produce planar
//! f32; f32 NCHW rows are written by the kernels in place, the other layouts and types go
//! through two row buffers reserved at start-up.

use half::{f16, slice::HalfFloatSliceExt};

use crate::config::TensorLayout;

/// Two scratch rows of `3 × width` f32, sized once for the widest possible resized row.
pub(crate) struct RowBuffers {
    planar: Vec<f32>,
    interleaved: Vec<f32>,
}

impl RowBuffers {
    pub fn new(max_width: usize) -> Self {
        Self {
            planar: vec![0.0; 3 * max_width],
            interleaved: vec![0.0; 3 * max_width],
        }
    }

    /// The planar buffer as three rows of `n`, or `None` when `n` exceeds the reservation.
    fn planes(&mut self, n: usize) -> Option<[&mut [f32]; 3]> {
        let (a, rest) = self.planar.get_mut(..3 * n)?.split_at_mut(n);
        let (b, c) = rest.split_at_mut(n);
        Some([a, b, c])
    }
}

/// An output element type.
pub(crate) trait Element: Copy {
    fn from_f32(v: f32) -> Self;
    /// Convert `src` into `dst` (same length).
    fn convert(dst: &mut [Self], src: &[f32]);
    /// Store three planar rows interleaved into `dst` (`scratch`: 3 × the row length).
    fn interleave(dst: &mut [Self], planes: [&[f32]; 3], scratch: &mut [f32]);
    /// Let `compute` fill three planar f32 rows and store them into the three NCHW plane rows
    /// `dst` (all of one length).
    fn store_planes(
        dst: [&mut [Self]; 3],
        buffers: &mut RowBuffers,
        compute: impl FnOnce([&mut [f32]; 3]),
    );
}

impl Element for f32 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
    fn convert(dst: &mut [Self], src: &[f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s;
        }
    }
    fn interleave(dst: &mut [Self], planes: [&[f32]; 3], _scratch: &mut [f32]) {
        interleave(dst, planes);
    }
    fn store_planes(
        dst: [&mut [Self]; 3],
        _buffers: &mut RowBuffers,
        compute: impl FnOnce([&mut [f32]; 3]),
    ) {
        compute(dst);
    }
}

impl Element for f16 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        f16::from_f32(v)
    }
    fn convert(dst: &mut [Self], src: &[f32]) {
        if let Some(src) = src.get(..dst.len()) {
            dst.convert_from_f32_slice(src);
        }
    }
    fn interleave(dst: &mut [Self], planes: [&[f32]; 3], scratch: &mut [f32]) {
        interleave(scratch, planes);
        Self::convert(dst, scratch);
    }
    fn store_planes(
        dst: [&mut [Self]; 3],
        buffers: &mut RowBuffers,
        compute: impl FnOnce([&mut [f32]; 3]),
    ) {
        let Some([a, b, c]) = buffers.planes(dst[0].len()) else {
            return;
        };
        compute([&mut *a, &mut *b, &mut *c]);
        for (d, s) in dst.into_iter().zip([a, b, c]) {
            Self::convert(d, s);
        }
    }
}

/// Let `compute` fill three planar f32 rows and store them interleaved (NHWC) into `dst`
/// (`3 ×` the row length): f32 straight from the planar rows, f16 through the second buffer.
pub(crate) fn store_pixels<T: Element>(
    dst: &mut [T],
    buffers: &mut RowBuffers,
    compute: impl FnOnce([&mut [f32]; 3]),
) {
    let n = dst.len() / 3;
    let RowBuffers {
        planar,
        interleaved,
    } = buffers;
    let (Some(planar), Some(interleaved)) = (planar.get_mut(..3 * n), interleaved.get_mut(..3 * n))
    else {
        return;
    };
    let (p0, rest) = planar.split_at_mut(n);
    let (p1, p2) = rest.split_at_mut(n);
    compute([&mut *p0, &mut *p1, &mut *p2]);
    T::interleave(dst, [&*p0, &*p1, &*p2], interleaved);
}

/// `out[3x + c] = planes[c][x]`, 8 pixels at a time where it can (the compiler turns the
/// fixed-size body into shuffles).
fn interleave(out: &mut [f32], [p0, p1, p2]: [&[f32]; 3]) {
    const STEP: usize = 8;
    let whole = (out.len() / (3 * STEP)).min(p0.len() / STEP);
    let (head, tail) = out.split_at_mut(3 * STEP * whole);
    let planes = p0
        .chunks_exact(STEP)
        .zip(p1.chunks_exact(STEP))
        .zip(p2.chunks_exact(STEP));
    for (px, ((a, b), c)) in head.chunks_exact_mut(3 * STEP).zip(planes) {
        let (Ok(a), Ok(b), Ok(c)) = (
            <&[f32; STEP]>::try_from(a),
            <&[f32; STEP]>::try_from(b),
            <&[f32; STEP]>::try_from(c),
        ) else {
            return;
        };
        for i in 0..STEP {
            px[3 * i] = a[i];
            px[3 * i + 1] = b[i];
            px[3 * i + 2] = c[i];
        }
    }
    let rest = p0.iter().zip(p1).zip(p2).skip(STEP * whole);
    for (px, ((&a, &b), &c)) in tail.chunks_exact_mut(3).zip(rest) {
        px.copy_from_slice(&[a, b, c]);
    }
}

/// Write the padding value into everything outside the resized region
/// `origin .. origin + size` of a `canvas`-sized tensor.
pub(crate) fn fill_padding<T: Element>(
    out: &mut [T],
    layout: TensorLayout,
    pad: [f32; 3],
    (dw, dh): (usize, usize),
    (ox, oy): (usize, usize),
    (rw, rh): (usize, usize),
) {
    if (rw, rh) == (dw, dh) || dw == 0 {
        return;
    }
    let pad = pad.map(T::from_f32);
    let is_pad_row = |y: usize| y < oy || y >= oy + rh;
    match layout {
        TensorLayout::Nchw => {
            for (c, plane) in out.chunks_exact_mut(dw * dh).take(3).enumerate() {
                for (y, row) in plane.chunks_exact_mut(dw).enumerate() {
                    if is_pad_row(y) {
                        row.fill(pad[c]);
                    } else {
                        row.iter_mut().take(ox).for_each(|v| *v = pad[c]);
                        row.iter_mut().skip(ox + rw).for_each(|v| *v = pad[c]);
                    }
                }
            }
        }
        TensorLayout::Nhwc => {
            // Whole-pixel runs copied from a pattern of 64 pad pixels (memcpy speed).
            let mut pattern = [pad[0]; 3 * 64];
            for px in pattern.chunks_exact_mut(3) {
                px.copy_from_slice(&pad);
            }
            let fill = |run: &mut [T]| {
                for chunk in run.chunks_mut(pattern.len()) {
                    if let Some(src) = pattern.get(..chunk.len()) {
                        chunk.copy_from_slice(src);
                    }
                }
            };
            for (y, row) in out.chunks_exact_mut(dw * 3).take(dh).enumerate() {
                if is_pad_row(y) {
                    fill(row);
                } else {
                    let (left, rest) = row.split_at_mut((3 * ox).min(row.len()));
                    fill(left);
                    fill(rest.get_mut(3 * rw..).unwrap_or_default());
                }
            }
        }
    }
}
