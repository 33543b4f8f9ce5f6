//! The concrete perception stages that plug into [`crate::pipeline`]: per camera, CDR ingest
//! into pooled frames and preprocessing (JPEG/PNG decode into pooled buffers); shared, the
//! engine stage (the fused pass straight into row *i* of a pooled batch input, then one run) and
//! the row stage (decoding each row into pooled detection arrays); and a publish stage over a
//! [`DetectionSink`]. The replay driver and the ROS 2 node build the same stage set and differ
//! only in their sink.
//!
//! Every buffer is created here at start-up; each pool is sized so that the slots and channels
//! between stages can be full while every stage holds one buffer, so pool exhaustion means a
//! stage is leaking or stuck, not ordinary back-pressure.

mod decode;
mod detection_encoder;
mod frame_buffer;
mod infer;
mod ingest;
mod preprocess;
mod publish;
mod status;

pub use decode::DecodeStage;
pub use detection_encoder::Detection2DArrayEncoder;
pub use frame_buffer::{initial_frame_capacity, FrameBuffer, FrameKind};
pub use infer::{InferStage, InferredBatch};
pub use ingest::CdrIngest;
pub use preprocess::{Prepared, PreprocessStage};
pub use publish::{DetectionSink, SinkStage};
pub use status::{AlarmBoard, AlarmTopic, MonitorNames, ENGINE_STATUS_NAME};

use crate::config::{Config, ImageTransport};
use crate::detect::{DecodeParams, Decoder};
use crate::frame::Pool;
use crate::infer::Engine;
use crate::pipeline::{CameraStages, StageSet};
use crate::preprocess::{CompressedDecoder, PreprocessSpec, Preprocessor};

/// The stage set both integrators run.
pub type PerceptionStages<M, S> =
    StageSet<CdrIngest<M>, PreprocessStage, InferStage, DecodeStage, SinkStage<S>>;

/// Frames a camera holds at once when its frames are raw: ingest, the latest-wins slot,
/// preprocessing, the ready slot, and the one waiting for the engine.
pub const RAW_FRAMES_IN_FLIGHT: usize = 5;
/// Decoded frames a compressed camera holds at once: being decoded, ready, waiting.
pub const DECODED_FRAMES_IN_FLIGHT: usize = 3;

/// Build every stage and preallocate every buffer for `config`'s cameras around a loaded
/// `engine`.
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
    let decoder = CompressedDecoder::new(limits);
    let cameras = config
        .camera_list()
        .iter()
        .map(|camera| {
            let (frames_wanted, decoded_wanted, decoded_capacity) = match camera.transport {
                ImageTransport::Raw => (p.frame_pool_size.max(RAW_FRAMES_IN_FLIGHT), 1, 0),
                ImageTransport::Compressed => (
                    p.frame_pool_size.max(3),
                    DECODED_FRAMES_IN_FLIGHT,
                    decoder.buffer_capacity(),
                ),
            };
            let frames = Pool::at_least_one(frames_wanted, |_| {
                FrameBuffer::with_capacity(frame_capacity, limits)
            });
            let decoded = Pool::at_least_one(decoded_wanted, |_| {
                FrameBuffer::with_capacity(decoded_capacity, limits)
            });
            CameraStages {
                ingest: CdrIngest::new(camera.transport, limits, frames),
                preprocess: PreprocessStage::new(CompressedDecoder::new(limits), decoded),
            }
        })
        .collect();
    let row_decoder = Decoder::new(DecodeParams::new(&config.model, engine.contract()));
    let detections = Pool::at_least_one(in_transit, |_| row_decoder.new_detections());
    StageSet {
        cameras,
        infer: InferStage::new(
            engine,
            Preprocessor::new(PreprocessSpec::from_model(&config.model)),
            in_transit,
        ),
        decode: DecodeStage::new(row_decoder, detections),
        publish: SinkStage(sink),
    }
}
