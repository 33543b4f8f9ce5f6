//! The concrete perception stages that plug into [`crate::pipeline`]: CDR ingest into pooled
//! frames, fused preprocessing into pooled engine inputs, inference into pooled outputs, decoding
//! into pooled detection arrays, and a publish stage over a [`DetectionSink`]. The replay driver
//! and the ROS 2 node build the same stage set and differ only in their sink.
//!
//! Every buffer is created here at start-up; each pool is sized so that the channels between
//! stages can be full while every stage holds one buffer, so pool exhaustion means a stage is
//! leaking or stuck, not ordinary back-pressure.

mod decode;
mod detection_encoder;
mod frame_buffer;
mod infer;
mod ingest;
mod preprocess;
mod publish;

pub use decode::DecodeStage;
pub use detection_encoder::Detection2DArrayEncoder;
pub use frame_buffer::{initial_frame_capacity, FrameBuffer, FrameKind};
pub use infer::{InferStage, Inferred};
pub use ingest::CdrIngest;
pub use preprocess::{PreprocessStage, Preprocessed};
pub use publish::{DetectionSink, SinkStage};

use crate::config::Config;
use crate::detect::{DecodeParams, Decoder};
use crate::frame::Pool;
use crate::infer::Engine;
use crate::pipeline::StageSet;
use crate::preprocess::{CompressedDecoder, PreprocessSpec, Preprocessor};

/// The stage set both integrators run.
pub type PerceptionStages<M, S> =
    StageSet<CdrIngest<M>, PreprocessStage, InferStage, DecodeStage, SinkStage<S>>;

/// Build every stage and preallocate every buffer for `config` around a loaded `engine`.
pub fn build<M, S>(config: &Config, engine: Box<dyn Engine>, sink: S) -> PerceptionStages<M, S>
where
    M: AsRef<[u8]> + Send + 'static,
    S: DetectionSink,
{
    let p = &config.pipeline;
    let limits = config.input.limits;
    // A buffer in each neighbouring stage plus a full channel between them.
    let in_transit = p.channel_capacity + 2;
    let frame_capacity = initial_frame_capacity(limits);
    let frames = Pool::at_least_one(p.frame_pool_size.max(3), |_| {
        FrameBuffer::with_capacity(frame_capacity, limits)
    });
    let tensors = Pool::at_least_one(p.tensor_pool_size.max(in_transit), |_| engine.new_input());
    let outputs = Pool::at_least_one(in_transit, |_| engine.new_outputs());
    let decoder = Decoder::new(DecodeParams::new(&config.model, engine.contract()));
    let detections = Pool::at_least_one(in_transit, |_| decoder.new_detections());
    StageSet {
        ingest: CdrIngest::new(config.input.transport, limits, frames),
        preprocess: PreprocessStage::new(
            Preprocessor::new(PreprocessSpec::from_model(&config.model)),
            CompressedDecoder::new(limits),
            tensors,
        ),
        infer: InferStage::new(engine, outputs),
        decode: DecodeStage::new(decoder, detections),
        publish: SinkStage(sink),
    }
}
