//! The ONNX Runtime engine: one session (intra-op threads and execution providers from the
//! config), checked against the same model contract as tract, run through an `IoBinding` whose
//! input and outputs are tensors over **our** buffers — the pooled input tensor's first b rows
//! and the output buffers' first b rows — so ONNX Runtime reads and writes in place.
//!
//! Binding tensors are created once per (buffer, batch size) and kept: after every pooled
//! buffer has been seen at every batch size, a run creates nothing on the Rust side and makes
//! no Rust heap allocation (what ONNX Runtime's C++ allocates inside a run is its own: see the
//! README and `tests/zero_alloc_onnxruntime.rs`).

use std::ffi::{c_void, CString};

use ort::memory::{AllocationDevice, AllocatorType, MemoryInfo, MemoryType};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{IoBinding, Session};
use ort::sys::ONNXTensorElementDataType;
use ort::value::{TensorElementType, ValueType};
use ort::AsPointer;

use super::batch_edit;
use super::library::{self, OrtLibrary};
use super::raw::{self, BorrowedTensor, MAX_RANK};
use crate::config::{ExecutionProvider, ModelConfig};
use crate::error::FrameError;
use crate::infer::contract::{self, ElementType, InputFact, ModelContract, TensorSpec};
use crate::infer::error::{file_name, read_model};
use crate::infer::{
    batch_size, Batching, Engine, EngineInfo, HostStorage, InputTensor, ModelError, OutputBuffers,
};

/// At most this many binding tensors are kept per input/output (buffers × batch sizes); past it
/// the oldest is replaced (a pool that large is not a steady state this is tuned for).
const CACHE_LIMIT: usize = 1024;

/// Binding tensors over buffers already seen: (address, rows) → tensor.
#[derive(Debug, Default)]
struct TensorCache {
    entries: Vec<(usize, usize, BorrowedTensor)>,
}

impl TensorCache {
    /// The tensor over `rows` rows at `data`, created on first use.
    ///
    /// # Safety
    /// `data` must hold `rows × row_bytes` bytes for as long as the tensor is bound and run.
    unsafe fn get(
        &mut self,
        memory: *const ort::sys::OrtMemoryInfo,
        data: *mut c_void,
        rows: usize,
        row: &Row,
    ) -> Result<&BorrowedTensor, FrameError> {
        let key = data as usize;
        if let Some(i) = self
            .entries
            .iter()
            .position(|(k, r, _)| *k == key && *r == rows)
        {
            return Ok(&self.entries[i].2);
        }
        let mut shape = [0i64; MAX_RANK];
        let rank = row.shape.len();
        shape[..rank].copy_from_slice(&row.shape);
        shape[0] = rows as i64;
        // SAFETY: per the caller.
        let tensor = unsafe {
            BorrowedTensor::new(memory, data, rows * row.bytes, &shape[..rank], row.element)
        }
        .map_err(|_| FrameError::Engine)?;
        if self.entries.len() >= CACHE_LIMIT {
            self.entries.remove(0);
        }
        self.entries.push((key, rows, tensor));
        self.entries
            .last()
            .map(|(_, _, t)| t)
            .ok_or(FrameError::Engine)
    }
}

/// One bound tensor's per-row geometry.
#[derive(Clone, Debug)]
struct Row {
    name: CString,
    /// Shape of one row (first dimension 1).
    shape: Vec<i64>,
    elements: usize,
    bytes: usize,
    element: ONNXTensorElementDataType,
}

impl Row {
    fn new(spec: &TensorSpec) -> Result<Self, String> {
        if spec.shape.is_empty() || spec.shape.len() > MAX_RANK {
            return Err(format!(
                "tensor {:?} has rank {}; redline binds ranks 1..={MAX_RANK}",
                spec.name,
                spec.shape.len()
            ));
        }
        let (element, size) = match spec.element {
            ElementType::F32 => (
                ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
                4,
            ),
            ElementType::F16 => (
                ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16,
                2,
            ),
        };
        Ok(Self {
            name: CString::new(spec.name.as_bytes())
                .map_err(|_| format!("tensor name {:?} contains NUL", spec.name))?,
            shape: spec.shape.iter().map(|&d| d as i64).collect(),
            elements: spec.len(),
            bytes: spec.len() * size,
            element,
        })
    }
}

