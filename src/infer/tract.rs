//! The CPU backend on `tract-onnx`: parse, check the contract, fix the input fact, optimise and
//! make runnable once at load; then run single-threaded, one frame at a time, reading the
//! preprocessed input tensor without copying it and copying outputs into preallocated buffers.

use std::panic::{catch_unwind, AssertUnwindSafe};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::buffers::{InputTensor, OutputBuffers};
use super::contract::{self, InputFact, ModelContract};
use super::error::{file_name, ModelError};
use super::{Backend, Engine};
use crate::config::ModelConfig;
use crate::error::FrameError;

/// Loads ONNX models with tract.
#[derive(Copy, Clone, Debug, Default)]
pub struct TractBackend;

/// A tract model, optimised and runnable, with its per-run state.
pub struct TractEngine {
    contract: ModelContract,
    state: TypedSimpleState,
}

impl std::fmt::Debug for TractEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractEngine")
            .field("contract", &self.contract)
            .finish_non_exhaustive()
    }
}

impl Backend for TractBackend {
    fn load(&self, config: &ModelConfig) -> Result<Box<dyn Engine>, ModelError> {
        Ok(Box::new(TractEngine::load(config)?))
    }
}

impl TractEngine {
    /// Load and validate `config.path`. Never panics: a panic inside tract is an error.
    pub fn load(config: &ModelConfig) -> Result<Self, ModelError> {
        let model = file_name(&config.path);
        if !config.path.is_file() {
            return Err(ModelError::NotFound {
                model,
                path: config.path.display().to_string(),
            });
        }
        let bytes = std::fs::read(&config.path).map_err(|source| ModelError::Unreadable {
            model: model.clone(),
            source,
        })?;
        match catch_unwind(AssertUnwindSafe(|| Self::from_bytes(config, &bytes))) {
            Ok(result) => result,
            Err(_) => Err(ModelError::NotOnnx {
                model,
                detail: "tract panicked while reading it".into(),
            }),
        }
    }

    fn from_bytes(config: &ModelConfig, bytes: &[u8]) -> Result<Self, ModelError> {
        let model = file_name(&config.path);
        let not_onnx = |e: TractError| ModelError::NotOnnx {
            model: model.clone(),
            detail: format!("{e:#}"),
        };
        let prepare = |e: TractError| ModelError::Prepare {
            model: model.clone(),
            detail: format!("{e:#}"),
        };
        let mut m = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(not_onnx)?;

        let inputs = input_facts(&m).map_err(not_onnx)?;
        let (index, input) = contract::check_input(config, &inputs)?;
        let dt = match input.element {
            contract::ElementType::F32 => f32::datum_type(),
            contract::ElementType::F16 => f16::datum_type(),
        };
        m.set_input_fact(index, InferenceFact::dt_shape(dt, &input.shape))
            .map_err(prepare)?;

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

        let typed = m.into_optimized().map_err(prepare)?;
        let mut outputs = Vec::with_capacity(order.len());
        for (slot, &i) in order.iter().enumerate() {
            let fact = typed.output_fact(slot).map_err(prepare)?;
            let shape = fact
                .shape
                .as_concrete()
                .map(<[usize]>::to_vec)
                .ok_or_else(|| ModelError::Mismatch {
                    model: model.clone(),
                    field: format!("output {:?} shape", names[i]),
                    expected: "a fixed shape".into(),
                    found: format!("{:?}", fact.shape),
                })?;
            if fact.datum_type != f32::datum_type() {
                return Err(ModelError::Mismatch {
                    model: model.clone(),
                    field: format!("output {:?} element type", names[i]),
                    expected: "f32".into(),
                    found: format!("{:?}", fact.datum_type),
                });
            }
            outputs.push((names[i].clone(), shape));
        }
        let contract = contract::check_outputs(config, input, outputs)?;
        let runnable = typed.into_runnable().map_err(prepare)?;
        let state = runnable.spawn().map_err(prepare)?;
        Ok(Self { contract, state })
    }
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

    fn run(
        &mut self,
        _seq: u64,
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        let value = TValue::from_const(input.shared().clone());
        let result = self
            .state
            .run(tvec!(value))
            .map_err(|_| FrameError::Engine)?;
        if result.len() != outputs.len() {
            return Err(FrameError::Engine);
        }
        for (i, value) in result.iter().enumerate() {
            let view = value
                .to_plain_array_view::<f32>()
                .map_err(|_| FrameError::Engine)?;
            let dst = outputs.get_mut(i);
            if view.len() != dst.len() {
                return Err(FrameError::Engine);
            }
            match view.as_slice() {
                Some(src) => dst.copy_from_slice(src),
                None => dst.iter_mut().zip(view.iter()).for_each(|(d, s)| *d = *s),
            }
        }
        Ok(())
    }
}
