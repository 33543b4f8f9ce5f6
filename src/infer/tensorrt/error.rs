//! Start-up errors of the TensorRT backend (never on the per-frame path).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrtError {
    #[error("redline was built without the TensorRT shim (no TensorRT headers at build time); rebuild with TENSORRT_INCLUDE_DIR and CUDA_INCLUDE_DIR set, or use backend: tract")]
    ShimNotBuilt,
    #[error(
        "cannot load {library}: {message} (install TensorRT {supported} or set LD_LIBRARY_PATH)"
    )]
    LibraryMissing {
        library: String,
        message: String,
        supported: String,
    },
    #[error("{library} lacks symbol {symbol}: {message}")]
    SymbolMissing {
        library: String,
        symbol: &'static str,
        message: String,
    },
    #[error("TensorRT {found} is not supported by this build: the shim was compiled against TensorRT {shim_major}.x headers (ILogger's ABI differs between majors); supported majors: {supported}")]
    UnsupportedVersion {
        found: String,
        shim_major: i32,
        supported: String,
    },
    #[error("CUDA is not usable, so TensorRT cannot start: {0}")]
    Cuda(#[from] crate::preprocess::cuda::GpuError),
    #[error("TensorRT {during} failed: {message}")]
    Runtime {
        during: &'static str,
        message: String,
    },
    #[error("engine contract: {0}")]
    Contract(String),
    #[error("engine cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
    #[error("engine cache {path} is stale ({reason}); rebuild it with `redline engine build`")]
    StaleCache { path: PathBuf, reason: String },
}