/// A model loaded into ONNX Runtime.
pub struct OrtEngine {
    contract: ModelContract,
    session: Session,
    binding: IoBinding,
    memory: MemoryInfo<'static>,
    input: Row,
    outputs: Vec<Row>,
    input_cache: TensorCache,
    output_caches: Vec<TensorCache>,
    /// What is bound now: (address, rows) of the input and of each output.
    bound_input: Option<(usize, usize)>,
    bound_outputs: Vec<Option<(usize, usize)>>,
    max_batch: usize,
    info: EngineInfo,
}

impl std::fmt::Debug for OrtEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtEngine")
            .field("contract", &self.contract)
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

fn ort_error(config: &ModelConfig) -> impl Fn(String) -> ModelError + '_ {
    move |detail| ModelError::Prepare {
        model: file_name(&config.path),
        detail: format!("ONNX Runtime: {detail}"),
    }
}

/// The config's execution providers, checked against what the library was built with.
fn providers(
    config: &ModelConfig,
    available: &[String],
) -> Result<Vec<ort::ep::ExecutionProviderDispatch>, ModelError> {
    let mut out = Vec::new();
    for p in &config.execution_providers {
        let name = match p {
            ExecutionProvider::Cpu => "CPUExecutionProvider",
            ExecutionProvider::Cuda => "CUDAExecutionProvider",
            ExecutionProvider::TensorRt => "TensorrtExecutionProvider",
        };
        if !available.iter().any(|a| a == name) {
            return Err(ModelError::Prepare {
                model: file_name(&config.path),
                detail: format!(
                    "model.execution_providers lists {:?}, but this ONNX Runtime library has only {available:?}; use a build with it (e.g. the onnxruntime-gpu wheel for cuda/tensorrt) or remove it",
                    p.name()
                ),
            });
        }
        out.push(match p {
            ExecutionProvider::Cpu => ort::ep::CPU::default().build(),
            ExecutionProvider::Cuda => ort::ep::CUDA::default().build().error_on_failure(),
            ExecutionProvider::TensorRt => ort::ep::TensorRT::default().build().error_on_failure(),
        });
    }
    Ok(out)
}

fn session(
    lib: &OrtLibrary,
    config: &ModelConfig,
    providers: &[ort::ep::ExecutionProviderDispatch],
    bytes: &[u8],
) -> Result<Session, String> {
    Session::builder(&lib.environment)
        .and_then(|b| {
            b.with_optimization_level(GraphOptimizationLevel::All)
                .map_err(Into::into)
        })
        .and_then(|b| b.with_intra_threads(config.threads).map_err(Into::into))
        .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
        .and_then(|b| b.with_execution_providers(providers).map_err(Into::into))
        .and_then(|mut b| b.commit_from_memory(bytes))
        .map_err(|e| e.to_string())
}

fn element_name(ty: TensorElementType) -> String {
    match ty {
        TensorElementType::Float32 => "F32".into(),
        TensorElementType::Float16 => "F16".into(),
        other => format!("{other:?}"),
    }
}

fn input_facts(session: &Session) -> Vec<InputFact> {
    session
        .inputs()
        .iter()
        .map(|i| {
            let (element, dims) = match i.dtype() {
                ValueType::Tensor { ty, shape, .. } => (
                    Some(element_name(*ty)),
                    Some(
                        shape
                            .iter()
                            .map(|&d| usize::try_from(d).ok())
                            .collect::<Vec<_>>(),
                    ),
                ),
                other => (Some(format!("{other:?}")), None),
            };
            InputFact {
                name: i.name().to_string(),
                element,
                dims,
            }
        })
        .collect()
}

