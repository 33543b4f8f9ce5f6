//! The CPU backend on `tract-onnx`: parse, check the contract at batch 1, optimise and make
//! runnable once at load. For `model.max_batch` > 1 it also makes one optimised plan per batch
//! size 2..=max_batch with the input's batch dimension fixed to that size and the shapes
//! propagated (measured: a single plan with a symbolic batch dimension ran YOLOX-nano ~4× slower
//! at one row and ~1.5× slower per frame at four rows than plans made for the exact size; see
//! `benches/infer.rs`). A model whose graph pins the batch (a reshape to a constant 1, say)
//! cannot be analysed that way: it runs one row at a time and the engine says why. A run reads
//! the first b rows of the preprocessed input tensor in place (the tensor is presented as
//! `[b, …]` without copying) and copies the outputs into the same rows of the preallocated
//! buffers.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::buffers::{InputTensor, OutputBuffers};
use super::contract::{self, InputFact, ModelContract};
use super::error::{file_name, read_model, ModelError};
use super::{batch_size, Backend, Batching, Engine, EngineInfo};
use crate::config::ModelConfig;
use crate::error::FrameError;

/// The tract-onnx version this binary was built with (from Cargo.lock, by the build script).
pub const TRACT_VERSION: &str = env!("REDLINE_TRACT_VERSION");

/// The largest tensor rank the engine reshapes without allocating.
const MAX_RANK: usize = 8;

/// Loads ONNX models with tract.
#[derive(Copy, Clone, Debug, Default)]
pub struct TractBackend;

/// A tract model, optimised and runnable, with the per-run state of each batch size.
pub struct TractEngine {
    contract: ModelContract,
    /// `states[b - 1]` runs a batch of b rows.
    states: Vec<TypedSimpleState>,
    max_batch: usize,
    batching: Batching,
}

impl std::fmt::Debug for TractEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractEngine")
            .field("contract", &self.contract)
            .field("max_batch", &self.max_batch)
            .finish_non_exhaustive()
    }
}

impl Backend for TractBackend {
    fn load(&self, config: &ModelConfig) -> Result<Box<dyn Engine>, ModelError> {
        Ok(Box::new(TractEngine::load(config)?))
    }
}

/// The parsed model, its input index and per-row input spec, and the chosen outputs.
struct Parsed {
    model: InferenceModel,
    input_index: usize,
    input: contract::TensorSpec,
    /// Output names in decoder order.
    names: Vec<String>,
}

impl TractEngine {
    /// Load and validate `config.path`. Never panics: a panic inside tract is an error.
    pub fn load(config: &ModelConfig) -> Result<Self, ModelError> {
        let model = file_name(&config.path);
        let bytes = read_model(&config.path)?;
        match catch_unwind(AssertUnwindSafe(|| Self::from_bytes(config, &bytes))) {
            Ok(result) => result,
            Err(_) => Err(ModelError::NotOnnx {
                model,
                detail: "tract panicked while reading it".into(),
            }),
        }
    }

