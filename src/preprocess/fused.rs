//! [`Preprocessor`]: the fused pass. Per output row it resamples the (at most two) source rows
//! it needs horizontally into a two-row ring, then blends them vertically, normalises and writes
//! the row straight into the tensor (NCHW planes or NHWC pixels, f32 or f16). Letterbox padding
//! is written directly. Tables and rows are cached per source size: after the first frame of a
//! size, `run` allocates nothing.

use half::{f16, slice::HalfFloatSliceExt};

use super::source_rows::ChannelMap;
use super::spec::PreprocessSpec;
use super::taps::{AxisTaps, FIXED_ONE};
use crate::config::TensorLayout;
use crate::error::FrameError;
use crate::frame::{ImageView, LetterboxTransform, PixelEncoding};

/// The engine input tensor to fill, `spec.tensor_len()` elements.
pub enum TensorMut<'a> {
    F32(&'a mut [f32]),
    F16(&'a mut [f16]),
}

/// An output element type.
trait Element: Copy {
    fn from_f32(v: f32) -> Self;
    /// Let `compute` produce the f32 values of `dst`, then store them (f32: in place; f16:
    /// through `scratch` and one vectorised slice conversion).
    fn store(dst: &mut [Self], scratch: &mut [f32], compute: impl FnOnce(&mut [f32]));
}
impl Element for f32 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn store(dst: &mut [Self], _scratch: &mut [f32], compute: impl FnOnce(&mut [f32])) {
        compute(dst);
    }
}
impl Element for f16 {
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        f16::from_f32(v)
    }
    #[inline(always)]
    fn store(dst: &mut [Self], scratch: &mut [f32], compute: impl FnOnce(&mut [f32])) {
        let Some(values) = scratch.get_mut(..dst.len()) else {
            return;
        };
        compute(values);
        dst.convert_from_f32_slice(values);
    }
}

/// Geometry of one source size: where the resized image sits and how it samples the source.
#[derive(Default)]
struct Plan {
    src: (u32, u32, Option<PixelEncoding>),
    /// Resized image size and its top-left corner on the canvas.
    resized: (u32, u32),
    origin: (u32, u32),
    x_taps: AxisTaps,
    y_taps: AxisTaps,
    channels: Option<ChannelMap>,
}

/// The fused preprocessor for one network input spec.
pub struct Preprocessor {
    spec: PreprocessSpec,
    /// Per-channel `(mul, add)` applied to resampled rows (which are in `level × FIXED_ONE`).
    affine: [(f32, f32); 3],
    pad: [f32; 3],
    plan: Plan,
    /// Two resampled source rows, `3 × resized width` planar f32 each.
    ring: Vec<f32>,
    /// Which source row each ring slot holds.
    ring_rows: [u32; 2],
    /// One output row in f32 before conversion to f16.
    row_f32: Vec<f32>,
    /// RGB scratch for one 4:2:2 source row.
    scratch: Vec<u8>,
}

const EMPTY: u32 = u32::MAX;