/// The session, contract and how far it batches, from `bytes` (the model, perhaps edited).
struct Loaded {
    session: Session,
    contract: ModelContract,
}

impl OrtEngine {
    /// Load `config.path` into ONNX Runtime (loading the library first, once per process).
    pub fn load(config: &ModelConfig) -> Result<Self, ModelError> {
        let model = file_name(&config.path);
        let lib = library::load(config)?;
        let bytes = read_model(&config.path)?;
        let available = raw::available_providers();
        let eps = providers(config, &available)?;
        let memory = MemoryInfo::new(
            AllocationDevice::CPU,
            0,
            AllocatorType::Device,
            MemoryType::Default,
        )
        .map_err(|e| ort_error(config)(e.to_string()))?;

        // Try the batch first (when asked for); fall back to the model as it is.
        let mut batching = Batching::Fixed {
            reason: "model.max_batch is 1".into(),
        };
        let mut chosen = None;
        if config.max_batch > 1 {
            match Self::load_batched(lib, config, &eps, &bytes, &memory) {
                Ok(loaded) => {
                    batching = Batching::Batches {
                        how: format!(
                            "input and outputs given a symbolic batch dimension {:?}",
                            batch_edit::BATCH_SYMBOL
                        ),
                    };
                    chosen = Some((loaded, config.max_batch));
                }
                Err(why) => {
                    tracing::warn!(
                        %model,
                        max_batch = config.max_batch,
                        "the model does not batch on ONNX Runtime; running one frame per run: {why}"
                    );
                    batching = Batching::Fixed {
                        reason: format!("the model does not batch: {why}"),
                    };
                }
            }
        }
        let (loaded, max_batch) = match chosen {
            Some(c) => c,
            None => (Self::load_plain(lib, config, &eps, &bytes, &memory)?, 1),
        };
        let info = EngineInfo {
            backend: "onnxruntime",
            library: format!(
                "ONNX Runtime {} from {}, via ort {}",
                lib.version,
                lib.path.display(),
                env!("REDLINE_ORT_CRATE_VERSION")
            ),
            max_batch,
            batching,
            details: vec![
                format!("intra-op threads: {}", config.threads),
                format!(
                    "execution providers: {:?} (in this library: {available:?})",
                    config
                        .execution_providers
                        .iter()
                        .map(|p| p.name())
                        .collect::<Vec<_>>()
                ),
            ],
        };
        Self::new(loaded, memory, max_batch, info).map_err(ort_error(config))
    }

    /// Load `bytes` as they are and take the contract from a one-row trial run.
    fn load_plain(
        lib: &OrtLibrary,
        config: &ModelConfig,
        eps: &[ort::ep::ExecutionProviderDispatch],
        bytes: &[u8],
        memory: &MemoryInfo<'static>,
    ) -> Result<Loaded, ModelError> {
        let mut session = session(lib, config, eps, bytes).map_err(|e| ModelError::NotOnnx {
            model: file_name(&config.path),
            detail: format!("ONNX Runtime cannot load it: {e}"),
        })?;
        let contract = Self::contract(config, &mut session, memory)?;
        Ok(Loaded { session, contract })
    }

    /// Load `bytes` with a symbolic batch dimension; it must run two rows into `[2, …]` outputs.
    fn load_batched(
        lib: &OrtLibrary,
        config: &ModelConfig,
        eps: &[ort::ep::ExecutionProviderDispatch],
        bytes: &[u8],
        memory: &MemoryInfo<'static>,
    ) -> Result<Loaded, String> {
        let edited = batch_edit::with_symbolic_batch(bytes, &config.input_name)?;
        let mut session = session(lib, config, eps, &edited)?;
        let contract = Self::contract(config, &mut session, memory).map_err(|e| e.to_string())?;
        let shapes = trial_run(&mut session, &contract.input, &contract.outputs, 2, memory)?;
        for (spec, shape) in contract.outputs.iter().zip(&shapes) {
            let want: Vec<usize> = crate::infer::batch_shape(&spec.shape, 2);
            if *shape != want {
                return Err(format!(
                    "output {:?} comes out as {shape:?} for a batch of 2, not {want:?}",
                    spec.name
                ));
            }
        }
        Ok(Loaded { session, contract })
    }

