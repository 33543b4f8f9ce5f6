//! The TensorRT backend (feature `tensorrt`): our own thin binding over TensorRT ≥ 10 through
//! a C++ shim (cpp/trt_shim.cpp), libnvinfer loaded with `dlopen` at run time, an engine cache,
//! engine building from ONNX, and the description `redline check` prints.
//!
//! Start-up order: CUDA driver present and a device opened (never panics) → libnvinfer loaded
//! and its major checked against the shim's → cached engine verified (never rebuilt silently)
//! → deserialized and checked against the model contract → warm-up + CUDA graph capture.

// Without the C++ shim (no TensorRT headers at build time) the FFI half is compiled out.
#![cfg_attr(not(redline_trt_shim), allow(dead_code, unused_imports))]

mod backend;
mod cache;
mod engine;
mod error;
mod library;
mod shim;

use std::path::PathBuf;
use std::sync::Arc;

pub use backend::{TensorRtBackend, TensorRtEngine};
pub use cache::{
    precision_name, sha256_file, write_atomically, CacheState, EngineCache, EngineCacheKey,
};
pub use engine::{expected_input_shape, input_shape_compatible, IoTensor, LaunchMode, TrtEngine};
pub use error::TrtError;
pub use library::{check_version, OnnxParserLibrary, TrtLibrary, TrtVersion, SUPPORTED_MAJORS};
pub use shim::SHIM_BUILT;

use crate::config::{Config, ModelConfig, Precision};
use crate::preprocess::cuda::{GpuContext, GpuInfo};

/// The cache key for `config` on this GPU and TensorRT version.
pub fn cache_key(
    model: &ModelConfig,
    gpu: &GpuInfo,
    version: TrtVersion,
) -> Result<EngineCacheKey, TrtError> {
    let onnx_sha256 = sha256_file(&model.path).map_err(|e| TrtError::Cache {
        path: model.path.clone(),
        message: format!("cannot hash the ONNX model: {e}"),
    })?;
    Ok(EngineCacheKey {
        onnx_sha256,
        tensorrt_version: version.to_string(),
        gpu_name: gpu.name.clone(),
        compute_capability: gpu.compute_capability,
        precision: precision_name(model.precision).to_string(),
        input_shape: expected_input_shape(model),
        batch_range: batch_range(model),
    })
}

/// The optimisation profile's batch range for `model`: min 1, opt = max = `model.max_batch`.
pub fn batch_range(model: &ModelConfig) -> [i64; 3] {
    let max = model.max_batch.max(1) as i64;
    [1, max, max]
}

fn cache_for(model: &ModelConfig) -> EngineCache {
    EngineCache::new(&model.engine_cache_dir, &model.path)
}

/// Builds (or confirms up to date) the engine for `config`; `redline engine build` calls this.
/// Returns the engine path and whether it was built now (false: the cache was already fresh).
pub fn build_engine(config: &Config) -> Result<(PathBuf, bool), TrtError> {
    let gpu = GpuContext::open(0)?;
    let library = TrtLibrary::load()?;
    let key = cache_key(&config.model, gpu.info(), library.version)?;
    let cache = cache_for(&config.model);
    if let CacheState::Fresh(path) = cache.lookup(&key) {
        return Ok((path, false));
    }
    let parser = OnnxParserLibrary::load()?;
    let plan = match build_plan(&library, &parser, config, config.model.max_batch) {
        Ok(plan) => plan,
        // A model whose graph pins the batch builds for one row; loading then says so.
        Err(e) if config.model.max_batch > 1 => {
            tracing::warn!(
                max_batch = config.model.max_batch,
                "the model does not build with a batch range ({e}); building for one row"
            );
            build_plan(&library, &parser, config, 1)?
        }
        Err(e) => return Err(e),
    };
    let path = cache.store(&key, &plan).map_err(|e| TrtError::Cache {
        path: cache.engine_path(&key),
        message: format!("cannot write: {e}"),
    })?;
    Ok((path, true))
}

