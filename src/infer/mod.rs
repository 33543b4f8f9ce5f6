//! The Backend → Engine API (as tract's Runtime → Runnable → State) and the CPU backend.
//!
//! A [`Backend`] loads a model once into an [`Engine`], checking the model's contract against
//! `config::ModelConfig` ([`contract`]); the engine then runs one frame at a time from an
//! [`InputTensor`] that preprocessing wrote into, into preallocated [`OutputBuffers`] that the
//! decoder reads. Start-up errors are [`ModelError`] (naming file, field, config and model
//! values); per-frame errors are the `Copy` [`crate::error::FrameError`].
//! [`FaultInjector`] wraps any engine with scheduled delays or errors (replay fault injection).

mod buffers;
pub mod contract;
mod error;
pub mod fault;
#[cfg(feature = "tensorrt")]
pub mod tensorrt;
pub mod tract;

pub use buffers::{InputTensor, OutputBuffers};
pub use contract::{ElementType, ModelContract, TensorSpec};
pub use error::ModelError;
pub use fault::{EngineFault, FaultInjector, FaultKind};

use crate::config::{BackendKind, ModelConfig};
use crate::error::FrameError;

/// A loaded, validated model that runs one frame at a time.
pub trait Engine: Send {
    /// What the model takes and produces, as validated at load time.
    fn contract(&self) -> &ModelContract;

    /// A fresh input buffer of the right shape and type (start-up only: it allocates).
    fn new_input(&self) -> InputTensor {
        InputTensor::new(&self.contract().input)
    }

    /// Fresh output buffers in decoder order (start-up only: they allocate).
    fn new_outputs(&self) -> OutputBuffers {
        OutputBuffers::new(&self.contract().outputs)
    }

    /// Run frame number `seq` (the pipeline's frame sequence number, used by fault schedules)
    /// from `input` into `outputs`.
    fn run(
        &mut self,
        seq: u64,
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError>;
}

/// A boxed engine is an engine (so wrappers like [`FaultInjector`] take loaded engines).
impl Engine for Box<dyn Engine> {
    fn contract(&self) -> &ModelContract {
        (**self).contract()
    }

    fn new_input(&self) -> InputTensor {
        (**self).new_input()
    }

    fn new_outputs(&self) -> OutputBuffers {
        (**self).new_outputs()
    }

    fn run(
        &mut self,
        seq: u64,
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        (**self).run(seq, input, outputs)
    }
}

/// Something that turns a model file plus its config into a ready [`Engine`].
pub trait Backend {
    /// Load, validate and prepare the model once.
    fn load(&self, config: &ModelConfig) -> Result<Box<dyn Engine>, ModelError>;
}

/// Load the engine the config asks for (`model.backend`).
pub fn load_engine(config: &ModelConfig) -> Result<Box<dyn Engine>, ModelError> {
    match config.backend {
        BackendKind::Tract => tract::TractBackend.load(config),
        #[cfg(feature = "tensorrt")]
        BackendKind::TensorRt => tensorrt::TensorRtBackend.load(config),
        #[cfg(not(feature = "tensorrt"))]
        BackendKind::TensorRt => Err(ModelError::BackendUnavailable {
            model: error::file_name(&config.path),
            backend: "tensorrt",
            why: "this build has no TensorRT backend (build with feature `tensorrt`)",
        }),
    }
}

/// Load the engine, run it once (warm-up: first runs plan lazily and would otherwise cost the
/// first real frame its deadline), and wrap it with `faults` when there are any (replay and
/// fault-injection tests; an empty schedule returns the plain engine).
pub fn load_warm(
    config: &ModelConfig,
    faults: Vec<EngineFault>,
) -> Result<Box<dyn Engine>, ModelError> {
    let mut engine = load_engine(config)?;
    let input = engine.new_input();
    let mut outputs = engine.new_outputs();
    // A warm-up failure is not fatal here: the same error will be counted per frame.
    if let Err(e) = engine.run(u64::MAX, &input, &mut outputs) {
        tracing::warn!(error = %e, "engine warm-up run failed");
    }
    if faults.is_empty() {
        Ok(engine)
    } else {
        Ok(Box::new(FaultInjector::new(engine, faults)))
    }
}
