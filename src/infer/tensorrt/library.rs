//! Loading libnvinfer / libnvonnxparser with `dlopen` at run time, reading the library version
//! and refusing majors the compiled shim does not support.

// Without the C++ shim (no TensorRT headers at build time) the FFI half is compiled out.
#![cfg_attr(not(redline_trt_shim), allow(dead_code, unused_imports))]

use libloading::Library;

use super::error::TrtError;
use super::shim;

/// TensorRT majors this source tree supports (the shim compiles against either's headers;
/// one binary supports the one it was compiled for).
pub const SUPPORTED_MAJORS: [i32; 2] = [10, 11];

/// A TensorRT version as `getInferLibVersion()` encodes it (`major·10000 + minor·100 + patch`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TrtVersion {
    pub major: i32,
    pub minor: i32,
    pub patch: i32,
}

impl TrtVersion {
    pub fn from_encoded(v: i32) -> Self {
        Self {
            major: v / 10000,
            minor: (v / 100) % 100,
            patch: v % 100,
        }
    }
}

impl std::fmt::Display for TrtVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Checks a run-time library version against the compiled shim's major.
pub fn check_version(found: TrtVersion, shim_major: i32) -> Result<(), TrtError> {
    if found.major == shim_major && SUPPORTED_MAJORS.contains(&found.major) {
        Ok(())
    } else {
        Err(TrtError::UnsupportedVersion {
            found: found.to_string(),
            shim_major,
            supported: supported_text(),
        })
    }
}

pub(crate) fn supported_text() -> String {
    SUPPORTED_MAJORS.map(|m| format!("{m}.x")).join(", ")
}

fn open_first(base: &str) -> Result<(Library, String), TrtError> {
    let mut last = String::new();
    let names: Vec<String> = SUPPORTED_MAJORS
        .iter()
        .rev()
        .map(|m| format!("lib{base}.so.{m}"))
        .chain(std::iter::once(format!("lib{base}.so")))
        .collect();
    for name in &names {
        // SAFETY: loading TensorRT runs its (trusted) initialisers only.
        match unsafe { Library::new(name) } {
            Ok(lib) => return Ok((lib, name.clone())),
            Err(e) => last = e.to_string(),
        }
    }
    Err(TrtError::LibraryMissing {
        library: names.join(" / "),
        message: last,
        supported: supported_text(),
    })
}

fn symbol(
    lib: &Library,
    name: &str,
    symbol: &'static str,
) -> Result<*mut std::ffi::c_void, TrtError> {
    // SAFETY: the symbol is only read as an address and passed to the shim, which calls it with
    // the signature TensorRT's headers declare.
    unsafe { lib.get::<*mut std::ffi::c_void>(symbol.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| TrtError::SymbolMissing {
            library: name.to_string(),
            symbol,
            message: e.to_string(),
        })
}

/// libnvinfer, loaded, with its version checked against the shim.
pub struct TrtLibrary {
    _nvinfer: Library,
    pub name: String,
    pub version: TrtVersion,
    pub(crate) create_runtime: *mut std::ffi::c_void,
    pub(crate) create_builder: *mut std::ffi::c_void,
}

// SAFETY: the stored pointers are addresses of thread-safe factory functions in a library
// that stays loaded as long as this value.
unsafe impl Send for TrtLibrary {}
unsafe impl Sync for TrtLibrary {}

impl TrtLibrary {
    /// Opens libnvinfer (`.so.11`, `.so.10`, `.so`) and checks its version. Does not touch CUDA.
    pub fn load() -> Result<Self, TrtError> {
        let shim_major = shim::shim_major().ok_or(TrtError::ShimNotBuilt)?;
        let (lib, name) = open_first("nvinfer")?;
        let version_fn = symbol(&lib, &name, "getInferLibVersion\0")?;
        // SAFETY: `getInferLibVersion` is `extern "C" int32_t getInferLibVersion() noexcept`.
        let encoded = unsafe {
            let f: extern "C" fn() -> i32 = std::mem::transmute(version_fn);
            f()
        };
        let version = TrtVersion::from_encoded(encoded);
        check_version(version, shim_major)?;
        let create_runtime = symbol(&lib, &name, "createInferRuntime_INTERNAL\0")?;
        let create_builder = symbol(&lib, &name, "createInferBuilder_INTERNAL\0")?;
        Ok(Self {
            _nvinfer: lib,
            name,
            version,
            create_runtime,
            create_builder,
        })
    }
}

/// libnvonnxparser, loaded only to build engines.
pub struct OnnxParserLibrary {
    _lib: Library,
    pub(crate) create_parser: *mut std::ffi::c_void,
}

impl OnnxParserLibrary {
    pub fn load() -> Result<Self, TrtError> {
        let (lib, name) = open_first("nvonnxparser")?;
        let create_parser = symbol(&lib, &name, "createNvOnnxParser_INTERNAL\0")?;
        Ok(Self {
            _lib: lib,
            create_parser,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_encoded_library_version() {
        assert_eq!(
            TrtVersion::from_encoded(101_600),
            TrtVersion {
                major: 10,
                minor: 16,
                patch: 0
            }
        );
        assert_eq!(TrtVersion::from_encoded(110_100).to_string(), "11.1.0");
    }

    #[test]
    fn refuses_a_major_other_than_the_shims() {
        let v11 = TrtVersion::from_encoded(110_100);
        assert!(check_version(v11, 11).is_ok());
        let err = check_version(v11, 10).unwrap_err().to_string();
        assert!(err.contains("11.1.0") && err.contains("10.x"), "{err}");
        assert!(check_version(TrtVersion::from_encoded(80_601), 8).is_err());
        assert!(check_version(TrtVersion::from_encoded(120_000), 12).is_err());
    }
}
