//! What the integrators plug in: the stage traits ([`IngestStage`], [`ProcessStage`],
//! [`PublishStage`]), the per-frame metadata every stage sees ([`FrameMeta`]), and
//! [`FnStage`], which turns a closure into a stage.

use crate::deadline::{FrameDeadline, MonoTime};
use crate::error::FrameError;
use crate::frame::{FrameId, Stamp};

/// The header fields that travel with a frame (from `std_msgs/Header`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameHeader {
    pub stamp: Stamp,
    pub frame_id: FrameId,
}

/// Per-frame metadata, set at ingest and carried with the payload.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// Arrival order, from 0.
    pub seq: u64,
    pub header: FrameHeader,
    pub deadline: FrameDeadline,
    /// When the frame was handed to the stage now holding it (monotonic).
    pub handoff: MonoTime,
}

/// The ingest stage: reads the header of a received message, then copies its bytes into a
/// pooled frame buffer — the one copy the pipeline makes. It runs on the ingest thread, which
/// owns the message only until `load` returns.
pub trait IngestStage: Send + 'static {
    /// A received message as the integrator hands it over (e.g. CDR bytes of a
    /// `sensor_msgs/Image`, or a bag record).
    type Message: Send + 'static;
    /// The pooled frame handed to preprocessing (e.g. a `Lease` of a frame buffer).
    type Frame: Send + 'static;

    /// Stamp and frame id, read without copying the pixels. Called before the deadline is
    /// known: a stale or skewed frame is dropped before its bytes are copied.
    fn header(&mut self, message: &Self::Message) -> Result<FrameHeader, FrameError>;

    /// Copy the pixels into a pooled buffer (`FrameError::PoolExhausted(Stage::Ingest)` when
    /// none is free).
    fn load(&mut self, message: Self::Message, meta: &FrameMeta)
        -> Result<Self::Frame, FrameError>;
}

/// A middle stage (preprocess, infer, decode): consumes its input, produces its output.
pub trait ProcessStage<In>: Send + 'static {
    type Output: Send + 'static;
    fn process(&mut self, input: In, meta: &FrameMeta) -> Result<Self::Output, FrameError>;
}

/// The publish stage: sends the result. The pipeline calls it only after checking, last, that
/// the frame's deadline has not passed.
pub trait PublishStage<In>: Send + 'static {
    fn publish(&mut self, input: In, meta: &FrameMeta) -> Result<(), FrameError>;
}

/// A closure as a [`ProcessStage`] (`FnMut(In, &FrameMeta) -> Result<Out, FrameError>`) or a
/// [`PublishStage`] (`FnMut(In, &FrameMeta) -> Result<(), FrameError>`).
pub struct FnStage<F>(pub F);

impl<In, Out, F> ProcessStage<In> for FnStage<F>
where
    F: FnMut(In, &FrameMeta) -> Result<Out, FrameError> + Send + 'static,
    Out: Send + 'static,
{
    type Output = Out;
    fn process(&mut self, input: In, meta: &FrameMeta) -> Result<Out, FrameError> {
        (self.0)(input, meta)
    }
}

impl<In, F> PublishStage<In> for FnStage<F>
where
    F: FnMut(In, &FrameMeta) -> Result<(), FrameError> + Send + 'static,
{
    fn publish(&mut self, input: In, meta: &FrameMeta) -> Result<(), FrameError> {
        (self.0)(input, meta)
    }
}

/// The five stages of a pipeline, in order.
pub struct StageSet<I, P, N, D, S> {
    pub ingest: I,
    pub preprocess: P,
    pub infer: N,
    pub decode: D,
    pub publish: S,
}
