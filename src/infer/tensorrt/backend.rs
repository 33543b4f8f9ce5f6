//! The TensorRT backend behind the crate's `Backend → Engine` API: loads the cached engine,
//! validates it with the same contract checks as tract (per-row shapes), and runs batches whose
//! input was preprocessed on the CPU: the rows run are uploaded, inferred and read back. (The
//! fused GPU path writes `TrtEngine::input_row(i)` directly with
//! `preprocess::cuda::CudaPreprocessor` and skips the host upload.)

use crate::config::{ModelConfig, TensorDType};
use crate::error::FrameError;
use crate::infer::contract::{
    check_outputs, config_input_shape, ElementType, ModelContract, TensorSpec,
};
use crate::infer::{
    batch_size, Backend, Batching, Engine, EngineInfo, InputTensor, ModelError, OutputBuffers,
};

use super::engine::TrtEngine;

/// `model.backend: tensorrt`.
pub struct TensorRtBackend;

fn model_name(config: &ModelConfig) -> String {
    config
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| config.path.display().to_string())
}

impl Backend for TensorRtBackend {
    fn load(&self, config: &ModelConfig) -> Result<Box<dyn Engine>, ModelError> {
        let prepare = |detail: String| ModelError::Prepare {
            model: model_name(config),
            detail,
        };
        let engine = super::load_engine(config).map_err(|e| prepare(e.to_string()))?;
        let input = TensorSpec {
            name: config.input_name.clone(),
            shape: config_input_shape(config),
            element: match config.dtype {
                TensorDType::F32 => ElementType::F32,
                TensorDType::F16 => ElementType::F16,
            },
        };
        let mut outputs: Vec<(String, Vec<usize>)> = Vec::new();
        let names: Vec<String> = if config.outputs.is_empty() {
            engine
                .io()
                .iter()
                .filter(|t| !t.is_input)
                .map(|t| t.name.clone())
                .collect()
        } else {
            config.outputs.clone()
        };
        for name in names {
            let t = engine
                .io()
                .iter()
                .find(|t| !t.is_input && t.name == name)
                .ok_or_else(|| prepare(format!("engine has no output {name:?}")))?;
            let shape = t
                .shape
                .iter()
                .map(|&d| usize::try_from(d).unwrap_or(0))
                .collect();
            outputs.push((name, shape));
        }
        let contract = check_outputs(config, input, outputs)?;
        Ok(Box::new(TensorRtEngine { engine, contract }))
    }
}

/// A loaded TensorRT engine as a crate [`Engine`].
pub struct TensorRtEngine {
    engine: TrtEngine,
    contract: ModelContract,
}

impl TensorRtEngine {
    /// The underlying engine (device input for the fused CUDA preprocessing path).
    pub fn trt(&mut self) -> &mut TrtEngine {
        &mut self.engine
    }
}

impl Engine for TensorRtEngine {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }

    fn max_batch(&self) -> usize {
        self.engine.max_batch()
    }

    fn info(&self) -> EngineInfo {
        let batching = match self.engine.batch_limit() {
            Some(reason) => Batching::Fixed {
                reason: reason.to_string(),
            },
            None if self.engine.max_batch() > 1 => Batching::Batches {
                how: "optimisation profile min 1 / opt = max = max_batch, setInputShape per batch, one CUDA graph per batch size".into(),
            },
            None => Batching::Fixed {
                reason: "model.max_batch is 1".into(),
            },
        };
        EngineInfo {
            backend: "tensorrt",
            library: "TensorRT through redline's shim".into(),
            max_batch: self.engine.max_batch(),
            batching,
            details: vec![format!("launch: {:?}", self.engine.launch_mode())],
        }
    }

    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        let rows = batch_size(frames, self.engine.max_batch(), input, outputs)?;
        input
            .with_storage(|host| self.engine.upload_input(host, rows))
            .ok_or(FrameError::Engine)??;
        self.engine.infer_rows(rows)?;
        for (i, spec) in self.contract.outputs.iter().enumerate() {
            let out = self.engine.output_rows(&spec.name, rows)?;
            let dst = outputs.rows_mut(i, rows);
            if dst.len() != out.len() || dst.is_empty() {
                return Err(FrameError::Engine);
            }
            dst.copy_from_slice(out);
        }
        Ok(())
    }
}