    fn from_bytes(config: &ModelConfig, bytes: &[u8]) -> Result<Self, ModelError> {
        let name = file_name(&config.path);
        let prepare = |e: TractError| ModelError::Prepare {
            model: name.clone(),
            detail: format!("{e:#}"),
        };
        let parsed = parse(config, bytes)?;
        // The contract is checked on the batch-1 analysis: per-row shapes, as configured.
        let typed = analyse(&parsed, &parsed.input.shape).map_err(prepare)?;
        let outputs = output_shapes(config, &parsed, &typed)?;
        let contract = contract::check_outputs(config, parsed.input.clone(), outputs)?;

        let mut plans = vec![typed];
        let batching = if config.max_batch <= 1 {
            Batching::Fixed {
                reason: "model.max_batch is 1".into(),
            }
        } else {
            match (2..=config.max_batch)
                .map(|rows| batched(&parsed, &contract, rows))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(more) => {
                    plans.extend(more);
                    Batching::Batches {
                        how: format!("one optimised plan per batch size 1..={}", config.max_batch),
                    }
                }
                Err(why) => {
                    tracing::warn!(
                        model = %name,
                        max_batch = config.max_batch,
                        "the model does not batch on tract; running one frame per run: {why}"
                    );
                    Batching::Fixed {
                        reason: format!("the model does not batch: {why}"),
                    }
                }
            }
        };
        let states = plans
            .into_iter()
            .map(|typed| typed.into_runnable().and_then(|r| r.spawn()))
            .collect::<TractResult<Vec<_>>>()
            .map_err(prepare)?;
        Ok(Self {
            contract,
            max_batch: states.len(),
            states,
            batching,
        })
    }

    fn run_rows(
        &mut self,
        rows: usize,
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        let mut shared = input.lock()?;
        let full = input.batch_shape();
        let rank = full.len();
        if rank > MAX_RANK || rank == 0 {
            return Err(FrameError::Engine);
        }
        let mut shape = [0usize; MAX_RANK];
        shape[..rank].copy_from_slice(&full);
        shape[0] = rows;
        // Present the first `rows` rows as a `[rows, …]` tensor: same storage, no copy.
        let tensor = std::sync::Arc::get_mut(&mut shared).ok_or(FrameError::Engine)?;
        // SAFETY: the storage holds `full[0] ≥ rows` rows, so the smaller shape addresses a
        // prefix of it; the full shape is restored below before anyone else sees the tensor.
        unsafe { tensor.set_shape_unchecked(&shape[..rank]) };
        let state = self.states.get_mut(rows - 1).ok_or(FrameError::Engine)?;
        let result = state.run(tvec!(TValue::from_const(shared.clone())));
        let copied = result
            .map_err(|_| FrameError::Engine)
            .and_then(|values| copy_outputs(&values, rows, outputs));
        // The run's values are dropped: the tensor is ours again. Restore its full shape.
        match std::sync::Arc::get_mut(&mut shared) {
            // SAFETY: `full` is the shape the storage was allocated with.
            Some(tensor) => unsafe { tensor.set_shape_unchecked(&full) },
            None => return Err(FrameError::Engine),
        }
        copied
    }
}

fn copy_outputs(
    values: &[TValue],
    rows: usize,
    outputs: &mut OutputBuffers,
) -> Result<(), FrameError> {
    if values.len() != outputs.len() {
        return Err(FrameError::Engine);
    }
    for (i, value) in values.iter().enumerate() {
        let view = value
            .to_plain_array_view::<f32>()
            .map_err(|_| FrameError::Engine)?;
        let dst = outputs.rows_mut(i, rows);
        if view.len() != dst.len() || dst.is_empty() {
            return Err(FrameError::Engine);
        }
        match view.as_slice() {
            Some(src) => dst.copy_from_slice(src),
            None => dst.iter_mut().zip(view.iter()).for_each(|(d, s)| *d = *s),
        }
    }
    Ok(())
}

/// Parse the ONNX bytes, check the input against the config and select the outputs.
fn parse(config: &ModelConfig, bytes: &[u8]) -> Result<Parsed, ModelError> {
    let name = file_name(&config.path);
    let not_onnx = |e: TractError| ModelError::NotOnnx {
        model: name.clone(),
        detail: format!("{e:#}"),
    };
    let prepare = |e: TractError| ModelError::Prepare {
        model: name.clone(),
        detail: format!("{e:#}"),
    };
    let mut m = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .map_err(not_onnx)?;
    let inputs = input_facts(&m).map_err(not_onnx)?;
    let (input_index, input) = contract::check_input(config, &inputs)?;
    let outlets = m.output_outlets().map_err(not_onnx)?.to_vec();
    let names: Vec<String> = outlets
        .iter()
        .map(|o| {
            m.outlet_label(*o)
                .map(str::to_string)
                .unwrap_or_else(|| m.node(o.node).name.clone())
        })
        .collect();
    let order = contract::select_outputs(config, &names)?;
    let chosen: Vec<OutletId> = order.iter().map(|&i| outlets[i]).collect();
    m.select_output_outlets(&chosen).map_err(prepare)?;
    Ok(Parsed {
        model: m,
        input_index,
        input,
        names: order.iter().map(|&i| names[i].clone()).collect(),
    })
}

fn datum_type(spec: &contract::TensorSpec) -> DatumType {
    match spec.element {
        contract::ElementType::F32 => f32::datum_type(),
        contract::ElementType::F16 => f16::datum_type(),
    }
}