    /// The contract: the input checked against the config, the outputs' shapes from a trial run
    /// of one row (so symbolic output dimensions are resolved), checked for the decoder family.
    fn contract(
        config: &ModelConfig,
        session: &mut Session,
        memory: &MemoryInfo<'static>,
    ) -> Result<ModelContract, ModelError> {
        let model = file_name(&config.path);
        let (_, input) = contract::check_input(config, &input_facts(session))?;
        let names: Vec<String> = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let order = contract::select_outputs(config, &names)?;
        for &i in &order {
            let ty = session.outputs()[i].dtype().tensor_type();
            if ty != Some(TensorElementType::Float32) {
                return Err(ModelError::Mismatch {
                    model: model.clone(),
                    field: format!("output {:?} element type", names[i]),
                    expected: "f32".into(),
                    found: ty.map_or_else(|| "not a tensor".into(), element_name),
                });
            }
        }
        let specs: Vec<TensorSpec> = order
            .iter()
            .map(|&i| TensorSpec {
                name: names[i].clone(),
                shape: Vec::new(),
                element: ElementType::F32,
            })
            .collect();
        let shapes =
            trial_run(session, &input, &specs, 1, memory).map_err(|e| ModelError::Prepare {
                model: model.clone(),
                detail: format!("ONNX Runtime trial run failed: {e}"),
            })?;
        let outputs = specs
            .into_iter()
            .zip(shapes)
            .map(|(s, shape)| (s.name, shape))
            .collect();
        contract::check_outputs(config, input, outputs)
    }

    fn new(
        loaded: Loaded,
        memory: MemoryInfo<'static>,
        max_batch: usize,
        info: EngineInfo,
    ) -> Result<Self, String> {
        let Loaded { session, contract } = loaded;
        let binding = session.create_binding().map_err(|e| e.to_string())?;
        let input = Row::new(&contract.input)?;
        let outputs = contract
            .outputs
            .iter()
            .map(Row::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            input_cache: TensorCache::default(),
            output_caches: outputs.iter().map(|_| TensorCache::default()).collect(),
            bound_input: None,
            bound_outputs: vec![None; outputs.len()],
            contract,
            session,
            binding,
            memory,
            input,
            outputs,
            max_batch,
            info,
        })
    }

    fn run_rows(
        &mut self,
        rows: usize,
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        if outputs.len() != self.outputs.len() {
            return Err(FrameError::Engine);
        }
        let memory = self.memory.ptr();
        let binding = self.binding.ptr_mut();
        // Outputs: the first `rows` rows of each buffer.
        for (i, row) in self.outputs.iter().enumerate() {
            let dst = outputs.rows_mut(i, rows);
            if dst.len() != rows * row.elements {
                return Err(FrameError::Engine);
            }
            let key = (dst.as_mut_ptr() as usize, rows);
            // SAFETY: `dst` holds `rows` rows of this output and stays borrowed (through
            // `outputs`) until the run below has returned.
            let tensor =
                unsafe { self.output_caches[i].get(memory, dst.as_mut_ptr().cast(), rows, row)? };
            if self.bound_outputs[i] != Some(key) {
                // SAFETY: live binding, NUL-terminated name, live tensor.
                unsafe { raw::bind(binding, &row.name, tensor, true)? };
                self.bound_outputs[i] = Some(key);
            }
        }
        // The input: its first `rows` rows, read in place while the tensor is locked.
        let session = self.session.ptr_mut();
        let (cache, bound, row) = (&mut self.input_cache, &mut self.bound_input, &self.input);
        input
            .with_storage(|host| -> Result<(), FrameError> {
                let (data, len) = match (host, row.element) {
                    (
                        HostStorage::F32(v),
                        ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
                    ) => (v.as_ptr() as *mut c_void, v.len()),
                    (
                        HostStorage::F16(v),
                        ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16,
                    ) => (v.as_ptr() as *mut c_void, v.len()),
                    _ => return Err(FrameError::Engine),
                };
                if len < rows * row.elements {
                    return Err(FrameError::Engine);
                }
                // SAFETY: `data` holds at least `rows` rows and stays locked (unchanging)
                // until this closure returns, after the run. ONNX Runtime only reads inputs.
                let tensor = unsafe { cache.get(memory, data, rows, row)? };
                let key = (data as usize, rows);
                if *bound != Some(key) {
                    // SAFETY: live binding, NUL-terminated name, live tensor.
                    unsafe { raw::bind(binding, &row.name, tensor, false)? };
                    *bound = Some(key);
                }
                // SAFETY: session and binding are live; every bound buffer is borrowed for the
                // duration of this call.
                unsafe { raw::run(session, binding) }
            })
            .ok_or(FrameError::Engine)?
    }
}

