//! The fused preprocessing pass on an NVIDIA GPU (feature `cuda`): raw frame bytes are copied
//! into pinned host memory, uploaded on a dedicated stream and turned by one CUDA kernel
//! (compiled with NVRTC at start-up) straight into the engine's device input tensor.
//!
//! Nothing here touches CUDA before [`GpuContext::open`] has checked that the driver library is
//! present (`cudarc`'s `CudaContext::new` panics without it).

mod device;
mod error;
mod geometry;
mod kernel;
mod preprocessor;

pub use device::{GpuContext, GpuInfo, PinnedBuffer, PinnedUse, StageTimer};
pub use error::GpuError;
pub use geometry::KernelGeometry;
pub use kernel::{compile_kernel_ptx, KernelParams, KERNEL_NAME, KERNEL_SOURCE};
pub use preprocessor::{CudaPreprocessor, DeviceTensor};
