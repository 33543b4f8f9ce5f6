//! The engine stage, shared by every camera: the fused preprocessing pass writes each chosen
//! frame straight into its row of a pooled batch input tensor (no intermediate image), then the
//! engine runs the rows into pooled outputs.

use crate::error::{FrameError, Stage};
use crate::frame::{Lease, LetterboxTransform, Pool};
use crate::infer::{Engine, InputTensor, OutputBuffers};
use crate::pipeline::{BatchStage, FrameMeta};
use crate::preprocess::Preprocessor;

use super::preprocess::Prepared;

/// One finished engine run: the raw outputs of every row and each row's transform back to its
/// source pixels.
pub struct InferredBatch {
    pub outputs: Lease<OutputBuffers>,
    pub transforms: Lease<Vec<LetterboxTransform>>,
}

impl InferredBatch {
    /// Row `row`'s transform back to source pixels.
    pub fn transform(&self, row: usize) -> Option<&LetterboxTransform> {
        self.transforms.get(row)
    }
}

/// The batch being filled.
struct OpenBatch {
    input: Lease<InputTensor>,
    transforms: Lease<Vec<LetterboxTransform>>,
}

/// Owns the engine and the fused preprocessor; fills and runs batches.
pub struct InferStage {
    engine: Box<dyn Engine>,
    preprocessor: Preprocessor,
    inputs: Pool<InputTensor>,
    outputs: Pool<OutputBuffers>,
    transforms: Pool<Vec<LetterboxTransform>>,
    /// The sequence numbers of the rows of the run in progress (capacity `max_batch`).
    frames: Vec<u64>,
    open: Option<OpenBatch>,
}

impl InferStage {
    /// `in_transit`: finished batches that may wait for or sit in the row stage at once.
    pub fn new(engine: Box<dyn Engine>, preprocessor: Preprocessor, in_transit: usize) -> Self {
        let max_batch = engine.max_batch().max(1);
        Self {
            inputs: Pool::at_least_one(1, |_| engine.new_input()),
            outputs: Pool::at_least_one(in_transit + 1, |_| engine.new_outputs()),
            transforms: Pool::at_least_one(in_transit + 1, |_| Vec::with_capacity(max_batch)),
            frames: Vec::with_capacity(max_batch),
            engine,
            preprocessor,
            open: None,
        }
    }

    /// The engine, e.g. to inspect it after shutdown.
    pub fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }
}

impl BatchStage<Prepared> for InferStage {
    type Batch = InferredBatch;

    fn max_batch(&self) -> usize {
        self.frames.capacity().max(1)
    }

    fn open(&mut self) -> Result<(), FrameError> {
        self.open = None;
        let exhausted = FrameError::PoolExhausted(Stage::Infer);
        let input = self.inputs.try_lease().ok_or(exhausted)?;
        let mut transforms = self.transforms.try_lease().ok_or(exhausted)?;
        transforms.clear();
        self.open = Some(OpenBatch { input, transforms });
        Ok(())
    }

    fn add(&mut self, frame: Prepared, _meta: &FrameMeta) -> Result<(), FrameError> {
        let open = self.open.as_mut().ok_or(FrameError::Engine)?;
        let row = open.transforms.len();
        let image = frame.view()?;
        let transform = self.preprocessor.run(&image, open.input.row_mut(row)?)?;
        open.transforms.push(transform);
        Ok(())
    }

    fn run(&mut self, rows: &[FrameMeta]) -> Result<InferredBatch, FrameError> {
        let open = self.open.take().ok_or(FrameError::Engine)?;
        if rows.len() != open.transforms.len() {
            return Err(FrameError::Engine);
        }
        let mut outputs = self
            .outputs
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Infer))?;
        self.frames.clear();
        self.frames.extend(rows.iter().map(|m| m.seq));
        self.engine.run(&self.frames, &open.input, &mut outputs)?;
        // The input tensor returns to its pool here, before decoding starts.
        Ok(InferredBatch {
            outputs,
            transforms: open.transforms,
        })
    }

    fn abandon(&mut self) {
        self.open = None;
    }

    fn calibrate(&mut self, rows: usize) -> bool {
        let (Some(input), Some(mut outputs)) = (self.inputs.try_lease(), self.outputs.try_lease())
        else {
            return false;
        };
        if rows == 0 || rows > self.frames.capacity() {
            return false;
        }
        self.frames.clear();
        self.frames.resize(rows, u64::MAX);
        self.engine.run(&self.frames, &input, &mut outputs).is_ok()
    }
}