/// Run `rows` rows of zeros through `session` with outputs allocated by ONNX Runtime, and
/// return the output shapes (in `outputs` order). Start-up only (it allocates).
fn trial_run(
    session: &mut Session,
    input: &TensorSpec,
    outputs: &[TensorSpec],
    rows: usize,
    memory: &MemoryInfo<'static>,
) -> Result<Vec<Vec<usize>>, String> {
    let row = Row::new(input)?;
    let data = InputTensor::new(input, rows);
    let mut binding = session.create_binding().map_err(|e| e.to_string())?;
    data.with_storage(|host| -> Result<Vec<Vec<usize>>, String> {
        let ptr = match host {
            HostStorage::F32(v) => v.as_ptr() as *mut c_void,
            HostStorage::F16(v) => v.as_ptr() as *mut c_void,
        };
        let mut shape = row.shape.clone();
        shape[0] = rows as i64;
        // SAFETY: `data` holds `rows` rows and outlives the run below.
        let tensor = unsafe {
            BorrowedTensor::new(memory.ptr(), ptr, rows * row.bytes, &shape, row.element)
        }?;
        // SAFETY: live binding, NUL-terminated name, live tensor.
        unsafe { raw::bind_verbose(binding.ptr_mut(), &row.name, &tensor, false) }?;
        for o in outputs {
            binding
                .bind_output_to_device(o.name.clone(), memory)
                .map_err(|e| e.to_string())?;
        }
        let values = session.run_binding(&binding).map_err(|e| e.to_string())?;
        let mut shapes = Vec::with_capacity(outputs.len());
        for o in outputs {
            let value = values
                .get(o.name.as_str())
                .ok_or_else(|| format!("no value for output {:?}", o.name))?;
            let shape = value
                .dtype()
                .tensor_shape()
                .ok_or_else(|| format!("output {:?} is not a tensor", o.name))?;
            shapes.push(shape.iter().map(|&d| d.max(0) as usize).collect());
        }
        Ok(shapes)
    })
    .ok_or_else(|| "the trial input could not be read".to_string())?
}

impl Engine for OrtEngine {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }

    fn max_batch(&self) -> usize {
        self.max_batch
    }

    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        let rows = batch_size(frames, self.max_batch, input, outputs)?;
        self.run_rows(rows, input, outputs)
    }
}

/// The library version and path if one was loaded in this process (for messages).
pub fn loaded_library() -> Option<(String, std::path::PathBuf)> {
    library::loaded().map(|l| (l.version.clone(), l.path.clone()))
}
