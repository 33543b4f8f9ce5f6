//! Images in, detections out: preprocessing, engine and decoder composed for single images or a
//! list of them run in batches (the `detect` CLI, golden and batching tests). The pipeline runs
//! the same three stages on separate threads.

use crate::config::ModelConfig;
use crate::error::FrameError;
use crate::frame::{Detection, ImageView};
use crate::infer::{load_engine, Engine, InputTensor, ModelError, OutputBuffers};
use crate::preprocess::{PreprocessSpec, Preprocessor};

use super::{DecodeParams, DecodeStats, Decoder};

/// A loaded model with its preprocessing, buffers and decoder.
pub struct ImageDetector {
    preprocessor: Preprocessor,
    engine: Box<dyn Engine>,
    decoder: Decoder,
    input: InputTensor,
    outputs: OutputBuffers,
    detections: Vec<Detection>,
    class_names: Vec<String>,
    seq: u64,
}

impl ImageDetector {
    /// Load and validate the model; allocate every buffer.
    pub fn new(config: &ModelConfig) -> Result<Self, ModelError> {
        let engine = load_engine(config)?;
        let decoder = Decoder::new(DecodeParams::new(config, engine.contract()));
        Ok(Self {
            preprocessor: Preprocessor::new(PreprocessSpec::from_model(config)),
            input: engine.new_input(),
            outputs: engine.new_outputs(),
            detections: decoder.new_detections(),
            decoder,
            engine,
            class_names: config.class_names.clone(),
            seq: 0,
        })
    }

    /// The engine (contract, timing).
    pub fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }

    /// Detect objects in `image`; boxes in its pixels, best first.
    pub fn detect(
        &mut self,
        image: &ImageView<'_>,
    ) -> Result<(&[Detection], DecodeStats), FrameError> {
        let transform = self.preprocessor.run(image, self.input.row_mut(0)?)?;
        self.engine
            .run(&[self.seq], &self.input, &mut self.outputs)?;
        self.seq += 1;
        let stats = self
            .decoder
            .decode(&self.outputs, 0, &transform, &mut self.detections)?;
        Ok((&self.detections, stats))
    }

    /// Detect objects in each of `images`, running them through the engine in batches of up
    /// to [`Engine::max_batch`] rows (one preprocessing pass straight into each row); returns
    /// one detection list per image, in order. Allocates the lists (tests, CLI).
    pub fn detect_many(
        &mut self,
        images: &[ImageView<'_>],
    ) -> Result<Vec<Vec<Detection>>, FrameError> {
        let mut all = Vec::with_capacity(images.len());
        let mut transforms = Vec::with_capacity(self.engine.max_batch());
        let mut frames = Vec::with_capacity(self.engine.max_batch());
        for chunk in images.chunks(self.engine.max_batch().max(1)) {
            transforms.clear();
            frames.clear();
            for (row, image) in chunk.iter().enumerate() {
                transforms.push(self.preprocessor.run(image, self.input.row_mut(row)?)?);
                frames.push(self.seq);
                self.seq += 1;
            }
            self.engine.run(&frames, &self.input, &mut self.outputs)?;
            for (row, transform) in transforms.iter().enumerate() {
                self.decoder
                    .decode(&self.outputs, row, transform, &mut self.detections)?;
                all.push(self.detections.clone());
            }
        }
        Ok(all)
    }

    /// The name of class `id` (`"?"` when out of range).
    pub fn class_name(&self, id: u32) -> &str {
        self.class_names
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }
}
