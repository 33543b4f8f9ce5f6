//! [`CudaPreprocessor`]: frame bytes → pinned staging → device → fused kernel → engine input.
//! Everything is allocated in `new`; `run` only copies, enqueues and returns (asynchronous on
//! the pipeline's stream).

use std::sync::Arc;

use cudarc::driver::{
    result, sys, CudaEvent, CudaFunction, CudaSlice, CudaStream, DevicePtr, LaunchConfig,
    PushKernelArg,
};

use super::device::{GpuContext, PinnedBuffer, PinnedUse, StageTimer};
use super::error::GpuError;
use super::geometry::KernelGeometry;
use super::kernel::{compile_kernel_ptx, KernelParams, KERNEL_NAME};
use crate::config::{ChannelOrder, TensorDType, TensorLayout};
use crate::error::{BadInputKind, FrameError};
use crate::frame::{ImageLimits, ImageView, LetterboxTransform, PixelEncoding};
use crate::preprocess::PreprocessSpec;

/// A device tensor the kernel writes into (usually the TensorRT engine's input binding).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DeviceTensor {
    /// `CUdeviceptr` of the first element.
    pub ptr: u64,
    /// Capacity in elements.
    pub len: usize,
    pub dtype: TensorDType,
}

/// The GPU preprocessing pass for one pipeline.
pub struct CudaPreprocessor {
    spec: PreprocessSpec,
    stream: Arc<CudaStream>,
    function: CudaFunction,
    staging: PinnedBuffer<u8>,
    source: CudaSlice<u8>,
    /// Recorded after each upload: the staging buffer may be rewritten once it completes.
    staging_free: CudaEvent,
    timer: StageTimer,
    geometry: Option<(u32, u32, KernelGeometry)>,
    mul: [f32; 3],
    add: [f32; 3],
}

impl CudaPreprocessor {
    /// Compiles the kernel for this device and allocates staging for the largest allowed frame.
    pub fn new(
        gpu: &GpuContext,
        spec: PreprocessSpec,
        limits: ImageLimits,
    ) -> Result<Self, GpuError> {
        if spec.width == 0 || spec.height == 0 {
            return Err(GpuError::Invalid(format!(
                "network input {}x{} has a zero dimension",
                spec.width, spec.height
            )));
        }
        let max_bytes = limits.max_width as usize * limits.max_height as usize * 4;
        let ptx = compile_kernel_ptx(gpu.nvrtc_arch())?;
        let module = gpu
            .context()
            .load_module(ptx)
            .map_err(|e| GpuError::driver("cuModuleLoadData", e))?;
        let function = module
            .load_function(KERNEL_NAME)
            .map_err(|e| GpuError::driver("cuModuleGetFunction", e))?;
        let stream = gpu.stream().clone();
        let source = stream
            .alloc_zeros::<u8>(max_bytes)
            .map_err(|e| GpuError::driver("cuMemAlloc", e))?;
        let staging = PinnedBuffer::new(gpu, max_bytes, PinnedUse::Upload)?;
        let staging_free = gpu
            .context()
            .new_event(Some(sys::CUevent_flags::CU_EVENT_DISABLE_TIMING))
            .map_err(|e| GpuError::driver("cuEventCreate", e))?;
        staging_free
            .record(&stream)
            .map_err(|e| GpuError::driver("cuEventRecord", e))?;
        let affine = spec.affine();
        let mul = affine.map(|(m, _)| m);
        let add = affine.map(|(_, a)| a);
        Ok(Self {
            spec,
            stream,
            function,
            staging,
            source,
            staging_free,
            timer: StageTimer::new(gpu)?,
            geometry: None,
            mul,
            add,
        })
    }

    pub fn spec(&self) -> &PreprocessSpec {
        &self.spec
    }

    /// GPU time of the last completed `run` (upload + kernel), if it has finished.
    pub fn last_gpu_ms(&self) -> Option<f32> {
        self.timer.elapsed_ms()
    }

