//! The ONNX Runtime backend (feature `onnxruntime`, `model.backend: onnxruntime`) through the
//! `ort` crate with dynamic loading: nothing is downloaded or linked at build time; the
//! library is the user's (`model.onnxruntime_library` or `ORT_DYLIB_PATH`), checked and loaded
//! once per process ([`library`]). Same `Backend → Engine` API and model contract as tract;
//! batches through a symbolic batch dimension written into the model ([`batch_edit`]) when the
//! graph allows it; runs bound to our own buffers ([`engine`]).

pub mod batch_edit;
mod engine;
pub mod library;
mod raw;

pub use engine::{loaded_library, OrtEngine};
pub use library::{OrtLibrary, LIBRARY_ENV};

use crate::config::ModelConfig;
use crate::infer::{Backend, Engine, ModelError};

/// `model.backend: onnxruntime`.
#[derive(Copy, Clone, Debug, Default)]
pub struct OnnxRuntimeBackend;

impl Backend for OnnxRuntimeBackend {
    fn load(&self, config: &ModelConfig) -> Result<Box<dyn Engine>, ModelError> {
        Ok(Box::new(OrtEngine::load(config)?))
    }
}
