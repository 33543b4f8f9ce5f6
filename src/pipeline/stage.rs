//! What the integrators plug in: the stage traits ([`IngestStage`], [`ProcessStage`],
//! [`BatchStage`], [`RowStage`], [`PublishStage`]), the per-frame metadata every stage sees
//! ([`FrameMeta`]), and adapters that turn closures and single-frame stages into stages
//! ([`FnStage`], [`Unbatched`], [`PerRow`]).
//!
//! Per camera: ingest → preprocess. Shared by every camera: one batch stage (the engine), one
//! row stage (decoding each row of a batch) and one publish stage (routing by
//! [`FrameMeta::camera`]).

use crate::deadline::{FrameDeadline, MonoTime};
use crate::error::FrameError;
use crate::frame::{FrameId, Stamp};
use crate::pipeline::camera::CameraId;

/// The header fields that travel with a frame (from `std_msgs/Header`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameHeader {
    pub stamp: Stamp,
    pub frame_id: FrameId,
}

/// Per-frame metadata, set at ingest and carried with the payload.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// Arrival order over all cameras, from 0.
    pub seq: u64,
    /// The camera the frame came from.
    pub camera: CameraId,
    pub header: FrameHeader,
    pub deadline: FrameDeadline,
    /// When the frame was handed to the stage now holding it (monotonic).
    pub handoff: MonoTime,
    /// A probe: let through despite a predicted miss, to re-measure stage costs (see
    /// [`crate::pipeline`]). Probes skip predictive checks but not deadline checks.
    pub probe: bool,
}

/// The ingest stage: reads the header of a received message, then copies its bytes into a
/// pooled frame buffer — the one copy the pipeline makes. It runs on its camera's ingest thread,
/// which owns the message only until `load` returns.
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

/// A single-frame stage (a camera's preprocessing): consumes its input, produces its output.
pub trait ProcessStage<In>: Send + 'static {
    type Output: Send + 'static;
    fn process(&mut self, input: In, meta: &FrameMeta) -> Result<Self::Output, FrameError>;
}

/// The engine stage, shared by every camera: frames are added one row at a time into a pooled
/// batch (the fused preprocessing pass writes straight into row `i` of the engine input), then
/// the rows run together.
pub trait BatchStage<In>: Send + 'static {
    /// A finished batch: everything the row stage needs to decode each row.
    type Batch: Send + 'static;

    /// Most rows one run takes (≥ 1).
    fn max_batch(&self) -> usize;

    /// Start a new batch (lease its buffers). On error no row is added.
    fn open(&mut self) -> Result<(), FrameError>;

    /// Add `input` as the next row of the open batch. On error the frame is dropped and takes
    /// no row.
    fn add(&mut self, input: In, meta: &FrameMeta) -> Result<(), FrameError>;

    /// Run the rows added since `open`; `rows[i]` is the frame in row `i`.
    fn run(&mut self, rows: &[FrameMeta]) -> Result<Self::Batch, FrameError>;

    /// Forget an open batch without running it (its buffers return to their pools).
    fn abandon(&mut self);

    /// Run the engine once over `rows` rows of whatever its input holds, to measure what a run
    /// of that size costs before the first frame arrives. `false` when the stage cannot run
    /// without frames (then the former learns from real runs only).
    fn calibrate(&mut self, rows: usize) -> bool {
        let _ = rows;
        false
    }
}

/// The stage after the engine: turns row `row` of a finished batch into one frame's output.
pub trait RowStage<B>: Send + 'static {
    type Output: Send + 'static;
    fn process_row(
        &mut self,
        batch: &mut B,
        row: usize,
        meta: &FrameMeta,
    ) -> Result<Self::Output, FrameError>;
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

/// A single-frame stage as a [`BatchStage`] of one row: `add` keeps the input, `run` processes
/// it. The batch is the output, handed to [`PerRow`].
pub struct Unbatched<P, In> {
    stage: P,
    pending: Option<In>,
}

impl<P, In> Unbatched<P, In> {
    pub fn new(stage: P) -> Self {
        Self {
            stage,
            pending: None,
        }
    }

    /// The wrapped stage.
    pub fn inner(&self) -> &P {
        &self.stage
    }
}

/// The output of an [`Unbatched`] stage, taken once by [`PerRow`].
pub struct Single<T>(pub Option<T>);

impl<In, P> BatchStage<In> for Unbatched<P, In>
where
    In: Send + 'static,
    P: ProcessStage<In>,
{
    type Batch = Single<P::Output>;

    fn max_batch(&self) -> usize {
        1
    }

    fn open(&mut self) -> Result<(), FrameError> {
        self.pending = None;
        Ok(())
    }

    fn add(&mut self, input: In, _meta: &FrameMeta) -> Result<(), FrameError> {
        self.pending = Some(input);
        Ok(())
    }

    fn run(&mut self, rows: &[FrameMeta]) -> Result<Self::Batch, FrameError> {
        match (self.pending.take(), rows.first()) {
            (Some(input), Some(meta)) => self.stage.process(input, meta).map(|o| Single(Some(o))),
            _ => Err(FrameError::Engine),
        }
    }

    fn abandon(&mut self) {
        self.pending = None;
    }
}

/// A single-frame stage as a [`RowStage`] over the output of [`Unbatched`].
pub struct PerRow<D>(pub D);

impl<T, D> RowStage<Single<T>> for PerRow<D>
where
    T: Send + 'static,
    D: ProcessStage<T>,
{
    type Output = D::Output;

    fn process_row(
        &mut self,
        batch: &mut Single<T>,
        _row: usize,
        meta: &FrameMeta,
    ) -> Result<D::Output, FrameError> {
        let input = batch.0.take().ok_or(FrameError::Engine)?;
        self.0.process(input, meta)
    }
}

/// One camera's own stages.
pub struct CameraStages<I, P> {
    pub ingest: I,
    pub preprocess: P,
}

/// Every stage of a pipeline: each camera's ingest and preprocessing (camera index = position),
/// then the shared engine, row decoding and publishing.
pub struct StageSet<I, P, N, D, S> {
    pub cameras: Vec<CameraStages<I, P>>,
    pub infer: N,
    pub decode: D,
    pub publish: S,
}

impl<I, P, N, D, S> StageSet<I, P, Unbatched<N, P::Output>, PerRow<D>, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
{
    /// One camera with single-frame infer and decode stages (no batching): the shape of a
    /// pipeline before cameras and batches, for tests and simple integrations.
    pub fn single(ingest: I, preprocess: P, infer: N, decode: D, publish: S) -> Self {
        Self {
            cameras: vec![CameraStages { ingest, preprocess }],
            infer: Unbatched::new(infer),
            decode: PerRow(decode),
            publish,
        }
    }
}
