//! Start-up errors of model loading: each names the model file, the field, what the config
//! says and what the model has.

use std::path::Path;

/// A model that cannot be used with this config.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model {model}: file not found at {path}")]
    NotFound { model: String, path: String },
    #[error("model {model}: cannot be read: {source}")]
    Unreadable {
        model: String,
        #[source]
        source: std::io::Error,
    },
    #[error("model {model}: not a usable ONNX model: {detail}")]
    NotOnnx { model: String, detail: String },
    #[error("model {model}: input {name:?} not found; the model's inputs are {available:?}")]
    InputNotFound {
        model: String,
        name: String,
        available: Vec<String>,
    },
    #[error("model {model}: output {name:?} not found; the model's outputs are {available:?}")]
    OutputNotFound {
        model: String,
        name: String,
        available: Vec<String>,
    },
    #[error("model {model}: {field}: the config says {expected}, the model has {found}")]
    Mismatch {
        model: String,
        field: String,
        expected: String,
        found: String,
    },
    #[error("model {model}: cannot be prepared for inference: {detail}")]
    Prepare { model: String, detail: String },
    #[error("ONNX Runtime library {path}: {detail}")]
    Library { path: String, detail: String },
    #[error("model {model}: backend {backend} unavailable: {why}")]
    BackendUnavailable {
        model: String,
        backend: &'static str,
        why: &'static str,
    },
}

/// The file name of a model path, for messages.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The bytes of the model file `path`: `NotFound` / `Unreadable` naming it otherwise.
pub(crate) fn read_model(path: &Path) -> Result<Vec<u8>, ModelError> {
    let model = file_name(path);
    if !path.is_file() {
        return Err(ModelError::NotFound {
            model,
            path: path.display().to_string(),
        });
    }
    std::fs::read(path).map_err(|source| ModelError::Unreadable { model, source })
}
