//! Build script: compiles the TensorRT C++ shim (cpp/trt_shim.cpp) when feature `tensorrt` is
//! on AND the TensorRT + CUDA runtime headers are found. Nothing links against libnvinfer (it is
//! dlopen'ed at run time). Without headers it emits no `redline_trt_shim` cfg, and the backend
//! reports "built without the TensorRT shim" when asked to load an engine. It also passes the
//! resolved versions of the inference crates (from Cargo.lock) to the crate for `redline check`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redline_trt_shim)");
    lock_versions();
    #[cfg(feature = "tensorrt")]
    tensorrt::build();
}

/// The versions of the inference libraries this build resolved (from Cargo.lock), for
/// `redline check`: `REDLINE_TRACT_VERSION`, `REDLINE_ORT_CRATE_VERSION` ("unknown" without a
/// lock file).
fn lock_versions() {
    println!("cargo::rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let version_of = |name: &str| {
        let header = format!("name = \"{name}\"");
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line.trim() == header {
                if let Some(v) = lines
                    .next()
                    .and_then(|l| l.trim().strip_prefix("version = "))
                {
                    return v.trim_matches('"').to_string();
                }
            }
        }
        "unknown".to_string()
    };
    println!(
        "cargo::rustc-env=REDLINE_TRACT_VERSION={}",
        version_of("tract-onnx")
    );
    println!(
        "cargo::rustc-env=REDLINE_ORT_CRATE_VERSION={}",
        version_of("ort")
    );
}

#[cfg(feature = "tensorrt")]
mod tensorrt {
    use std::path::{Path, PathBuf};

    fn find(var: &str, candidates: &[&str], header: &str) -> Option<PathBuf> {
        println!("cargo::rerun-if-env-changed={var}");
        let from_env = std::env::var_os(var).map(PathBuf::from);
        from_env
            .into_iter()
            .chain(candidates.iter().map(PathBuf::from))
            .find(|dir| dir.join(header).is_file())
    }

    pub fn build() {
        println!("cargo::rerun-if-changed=cpp/trt_shim.cpp");
        let trt = find(
            "TENSORRT_INCLUDE_DIR",
            &[
                "/usr/include/x86_64-linux-gnu",
                "/usr/include/aarch64-linux-gnu",
                "/usr/include",
                "/usr/local/tensorrt/include",
                "/opt/tensorrt/include",
            ],
            "NvInfer.h",
        );
        let cuda = find(
            "CUDA_INCLUDE_DIR",
            &[
                "/usr/local/cuda/include",
                "/usr/include",
                "/opt/cuda/include",
            ],
            "cuda_runtime_api.h",
        );
        match (trt, cuda) {
            (Some(trt), Some(cuda)) => compile(&trt, &cuda),
            (trt, cuda) => println!(
                "cargo::warning=TensorRT shim not built (NvInfer.h found: {}, cuda_runtime_api.h found: {}); set TENSORRT_INCLUDE_DIR / CUDA_INCLUDE_DIR",
                trt.is_some(),
                cuda.is_some()
            ),
        }
    }

    fn compile(trt: &Path, cuda: &Path) {
        let mut build = cc::Build::new();
        build
            .cpp(true)
            .std("c++17")
            .file("cpp/trt_shim.cpp")
            .warnings(true);
        // System includes: the TensorRT headers warn about their own deprecations.
        for dir in [trt, cuda] {
            build.flag("-isystem").flag(dir.as_os_str());
        }
        // Some CUDA header layouts (e.g. the PyPI wheels) keep crt/ in a sibling directory.
        if let Some(extra) = std::env::var_os("CUDA_EXTRA_INCLUDE_DIR") {
            build.flag("-isystem").flag(&extra);
        }
        println!("cargo::rerun-if-env-changed=CUDA_EXTRA_INCLUDE_DIR");
        build.compile("redline_trt_shim");
        println!("cargo::rustc-cfg=redline_trt_shim");
    }
}
