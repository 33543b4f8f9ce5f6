//! The publish stage: hands a frame's detections to a [`DetectionSink`] (the ROS publisher, or
//! the replay's MCAP writer). The pipeline has already checked the deadline, last, just before
//! calling it.

use crate::error::FrameError;
use crate::frame::{Detection, Lease};
use crate::pipeline::{FrameHeader, FrameMeta, PublishStage};

/// Where detections go.
pub trait DetectionSink: Send + 'static {
    /// Send one frame's detections (boxes in source pixels; header copied from the image).
    fn send(
        &mut self,
        meta: &FrameMeta,
        header: &FrameHeader,
        detections: &[Detection],
    ) -> Result<(), FrameError>;
}

/// Adapts a [`DetectionSink`] to the pipeline's publish stage.
pub struct SinkStage<S>(pub S);

impl<S: DetectionSink> PublishStage<Lease<Vec<Detection>>> for SinkStage<S> {
    fn publish(
        &mut self,
        detections: Lease<Vec<Detection>>,
        meta: &FrameMeta,
    ) -> Result<(), FrameError> {
        self.0.send(meta, &meta.header, &detections)
    }
}