impl Preprocessor {
    pub fn new(spec: PreprocessSpec) -> Self {
        let levels = spec.affine();
        let pad = levels.map(|(m, a)| f32::from(spec.pad_value) * m + a);
        let affine = levels.map(|(m, a)| (m / FIXED_ONE as f32, a));
        Self {
            spec,
            affine,
            pad,
            plan: Plan::default(),
            ring: Vec::new(),
            ring_rows: [EMPTY; 2],
            row_f32: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn spec(&self) -> &PreprocessSpec {
        &self.spec
    }

    /// One fused pass: resize + channel order + normalise + layout straight into `out`.
    ///
    /// Returns the source ↔ network transform of this frame. `out` must hold at least
    /// `spec.tensor_len()` elements; a shorter tensor is an engine/tensor-pool mismatch and
    /// returns `FrameError::Engine` without writing (as does a zero-sized spec).
    pub fn run(
        &mut self,
        image: &ImageView<'_>,
        out: TensorMut<'_>,
    ) -> Result<LetterboxTransform, FrameError> {
        let len = self.spec.tensor_len();
        if len == 0 {
            // A zero-sized network input cannot come from a validated config.
            return Err(FrameError::Engine);
        }
        self.prepare(image);
        match out {
            TensorMut::F32(t) => self.fill(image, t.get_mut(..len).ok_or(FrameError::Engine)?),
            TensorMut::F16(t) => self.fill(image, t.get_mut(..len).ok_or(FrameError::Engine)?),
        }
        Ok(self.transform(image))
    }

    /// The transform `run` returns for an image of this size, without running.
    pub fn transform(&self, image: &ImageView<'_>) -> LetterboxTransform {
        self.spec.transform(image.width(), image.height())
    }

    /// Rebuild tables and buffers when the source size or encoding changed.
    fn prepare(&mut self, image: &ImageView<'_>) {
        self.ring_rows = [EMPTY; 2];
        let key = (image.width(), image.height(), Some(image.encoding()));
        if self.plan.src == key {
            return;
        }
        let placement = self.spec.placement(key.0, key.1);
        let (rw, rh) = (placement.width, placement.height);
        let origin = (placement.x, placement.y);
        let plan = &mut self.plan;
        plan.src = key;
        plan.resized = (rw, rh);
        plan.origin = origin;
        plan.x_taps.rebuild(key.0, rw);
        plan.y_taps.rebuild(key.1, rh);
        let channels = ChannelMap::new(image.encoding(), self.spec.channel_order);
        self.scratch.resize(channels.scratch_len(key.0), 0);
        plan.channels = Some(channels);
        self.ring.resize(2 * 3 * rw as usize, 0.0);
        self.row_f32.resize(3 * rw as usize, 0.0);
    }

    fn fill<T: Element>(&mut self, image: &ImageView<'_>, out: &mut [T]) {
        let (dw, dh) = (self.spec.width as usize, self.spec.height as usize);
        let (rw, rh) = (self.plan.resized.0 as usize, self.plan.resized.1 as usize);
        let (ox, oy) = (self.plan.origin.0 as usize, self.plan.origin.1 as usize);
        let layout = self.spec.layout;
        self.fill_padding(out, layout, (dw, dh), (ox, oy), (rw, rh));
        let Some(channels) = self.plan.channels else {
            return;
        };
        for r in 0..rh {
            let (y0, y1) = (self.plan.y_taps.first[r], self.plan.y_taps.second[r]);
            let wy = self.plan.y_taps.weight[r];
            let s0 = self.load_row(image, channels, y0, None);
            // A zero weight means row y1 contributes nothing (exact ratios): skip resampling it.
            let s1 = if wy == 0.0 {
                s0
            } else {
                self.load_row(image, channels, y1, Some(s0))
            };
            let row_len = 3 * rw;
            let (a, b) = self.ring.split_at(row_len);
            let (top, bottom) = if s0 == 0 { (a, b) } else { (b, a) };
            let bottom = if s1 == s0 { top } else { bottom };
            let y = oy + r;
            let scratch = &mut self.row_f32;
            match layout {
                TensorLayout::Nchw => {
                    for (c, &(m, k)) in self.affine.iter().enumerate() {
                        let start = c * dw * dh + y * dw + ox;
                        let t = &top[c * rw..(c + 1) * rw];
                        let bt = &bottom[c * rw..(c + 1) * rw];
                        T::store(&mut out[start..start + rw], scratch, |dst| {
                            if wy == 0.0 {
                                for (d, &p) in dst.iter_mut().zip(t) {
                                    *d = p * m + k;
                                }
                            } else {
                                for ((d, &p), &q) in dst.iter_mut().zip(t).zip(bt) {
                                    *d = (p + (q - p) * wy) * m + k;
                                }
                            }
                        });
                    }
                }
                TensorLayout::Nhwc => {
                    let start = (y * dw + ox) * 3;
                    let [(m0, k0), (m1, k1), (m2, k2)] = self.affine;
                    let (t0, t12) = top.split_at(rw);
                    let (t1, t2) = t12.split_at(rw);
                    let (b0, b12) = bottom.split_at(rw);
                    let (b1, b2) = b12.split_at(rw);
                    T::store(&mut out[start..start + 3 * rw], scratch, |dst| {
                        for (x, px) in dst.chunks_exact_mut(3).enumerate() {
                            px[0] = (t0[x] + (b0[x] - t0[x]) * wy) * m0 + k0;
                            px[1] = (t1[x] + (b1[x] - t1[x]) * wy) * m1 + k1;
                            px[2] = (t2[x] + (b2[x] - t2[x]) * wy) * m2 + k2;
                        }
                    });
                }
            }
        }
    }

    /// Make sure source row `y` is resampled into a ring slot and return the slot. `keep` is a
    /// slot that must not be overwritten.
    fn load_row(
        &mut self,
        image: &ImageView<'_>,
        channels: ChannelMap,
        y: u32,
        keep: Option<usize>,
    ) -> usize {
        if let Some(slot) = self.ring_rows.iter().position(|&r| r == y) {
            return slot;
        }
        let slot = match keep {
            Some(k) => 1 - k,
            // Prefer the slot whose row is older (smaller index): rows advance downwards.
            None => match self.ring_rows {
                [EMPTY, _] => 0,
                [_, EMPTY] => 1,
                [a, b] => usize::from(b < a),
            },
        };
        let row_len = 3 * self.plan.x_taps.len();
        let dst = &mut self.ring[slot * row_len..(slot + 1) * row_len];
        channels.resample(image.row(y), &mut self.scratch, &self.plan.x_taps, dst);
        self.ring_rows[slot] = y;
        slot
    }

    fn fill_padding<T: Element>(
        &self,
        out: &mut [T],
        layout: TensorLayout,
        (dw, dh): (usize, usize),
        (ox, oy): (usize, usize),
        (rw, rh): (usize, usize),
    ) {
        if (rw, rh) == (dw, dh) {
            return;
        }
        let pad = self.pad.map(T::from_f32);
        let is_pad_row = |y: usize| y < oy || y >= oy + rh;
        match layout {
            TensorLayout::Nchw => {
                for (c, plane) in out.chunks_exact_mut(dw * dh).enumerate() {
                    for (y, row) in plane.chunks_exact_mut(dw).enumerate() {
                        if is_pad_row(y) {
                            row.fill(pad[c]);
                        } else {
                            row[..ox].fill(pad[c]);
                            row[ox + rw..].fill(pad[c]);
                        }
                    }
                }
            }
            TensorLayout::Nhwc => {
                for (y, row) in out.chunks_exact_mut(dw * 3).enumerate() {
                    let (left, right) = if is_pad_row(y) {
                        (dw, dw)
                    } else {
                        (ox, ox + rw)
                    };
                    for (x, px) in row.chunks_exact_mut(3).enumerate() {
                        if x < left || x >= right {
                            px.copy_from_slice(&pad);
                        }
                    }
                }
            }
        }
    }
}
