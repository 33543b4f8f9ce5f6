//! Where the tests find ONNX Runtime's shared library: `$ORT_DYLIB_PATH`, else the `onnxruntime`
//! wheel that scripts/python-env.sh installs into `.venv`
//! (`.venv/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.*`). Absent, a test
//! says SKIPPED loudly — except under `CI=true`, where CI must run these tests, so it fails.

use std::path::PathBuf;

use redline::config::{BackendKind, ModelConfig};

/// The library, or `None` after a loud SKIPPED line (a panic under `CI=true`).
pub fn library() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let lib = super::repo().join(".venv/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|pythons| {
        pythons
            .flatten()
            .map(|p| p.path().join("site-packages/onnxruntime/capi"))
            .filter_map(|capi| std::fs::read_dir(capi).ok())
            .flat_map(|files| files.flatten().map(|f| f.path()))
            .find(|f| {
                f.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
            })
    });
    if found.is_none() {
        let why = format!(
            "no ONNX Runtime library: set ORT_DYLIB_PATH or run scripts/python-env.sh (installs the onnxruntime wheel into {})",
            lib.display()
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and {why}");
        }
        eprintln!("SKIPPED: {why}");
    }
    found
}

/// `model` switched to the ONNX Runtime backend with `library`.
pub fn on_onnxruntime(mut model: ModelConfig, library: &std::path::Path) -> ModelConfig {
    model.backend = BackendKind::OnnxRuntime;
    model.onnxruntime_library = Some(library.to_path_buf());
    model
}