    /// Enqueues upload + kernel writing into `dst`; returns the network→source transform.
    /// Asynchronous: synchronise the stream (or enqueue inference on it) before reading `dst`.
    pub fn run(
        &mut self,
        image: &ImageView<'_>,
        dst: &DeviceTensor,
    ) -> Result<LetterboxTransform, FrameError> {
        if dst.dtype != self.spec.dtype || dst.len < self.spec.tensor_len() {
            return Err(FrameError::Engine);
        }
        let (w, h) = (image.width(), image.height());
        let row_bytes = image.row(0).len();
        let total = row_bytes * h as usize;
        if row_bytes == 0 || total > self.staging.len() {
            return Err(FrameError::BadInput(BadInputKind::TooLarge));
        }
        // The previous upload must have left the staging buffer before we overwrite it.
        self.staging_free
            .synchronize()
            .map_err(|_| FrameError::Engine)?;
        {
            let staging = self
                .staging
                .as_mut_slice()
                .map_err(|_| FrameError::Engine)?;
            for (y, chunk) in staging[..total].chunks_exact_mut(row_bytes).enumerate() {
                chunk.copy_from_slice(image.row(y as u32));
            }
        }
        let geometry = match self.geometry {
            Some((gw, gh, g)) if gw == w && gh == h => g,
            _ => {
                let g = KernelGeometry::compute(&self.spec, w, h);
                self.geometry = Some((w, h, g));
                g
            }
        };
        self.timer
            .start(&self.stream)
            .map_err(|_| FrameError::Engine)?;
        let src_ptr = {
            let (ptr, _sync) = self.source.device_ptr(&self.stream);
            ptr
        };
        {
            let staging = self.staging.as_slice().map_err(|_| FrameError::Engine)?;
            // SAFETY: `source` holds at least `staging.len()` bytes; the staging buffer stays
            // untouched until `staging_free` (recorded right after) has completed.
            unsafe {
                result::memcpy_htod_async(src_ptr, &staging[..total], self.stream.cu_stream())
            }
            .map_err(|_| FrameError::Engine)?;
        }
        self.staging_free
            .record(&self.stream)
            .map_err(|_| FrameError::Engine)?;
        let params = self.params(image, row_bytes, &geometry, src_ptr, dst.ptr);
        let config = LaunchConfig {
            grid_dim: (
                self.spec.width.div_ceil(16),
                self.spec.height.div_ceil(16),
                1,
            ),
            block_dim: (16, 16, 1),
            shared_mem_bytes: 0,
        };
        let mut launch = self.stream.launch_builder(&self.function);
        launch.arg(&params);
        // SAFETY: the kernel reads `total` bytes of `source` and writes `output_len` elements
        // of `dst` (checked above); the params block matches the CUDA struct.
        unsafe { launch.launch(config) }.map_err(|_| FrameError::Engine)?;
        self.timer
            .stop(&self.stream)
            .map_err(|_| FrameError::Engine)?;
        Ok(geometry.transform)
    }

    fn params(
        &self,
        image: &ImageView<'_>,
        row_bytes: usize,
        g: &KernelGeometry,
        src: u64,
        dst: u64,
    ) -> KernelParams {
        KernelParams {
            src,
            dst,
            src_w: image.width() as i32,
            src_h: image.height() as i32,
            src_step: row_bytes as i32,
            encoding: encoding_code(image.encoding()),
            dst_w: self.spec.width as i32,
            dst_h: self.spec.height as i32,
            roi_x: g.roi_x as i32,
            roi_y: g.roi_y as i32,
            roi_w: g.roi_w as i32,
            roi_h: g.roi_h as i32,
            src_per_dst_x: g.src_per_dst_x,
            src_per_dst_y: g.src_per_dst_y,
            nhwc: i32::from(self.spec.layout == TensorLayout::Nhwc),
            f16: i32::from(self.spec.dtype == TensorDType::F16),
            bgr_out: i32::from(self.spec.channel_order == ChannelOrder::Bgr),
            pad: f32::from(self.spec.pad_value),
            mul: self.mul,
            add: self.add,
        }
    }
}

/// The kernel's encoding switch value.
pub(crate) const fn encoding_code(encoding: PixelEncoding) -> i32 {
    match encoding {
        PixelEncoding::Rgb8 => 0,
        PixelEncoding::Bgr8 => 1,
        PixelEncoding::Rgba8 => 2,
        PixelEncoding::Bgra8 => 3,
        PixelEncoding::Mono8 => 4,
        PixelEncoding::Uyvy => 5,
        PixelEncoding::Yuyv => 6,
    }
}