#[cfg_attr(not(redline_trt_shim), allow(unused_variables))]
fn build_plan(
    library: &TrtLibrary,
    parser: &OnnxParserLibrary,
    config: &Config,
    max_batch: usize,
) -> Result<Vec<u8>, TrtError> {
    #[cfg(not(redline_trt_shim))]
    {
        Err(TrtError::ShimNotBuilt)
    }
    #[cfg(redline_trt_shim)]
    {
        use std::ffi::{c_char, c_void, CString};
        let path = CString::new(config.model.path.to_string_lossy().as_bytes()).map_err(|_| {
            TrtError::Cache {
                path: config.model.path.clone(),
                message: "path contains a NUL byte".into(),
            }
        })?;
        let mut err = [0 as c_char; 512];
        let mut blob: *const c_void = std::ptr::null();
        let mut size = 0usize;
        let row = expected_input_shape(&config.model);
        let max_batch = i32::try_from(max_batch.max(1)).unwrap_or(1);
        // SAFETY: the factory addresses come from the loaded libraries; out-params are valid;
        // `row` outlives the call and holds `row.len()` dims.
        let handle = unsafe {
            shim::redline_trt_build_from_onnx(
                library.create_builder,
                parser.create_parser,
                path.as_ptr(),
                i32::from(config.model.precision == Precision::Fp16),
                max_batch,
                row.as_ptr(),
                row.len() as i32,
                &mut blob,
                &mut size,
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if handle.is_null() || blob.is_null() {
            return Err(TrtError::Runtime {
                during: "engine build from ONNX",
                message: shim::message(&err),
            });
        }
        // SAFETY: `blob` points to `size` bytes owned by `handle` until it is destroyed.
        let plan = unsafe { std::slice::from_raw_parts(blob.cast::<u8>(), size) }.to_vec();
        // SAFETY: handle came from redline_trt_build_from_onnx.
        unsafe { shim::redline_trt_blob_destroy(handle) };
        Ok(plan)
    }
}

/// Loads the cached engine for `config` and warms it up. Refuses (with the reason and the
/// command to fix it) when the cache is missing, stale or corrupt: never rebuilds on start.
pub fn load_engine(model: &ModelConfig) -> Result<TrtEngine, TrtError> {
    let gpu = Arc::new(GpuContext::open(0)?);
    let library = Arc::new(TrtLibrary::load()?);
    let key = cache_key(model, gpu.info(), library.version)?;
    let cache = cache_for(model);
    let path = match cache.lookup(&key) {
        CacheState::Fresh(path) => path,
        CacheState::Missing { stale } if stale.is_empty() => {
            return Err(TrtError::Cache {
                path: cache.engine_path(&key),
                message: "no engine built for this model/GPU/TensorRT; run `redline engine build`"
                    .into(),
            })
        }
        CacheState::Missing { stale } => {
            return Err(TrtError::StaleCache {
                path: stale[0].0.clone(),
                reason: stale[0].1.clone(),
            })
        }
        CacheState::Corrupt { path, reason } => return Err(TrtError::StaleCache { path, reason }),
    };
    let plan = std::fs::read(&path).map_err(|e| TrtError::Cache {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut engine = TrtEngine::load(gpu, library, &plan, model)?;
    engine.warm_up()?;
    Ok(engine)
}

/// What `redline check` prints for the TensorRT backend; every part is probed without panics.
#[derive(Clone, Debug)]
pub struct TrtDescription {
    pub shim_major: Option<i32>,
    pub gpu: Result<GpuInfo, String>,
    pub tensorrt: Result<TrtVersion, String>,
    pub cache: String,
}

/// Probes the GPU, the TensorRT library and the engine cache for `config`.
pub fn describe(config: &Config) -> TrtDescription {
    let gpu = GpuContext::open(0)
        .map(|g| g.info().clone())
        .map_err(|e| e.to_string());
    let library = TrtLibrary::load();
    let tensorrt = library
        .as_ref()
        .map(|l| l.version)
        .map_err(|e| e.to_string());
    let cache = match (&gpu, &tensorrt) {
        (Ok(info), Ok(version)) => match cache_key(&config.model, info, *version) {
            Ok(key) => cache_for(&config.model).lookup(&key).describe(),
            Err(e) => e.to_string(),
        },
        _ => format!(
            "unknown until GPU and TensorRT are available (directory {})",
            config.model.engine_cache_dir.display()
        ),
    };
    TrtDescription {
        shim_major: shim::shim_major(),
        gpu,
        tensorrt,
        cache,
    }
}

impl std::fmt::Display for TrtDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "backend: tensorrt")?;
        match self.shim_major {
            Some(m) => writeln!(f, "  shim: built for TensorRT {m}.x")?,
            None => writeln!(
                f,
                "  shim: built without the TensorRT shim (no headers at build time)"
            )?,
        }
        match &self.gpu {
            Ok(g) => writeln!(
                f,
                "  gpu: {} (compute {}.{}, {} MiB)",
                g.name,
                g.compute_capability.0,
                g.compute_capability.1,
                g.total_memory_bytes >> 20
            )?,
            Err(e) => writeln!(f, "  gpu: unavailable: {e}")?,
        }
        match &self.tensorrt {
            Ok(v) => writeln!(f, "  tensorrt: {v}")?,
            Err(e) => writeln!(f, "  tensorrt: unavailable: {e}")?,
        }
        write!(f, "  engine cache: {}", self.cache)
    }
}
