//! Start-up errors of the CUDA layer (strings allowed: never on the per-frame path).

/// Why the GPU path could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no CUDA driver library (libcuda.so) found: install the NVIDIA driver or use backend: tract")]
    NoDriver,
    #[error("no CUDA device: the driver reports {0} devices")]
    NoDevice(i32),
    #[error("no NVRTC library (libnvrtc.so) found: install the CUDA runtime compiler to build the preprocessing kernel")]
    NoNvrtc,
    #[error("CUDA driver call failed during {during}: {message}")]
    Driver {
        during: &'static str,
        message: String,
    },
    #[error("NVRTC could not compile the preprocessing kernel: {0}")]
    Compile(String),
    #[error("invalid GPU preprocessing setup: {0}")]
    Invalid(String),
}

impl GpuError {
    pub(crate) fn driver(during: &'static str, err: cudarc::driver::DriverError) -> Self {
        GpuError::Driver {
            during,
            message: format!("{err:?}"),
        }
    }
}
