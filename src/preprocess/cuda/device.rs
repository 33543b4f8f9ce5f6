//! The CUDA device, its dedicated stream, pinned host staging buffers and event-based GPU
//! stage timing. Opening checks that libcuda is present before any CUDA call.

use std::sync::Arc;

use cudarc::driver::{sys, CudaContext, CudaEvent, CudaStream, PinnedHostSlice};

use super::error::GpuError;

/// What `redline check` prints about the device.
#[derive(Clone, Debug, PartialEq)]
pub struct GpuInfo {
    pub ordinal: usize,
    pub name: String,
    pub compute_capability: (i32, i32),
    pub total_memory_bytes: usize,
}

/// One CUDA device with one dedicated (non-default) stream for a pipeline.
pub struct GpuContext {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    info: GpuInfo,
}

impl GpuContext {
    /// Opens device `ordinal`: fails cleanly (never panics) when libcuda or a device is absent.
    pub fn open(ordinal: usize) -> Result<Self, GpuError> {
        if !Self::driver_present() {
            return Err(GpuError::NoDriver);
        }
        let count =
            CudaContext::device_count().map_err(|e| GpuError::driver("cuDeviceGetCount", e))?;
        if count <= 0 || ordinal >= count as usize {
            return Err(GpuError::NoDevice(count));
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| GpuError::driver("cuCtxCreate", e))?;
        let stream = ctx
            .new_stream()
            .map_err(|e| GpuError::driver("cuStreamCreate", e))?;
        let info = GpuInfo {
            ordinal,
            name: ctx
                .name()
                .map_err(|e| GpuError::driver("cuDeviceGetName", e))?,
            compute_capability: ctx
                .compute_capability()
                .map_err(|e| GpuError::driver("cuDeviceGetAttribute", e))?,
            total_memory_bytes: ctx
                .total_mem()
                .map_err(|e| GpuError::driver("cuDeviceTotalMem", e))?,
        };
        Ok(Self { ctx, stream, info })
    }

    /// Whether the CUDA driver library can be loaded (no CUDA call is made).
    pub fn driver_present() -> bool {
        // SAFETY: only tries to open the shared library.
        unsafe { sys::is_culib_present() }
    }

    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// The pipeline's dedicated stream (never the legacy default stream).
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    pub fn info(&self) -> &GpuInfo {
        &self.info
    }

    /// NVRTC virtual architecture matching this device, e.g. `compute_87`.
    pub fn nvrtc_arch(&self) -> Option<&'static str> {
        const ARCHES: [(i32, i32, &str); 10] = [
            (9, 0, "compute_90"),
            (8, 9, "compute_89"),
            (8, 7, "compute_87"),
            (8, 6, "compute_86"),
            (8, 0, "compute_80"),
            (7, 5, "compute_75"),
            (7, 2, "compute_72"),
            (7, 0, "compute_70"),
            (6, 1, "compute_61"),
            (5, 2, "compute_52"),
        ];
        let cc = self.info.compute_capability;
        ARCHES
            .iter()
            .find(|(ma, mi, _)| (*ma, *mi) <= cc)
            .map(|(_, _, a)| *a)
    }

    /// Blocks until all work queued on the stream has finished.
    pub fn synchronize(&self) -> Result<(), GpuError> {
        self.stream
            .synchronize()
            .map_err(|e| GpuError::driver("cuStreamSynchronize", e))
    }
}

/// How the CPU uses a pinned buffer; decides the allocation flags explicitly.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PinnedUse {
    /// The CPU only writes (camera bytes going up): write-combined is fastest for that.
    Upload,
    /// The CPU reads it (engine outputs coming back): cached memory; write-combined reads are
    /// uncached and an order of magnitude slower.
    Readback,
}

/// Page-locked host memory allocated once at start-up.
pub struct PinnedBuffer<T: cudarc::driver::DeviceRepr> {
    slice: PinnedHostSlice<T>,
    usage: PinnedUse,
}

impl<T: cudarc::driver::DeviceRepr + cudarc::driver::ValidAsZeroBits> PinnedBuffer<T> {
    pub fn new(gpu: &GpuContext, len: usize, usage: PinnedUse) -> Result<Self, GpuError> {
        let flags = match usage {
            PinnedUse::Upload => sys::CU_MEMHOSTALLOC_WRITECOMBINED,
            PinnedUse::Readback => 0,
        };
        // SAFETY: the memory is zeroed below before anyone reads it.
        let mut slice = unsafe { gpu.ctx.alloc_pinned_with_flags::<T>(len, flags) }
            .map_err(|e| GpuError::driver("cuMemHostAlloc", e))?;
        let ptr = slice
            .as_mut_ptr()
            .map_err(|e| GpuError::driver("cuEventSynchronize", e))?;
        // SAFETY: `ptr` is valid for `len` elements and T is valid as zero bits.
        unsafe { std::ptr::write_bytes(ptr, 0, len) };
        Ok(Self { slice, usage })
    }
    pub fn usage(&self) -> PinnedUse {
        self.usage
    }

    pub fn len(&self) -> usize {
        self.slice.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slice.is_empty()
    }

    /// Host view (waits for pending GPU copies into/out of the buffer first).
    pub fn as_mut_slice(&mut self) -> Result<&mut [T], cudarc::driver::DriverError> {
        self.slice.as_mut_slice()
    }

    pub fn as_slice(&self) -> Result<&[T], cudarc::driver::DriverError> {
        self.slice.as_slice()
    }
}

/// A pair of events around GPU work on a stream: elapsed GPU time without host sync per stage.
pub struct StageTimer {
    start: CudaEvent,
    end: CudaEvent,
    recorded: bool,
}

impl StageTimer {
    pub fn new(gpu: &GpuContext) -> Result<Self, GpuError> {
        let make = || {
            gpu.ctx
                .new_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT))
                .map_err(|e| GpuError::driver("cuEventCreate", e))
        };
        Ok(Self {
            start: make()?,
            end: make()?,
            recorded: false,
        })
    }

    pub fn start(&mut self, stream: &CudaStream) -> Result<(), cudarc::driver::DriverError> {
        self.recorded = false;
        self.start.record(stream)
    }

    pub fn stop(&mut self, stream: &CudaStream) -> Result<(), cudarc::driver::DriverError> {
        self.end.record(stream)?;
        self.recorded = true;
        Ok(())
    }

    /// GPU milliseconds between `start` and `stop`, once the work has completed.
    pub fn elapsed_ms(&self) -> Option<f32> {
        if !self.recorded || !self.end.is_complete() {
            return None;
        }
        self.start.elapsed_ms(&self.end).ok()
    }
}
