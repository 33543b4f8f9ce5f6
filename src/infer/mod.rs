//! The Backend → Engine API (as tract's Runtime → Runnable → State) and the CPU backend.
//!
//! A [`Backend`] loads a model once into an [`Engine`], checking the model's contract against
//! `config::ModelConfig` ([`contract`]); the engine then runs a batch of 1 ≤ b ≤
//! [`Engine::max_batch`] frames at once from the first b rows of an [`InputTensor`] that
//! preprocessing wrote into, into the same rows of preallocated [`OutputBuffers`] that the
//! decoder reads row by row. A model that cannot batch runs with `max_batch() == 1`. Start-up errors are [`ModelError`] (naming file, field, config and model
//! values); per-frame errors are the `Copy` [`crate::error::FrameError`].
//! [`FaultInjector`] wraps any engine with scheduled delays or errors (replay fault injection).

mod buffers;
pub mod contract;
mod error;
pub mod fault;
#[cfg(feature = "onnxruntime")]
pub mod onnxruntime;
#[cfg(feature = "tensorrt")]
pub mod tensorrt;
pub mod tract;

pub use buffers::{batch_shape, HostStorage, InputTensor, OutputBuffers};
pub use contract::{ElementType, ModelContract, TensorSpec};
pub use error::ModelError;
pub use fault::{EngineFault, FaultInjector, FaultKind};

pub use crate::config::MAX_BATCH_LIMIT;
use crate::config::{BackendKind, ModelConfig};
use crate::error::FrameError;

/// A loaded, validated model that runs a batch of 1 ≤ b ≤ [`Engine::max_batch`] frames at once.
pub trait Engine: Send {
    /// What the model takes and produces **per row** (one frame), as validated at load time.
    fn contract(&self) -> &ModelContract;

    /// Rows one run can take: `model.max_batch` when the model batches that far, else 1.
    fn max_batch(&self) -> usize {
        1
    }

    /// Backend, library version and how far the model batches (what `redline check` prints).
    fn info(&self) -> EngineInfo {
        EngineInfo {
            backend: "custom",
            library: String::new(),
            max_batch: self.max_batch(),
            batching: Batching::Fixed {
                reason: "this engine does not batch".into(),
            },
            details: Vec::new(),
        }
    }

    /// A fresh input buffer for [`Engine::max_batch`] rows (start-up only: it allocates).
    fn new_input(&self) -> InputTensor {
        InputTensor::new(&self.contract().input, self.max_batch())
    }

    /// Fresh output buffers in decoder order for [`Engine::max_batch`] rows (start-up only).
    fn new_outputs(&self) -> OutputBuffers {
        OutputBuffers::new(&self.contract().outputs, self.max_batch())
    }

    /// Run the first `frames.len()` rows of `input` into the same rows of `outputs`
    /// (1 ≤ `frames.len()` ≤ [`Engine::max_batch`]); `frames[i]` is the pipeline sequence number
    /// of the frame in row *i* (fault schedules use it). Rows past `frames.len()` are neither
    /// read nor written.
    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError>;
}

/// Whether and how far a loaded model batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Batching {
    /// Runs any 1 ≤ b ≤ `max_batch` rows; `how` says how (e.g. "symbolic batch dimension").
    Batches { how: String },
    /// Runs one row at a time; `reason` says why (config, or what in the model stops it).
    Fixed { reason: String },
}

/// What `redline check` prints about a loaded engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineInfo {
    /// `tract`, `onnxruntime`, `tensorrt`, ….
    pub backend: &'static str,
    /// Library and version (and where it was loaded from, for dynamically loaded ones).
    pub library: String,
    /// Rows one run takes.
    pub max_batch: usize,
    pub batching: Batching,
    /// Backend specifics, one line each (threads, execution providers, …).
    pub details: Vec<String>,
}

impl std::fmt::Display for EngineInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "backend   {} ({})", self.backend, self.library)?;
        for d in &self.details {
            writeln!(f, "          {d}")?;
        }
        match &self.batching {
            Batching::Batches { how } => {
                write!(f, "batch     1..={} rows per run ({how})", self.max_batch)
            }
            Batching::Fixed { reason } => write!(f, "batch     1 row per run ({reason})"),
        }
    }
}

/// The check every engine makes before a run: 1 ≤ `frames` ≤ rows of `input`, of `outputs`
/// and `max_batch`. Returns the batch size.
pub fn batch_size(
    frames: &[u64],
    max_batch: usize,
    input: &InputTensor,
    outputs: &OutputBuffers,
) -> Result<usize, FrameError> {
    let b = frames.len();
    if b == 0 || b > max_batch || b > input.rows() || b > outputs.rows() {
        return Err(FrameError::Engine);
    }
    Ok(b)
}

/// A boxed engine is an engine (so wrappers like [`FaultInjector`] take loaded engines).
impl Engine for Box<dyn Engine> {
    fn contract(&self) -> &ModelContract {
        (**self).contract()
    }

    fn max_batch(&self) -> usize {
        (**self).max_batch()
    }

    fn info(&self) -> EngineInfo {
        (**self).info()
    }

    fn new_input(&self) -> InputTensor {
        (**self).new_input()
    }

    fn new_outputs(&self) -> OutputBuffers {
        (**self).new_outputs()
    }

    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        (**self).run(frames, input, outputs)
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
        #[cfg(feature = "onnxruntime")]
        BackendKind::OnnxRuntime => onnxruntime::OnnxRuntimeBackend.load(config),
        #[cfg(not(feature = "onnxruntime"))]
        BackendKind::OnnxRuntime => Err(ModelError::BackendUnavailable {
            model: error::file_name(&config.path),
            backend: "onnxruntime",
            why: "this build has no ONNX Runtime backend (build with feature `onnxruntime`)",
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
    // A warm-up failure is not fatal here: the same error will be counted per frame. Warm the
    // largest batch too, so its first real run does not pay for planning either.
    let frames = [u64::MAX; MAX_BATCH_LIMIT];
    let max = engine.max_batch().clamp(1, MAX_BATCH_LIMIT);
    let sizes: &[usize] = if max > 1 { &[1, max] } else { &[1] };
    for &b in sizes {
        if let Err(e) = engine.run(&frames[..b], &input, &mut outputs) {
            tracing::warn!(error = %e, batch = b, "engine warm-up run failed");
        }
    }
    if faults.is_empty() {
        Ok(engine)
    } else {
        Ok(Box::new(FaultInjector::new(engine, faults)))
    }
}