/// Fix the input to `shape` (concrete or symbolic dims) and optimise.
fn analyse<D: ToDim + Clone>(parsed: &Parsed, shape: &[D]) -> TractResult<TypedModel> {
    let mut m = parsed.model.clone();
    let dims: Vec<TDim> = shape.iter().map(ToDim::to_dim).collect();
    m.set_input_fact(
        parsed.input_index,
        InferenceFact::dt_shape(datum_type(&parsed.input), dims),
    )?;
    m.into_optimized()
}

/// The concrete f32 output shapes of the batch-1 analysis, in decoder order.
fn output_shapes(
    config: &ModelConfig,
    parsed: &Parsed,
    typed: &TypedModel,
) -> Result<Vec<(String, Vec<usize>)>, ModelError> {
    let model = file_name(&config.path);
    let prepare = |e: TractError| ModelError::Prepare {
        model: model.clone(),
        detail: format!("{e:#}"),
    };
    let mut outputs = Vec::with_capacity(parsed.names.len());
    for (slot, name) in parsed.names.iter().enumerate() {
        let fact = typed.output_fact(slot).map_err(prepare)?;
        let shape = fact
            .shape
            .as_concrete()
            .map(<[usize]>::to_vec)
            .ok_or_else(|| ModelError::Mismatch {
                model: model.clone(),
                field: format!("output {name:?} shape"),
                expected: "a fixed shape".into(),
                found: format!("{:?}", fact.shape),
            })?;
        if fact.datum_type != f32::datum_type() {
            return Err(ModelError::Mismatch {
                model: model.clone(),
                field: format!("output {name:?} element type"),
                expected: "f32".into(),
                found: format!("{:?}", fact.datum_type),
            });
        }
        outputs.push((name.clone(), shape));
    }
    Ok(outputs)
}

/// The model with its input's batch dimension fixed to `rows`, when every output comes out as
/// `[rows, …]` with the per-row shape of the contract after it. The error says what stopped it.
fn batched(parsed: &Parsed, contract: &ModelContract, rows: usize) -> Result<TypedModel, String> {
    let shape = crate::infer::batch_shape(&parsed.input.shape, rows);
    let typed = catch_unwind(AssertUnwindSafe(|| analyse(parsed, &shape)))
        .map_err(|_| format!("tract panicked analysing a batch of {rows}"))?
        .map_err(|e| {
            // The root cause is the most telling line (e.g. which reshape pins the batch).
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            chain.last().cloned().unwrap_or_else(|| e.to_string())
        })?;
    for (slot, spec) in contract.outputs.iter().enumerate() {
        let fact = typed.output_fact(slot).map_err(|e| e.to_string())?;
        let want = crate::infer::batch_shape(&spec.shape, rows);
        if fact.shape.as_concrete() != Some(want.as_slice()) {
            return Err(format!(
                "output {:?} comes out as {:?} for a batch of {rows}, not {want:?}",
                spec.name, fact.shape
            ));
        }
    }
    Ok(typed)
}

fn input_facts(m: &InferenceModel) -> TractResult<Vec<InputFact>> {
    let mut facts = Vec::new();
    for (ix, outlet) in m.input_outlets()?.iter().enumerate() {
        let fact = m.input_fact(ix)?;
        let dims = fact
            .shape
            .dims()
            .map(|d| d.concretize())
            .collect::<Vec<_>>();
        let dims = (!fact.shape.is_open()).then(|| {
            dims.iter()
                .map(|d| {
                    d.as_ref()
                        .and_then(|d| d.as_i64().and_then(|v| usize::try_from(v).ok()))
                })
                .collect()
        });
        facts.push(InputFact {
            name: m.node(outlet.node).name.clone(),
            element: fact.datum_type.concretize().map(|dt| format!("{dt:?}")),
            dims,
        });
    }
    Ok(facts)
}

impl Engine for TractEngine {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }

    fn max_batch(&self) -> usize {
        self.max_batch
    }

    fn info(&self) -> EngineInfo {
        EngineInfo {
            backend: "tract",
            library: format!("tract-onnx {TRACT_VERSION}, pure Rust"),
            max_batch: self.max_batch,
            batching: self.batching.clone(),
            details: vec!["threads: 1 (runs on the calling thread)".into()],
        }
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
