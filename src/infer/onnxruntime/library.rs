//! Finding and loading the ONNX Runtime shared library, once per process, without panics.
//!
//! The path comes from `model.onnxruntime_library`, else `$ORT_DYLIB_PATH`; it must exist and be
//! a file. Before `ort` sees it, the library is opened here and asked for its version through
//! `OrtGetApiBase` (so a wrong file, a library without that symbol or one older than the API
//! this build needs is a clear error); only then is `ort::init_from` called — `ort` itself would
//! panic on a bad `ORT_DYLIB_PATH`. ONNX Runtime allows one library and one environment per
//! process: a second, different path is refused with both paths named.

use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::config::ModelConfig;
use crate::infer::ModelError;

/// The environment variable read when `model.onnxruntime_library` is not set.
pub const LIBRARY_ENV: &str = "ORT_DYLIB_PATH";

/// The oldest ONNX Runtime this build talks to (`ort`'s minimum C API version, 1.17).
pub const MIN_MINOR: u32 = ort::MINOR_VERSION;

/// The loaded library: where from, its version and the process's ONNX Runtime environment.
#[derive(Debug)]
pub struct OrtLibrary {
    pub path: PathBuf,
    pub version: String,
    pub environment: Environment,
}

static LOADED: OnceLock<OrtLibrary> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

/// Where the library is configured to be: `model.onnxruntime_library`, else `$ORT_DYLIB_PATH`.
/// The `&str` names where the path came from, for messages.
pub fn configured_path(config: &ModelConfig) -> Result<(PathBuf, &'static str), ModelError> {
    if let Some(path) = &config.onnxruntime_library {
        return Ok((path.clone(), "model.onnxruntime_library"));
    }
    match std::env::var_os(LIBRARY_ENV) {
        Some(p) if !p.is_empty() => Ok((PathBuf::from(p), LIBRARY_ENV)),
        _ => Err(ModelError::Library {
            path: "(not set)".into(),
            detail: format!(
                "no ONNX Runtime library configured: set model.onnxruntime_library or {LIBRARY_ENV} to libonnxruntime.so (an ONNX Runtime release, or the `onnxruntime` Python wheel's onnxruntime/capi/libonnxruntime.so.1.*)"
            ),
        }),
    }
}

/// Load (once) the library `config` points at and return it.
pub fn load(config: &ModelConfig) -> Result<&'static OrtLibrary, ModelError> {
    let (path, source) = configured_path(config)?;
    load_path(&path, source)
}

/// Load (once) the library at `path` (`source` names the setting it came from).
pub fn load_path(path: &Path, source: &str) -> Result<&'static OrtLibrary, ModelError> {
    let err = |detail: String| ModelError::Library {
        path: path.display().to_string(),
        detail,
    };
    if !path.is_file() {
        return Err(err(format!(
            "file not found ({source}); point it at libonnxruntime.so"
        )));
    }
    let path = path
        .canonicalize()
        .map_err(|e| err(format!("cannot resolve the path ({source}): {e}")))?;
    // One loader at a time; the first success is kept for the life of the process.
    let _guard = LOADING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(lib) = LOADED.get() {
        return if lib.path == path {
            Ok(lib)
        } else {
            Err(err(format!(
                "this process already loaded ONNX Runtime from {}; one process uses one ONNX Runtime library",
                lib.path.display()
            )))
        };
    }
    let version = probe_version(&path).map_err(&err)?;
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if !version.starts_with("1.") || minor < MIN_MINOR {
        return Err(err(format!(
            "ONNX Runtime {version} is too old: redline needs 1.{MIN_MINOR} or newer"
        )));
    }
    let builder = ort::init_from(&path).map_err(|e| err(e.to_string()))?;
    let environment = builder
        .with_name("redline")
        .with_telemetry(false)
        .build()
        .map_err(|e| err(format!("cannot create the ONNX Runtime environment: {e}")))?;
    let _ = LOADED.set(OrtLibrary {
        path,
        version,
        environment,
    });
    LOADED
        .get()
        .ok_or_else(|| err("the loaded library was not kept".into()))
}

/// The library loaded in this process, if any.
pub fn loaded() -> Option<&'static OrtLibrary> {
    LOADED.get()
}

/// Open `path` and ask it for its version (`OrtGetApiBase()->GetVersionString()`).
fn probe_version(path: &Path) -> Result<String, String> {
    // SAFETY: loading a shared library runs its initialisers; the user named this file as
    // ONNX Runtime, which is what every backend of this kind has to trust.
    let lib = unsafe { libloading::Library::new(path) }
        .map_err(|e| format!("cannot be loaded as a shared library: {e}"))?;
    type GetApiBase = unsafe extern "system" fn() -> *const ort::sys::OrtApiBase;
    // SAFETY: the symbol has this signature in every ONNX Runtime release.
    let get: libloading::Symbol<'_, GetApiBase> = unsafe { lib.get(b"OrtGetApiBase\0") }
        .map_err(|_| "does not export OrtGetApiBase: not an ONNX Runtime library".to_string())?;
    // SAFETY: OrtGetApiBase takes nothing and returns a static table (or null).
    let base = unsafe { get() };
    if base.is_null() {
        return Err("OrtGetApiBase returned null".into());
    }
    // SAFETY: `base` points to the library's static OrtApiBase; the version string is static.
    let version: *const c_char = unsafe { ((*base).GetVersionString)() };
    if version.is_null() {
        return Err("GetVersionString returned null".into());
    }
    // SAFETY: a NUL-terminated static string owned by the library, copied before it unloads.
    let text = unsafe { CStr::from_ptr(version) }
        .to_string_lossy()
        .into_owned();
    // Never unloaded: `ort` opens the same file next, and unloading ONNX Runtime runs its
    // global destructors, which it does not expect to happen before process exit.
    std::mem::forget(lib);
    Ok(text)
}
