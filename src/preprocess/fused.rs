//! [`Preprocessor`]: the fused pass. For each output row of the resized region it hands the
//! row kernel ([`Kernel`]) the two source rows that row blends; the kernel reads the four
//! source taps of every output pixel straight from the image bytes and writes normalised values
//! into the tensor (NCHW f32 in place; NHWC or f16 through one reserved row). Letterbox padding
//! is written directly. Every table and buffer is reserved in [`Preprocessor::new`] for the
//! network size, so `run` never allocates, whatever the source size.

use half::f16;

use super::kernel::{Kernel, KernelUnsupported, RowJob, RowTaps};
use super::output::{fill_padding, store_pixels, Element, RowBuffers};
use super::source_format::SourceFormat;
use super::spec::PreprocessSpec;
use super::taps::AxisTaps;
use crate::config::{ChannelOrder, TensorLayout};
use crate::error::FrameError;
use crate::frame::{ImageView, LetterboxTransform, PixelEncoding};

/// The engine input tensor to fill: exactly one image's `spec.tensor_len()` elements (one row
/// of a batched input is fine; elements past `tensor_len()` are never touched).
pub enum TensorMut<'a> {
    F32(&'a mut [f32]),
    F16(&'a mut [f16]),
}

/// Geometry of one source size and encoding: where the resized image sits and how it samples
/// the source.
struct Plan {
    src: Option<(u32, u32, PixelEncoding)>,
    /// Resized image size and its top-left corner on the canvas.
    resized: (usize, usize),
    origin: (usize, usize),
    format: SourceFormat,
    x_axis: AxisTaps,
    x_taps: RowTaps,
    y_taps: AxisTaps,
}

/// The fused preprocessor for one network input spec.
pub struct Preprocessor {
    spec: PreprocessSpec,
    kernel: Kernel,
    /// Per network channel `(mul, add)`: `value = level × mul + add`.
    affine: [(f32, f32); 3],
    pad: [f32; 3],
    plan: Plan,
    buffers: RowBuffers,
}

impl Preprocessor {
    /// The preprocessor for `spec`, with the fastest row kernel this CPU runs.
    pub fn new(spec: PreprocessSpec) -> Self {
        let kernel = Kernel::best();
        let width = spec.width as usize;
        let affine = spec.affine();
        Self {
            spec,
            kernel,
            affine,
            pad: affine.map(|(m, a)| f32::from(spec.pad_value) * m + a),
            plan: Plan {
                src: None,
                resized: (0, 0),
                origin: (0, 0),
                format: SourceFormat::new(PixelEncoding::Rgb8, ChannelOrder::Rgb),
                x_axis: AxisTaps::with_capacity(width),
                x_taps: RowTaps::with_capacity(width),
                y_taps: AxisTaps::with_capacity(spec.height as usize),
            },
            buffers: RowBuffers::new(width),
        }
    }

    /// The preprocessor for `spec` with a chosen row kernel (benchmarks, tests), or the error
    /// naming the CPU features the kernel needs.
    pub fn with_kernel(spec: PreprocessSpec, kernel: Kernel) -> Result<Self, KernelUnsupported> {
        let mut pre = Self::new(spec);
        pre.kernel = kernel.checked()?;
        Ok(pre)
    }

    pub fn spec(&self) -> &PreprocessSpec {
        &self.spec
    }

    /// The row kernel this preprocessor runs.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// One fused pass: resize + channel order + normalise + layout straight into `out`.
    ///
    /// Returns the source ↔ network transform of this frame. `out` must hold at least
    /// `spec.tensor_len()` elements (only those are written); a shorter tensor is an
    /// engine/tensor-pool mismatch and returns `FrameError::Engine` without writing (as does a
    /// zero-sized spec).
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
        match out {
            TensorMut::F32(t) => {
                let t = t.get_mut(..len).ok_or(FrameError::Engine)?;
                self.prepare(image);
                self.fill(image, t);
            }
            TensorMut::F16(t) => {
                let t = t.get_mut(..len).ok_or(FrameError::Engine)?;
                self.prepare(image);
                self.fill(image, t);
            }
        }
        Ok(self.transform(image))
    }

    /// The transform `run` returns for an image of this size, without running.
    pub fn transform(&self, image: &ImageView<'_>) -> LetterboxTransform {
        self.spec.transform(image.width(), image.height())
    }

    /// Rebuild the tables when the source size or encoding changed (within the capacity
    /// reserved in `new`: no allocation).
    fn prepare(&mut self, image: &ImageView<'_>) {
        let key = (image.width(), image.height(), image.encoding());
        if self.plan.src == Some(key) {
            return;
        }
        let placement = self.spec.placement(key.0, key.1);
        let plan = &mut self.plan;
        plan.src = Some(key);
        plan.resized = (placement.width as usize, placement.height as usize);
        plan.origin = (placement.x as usize, placement.y as usize);
        plan.format = SourceFormat::new(key.2, self.spec.channel_order);
        plan.x_axis.rebuild(key.0, placement.width);
        plan.x_taps.rebuild(&plan.x_axis, plan.format, key.0);
        plan.y_taps.rebuild(key.1, placement.height);
    }

    fn fill<T: Element>(&mut self, image: &ImageView<'_>, out: &mut [T]) {
        let (dw, dh) = (self.spec.width as usize, self.spec.height as usize);
        let Self {
            spec,
            kernel,
            affine,
            pad,
            plan,
            buffers,
        } = self;
        let (rw, rh) = plan.resized;
        let (ox, oy) = plan.origin;
        fill_padding(out, spec.layout, *pad, (dw, dh), (ox, oy), (rw, rh));
        let y_taps = plan.y_taps.first.iter().zip(&plan.y_taps.second);
        for (r, ((&y0, &y1), &wy)) in y_taps.zip(&plan.y_taps.weight).enumerate() {
            let job = RowJob {
                format: plan.format,
                taps: &plan.x_taps,
                top: image.row(y0),
                bottom: image.row(y1),
                wy: if y0 == y1 { 0.0 } else { wy },
                affine: *affine,
            };
            let compute = |dst: [&mut [f32]; 3]| kernel.run_row(&job, dst);
            let y = oy + r;
            match spec.layout {
                TensorLayout::Nchw => {
                    let Some(dst) = plane_rows(out, dw * dh, y * dw + ox, rw) else {
                        return;
                    };
                    T::store_planes(dst, buffers, compute);
                }
                TensorLayout::Nhwc => {
                    let start = (y * dw + ox) * 3;
                    let Some(dst) = out.get_mut(start..start + 3 * rw) else {
                        return;
                    };
                    store_pixels(dst, buffers, compute);
                }
            }
        }
    }
}

/// The rows `start .. start + len` of the three `plane`-sized planes of an NCHW tensor.
fn plane_rows<T>(out: &mut [T], plane: usize, start: usize, len: usize) -> Option<[&mut [T]; 3]> {
    let (p0, rest) = out.split_at_mut_checked(plane)?;
    let (p1, p2) = rest.split_at_mut_checked(plane)?;
    let range = start..start + len;
    Some([
        p0.get_mut(range.clone())?,
        p1.get_mut(range.clone())?,
        p2.get_mut(range)?,
    ])
}
