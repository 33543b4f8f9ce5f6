//! Stage threads connected by latest-wins slots and bounded channels, moving pooled buffers;
//! several cameras share one engine through a deadline-aware batch former.
//!
//! ```text
//! camera c: submit_to(c, msg) ─► [ingress queue] ─► ingest ─► [latest-wins] ─► preprocess ─► [ready, latest-wins]
//!                                                                                                  │ every camera
//!                     batch former (EDF, cost(b), criticality, holds) on the engine thread ◄──────┘
//!                         │ row i ← fused pass of frame i, then one engine run over b rows
//!                         ▼
//!                     row stage (decode each row) ─► publish (deadline checked last) ─► per-camera sink
//! ```
//!
//! One thread per camera stage and per shared stage, each set up through [`crate::rt`]
//! (pinning, SCHED_FIFO). At every hop the frame's deadline is checked (`MissedAt{stage}`),
//! then whether the expected cost of the remaining stages still fits (`PredictedMiss{stage}`),
//! then the stage runs, then its optional budget is checked. The predicted-miss decision is each
//! stage's [`PredictionGate`](crate::deadline::PredictionGate): the second predicted miss in a
//! row goes through as a *probe* (no predictive checks, deadline checks as usual), then every
//! 4th while predictions keep failing; a probe still in time restarts the stage's cost estimate,
//! so costs inflated by a stall that has ended cannot keep frames dropped. The engine thread asks the
//! [`BatchFormer`] which waiting frames run together (see [`former`]). Publish checks the
//! deadline last, immediately before the send: nothing is ever published after its deadline.
//! Every outcome updates the lock-free accounting (per camera) and the safety monitors (one per
//! camera and one for the engine; a short-held lock, never across stages). In steady state
//! nothing here allocates.
//!
//! # Plugging in stages
//!
//! Per camera, implement [`IngestStage`] (header, then the single copy of the pixels into a
//! pooled buffer) and [`ProcessStage`] for preprocessing. Shared: a [`BatchStage`] for the
//! engine (`open` a pooled batch, `add` each frame as a row, `run`), a [`RowStage`] that turns
//! each row of a finished batch into one frame's output, and a [`PublishStage`] for the sink
//! (it sees [`FrameMeta::camera`]). [`StageSet::single`] builds a one-camera pipeline from
//! single-frame stages (closures work through [`FnStage`]). Return
//! `FrameError::PoolExhausted(stage)` when a pool is empty, `FrameError::BadInput(kind)` for bad
//! data, `FrameError::Engine` for engine failures; a panic in a stage is caught and counted as
//! `EngineError`.
//!
//! Pools are the integrator's: create them before [`Pipeline::start`] with
//! `pipeline.frame_pool_size` / `pipeline.tensor_pool_size` buffers, so that memory locking
//! (after the threads start) covers them.
//!
//! # For the replay driver
//!
//! Feed records with [`Pipeline::submit_to`] (pace it yourself; each camera's ingress queue
//! keeps its newest `pipeline.channel_capacity` messages), then [`Pipeline::shutdown`] returns a
//! [`PipelineSummary`]: exact accounting per camera and overall
//! (`summary.accounting.balances()`), per-stage and end-to-end histograms, every level change
//! with its time, the batch former's decisions, and the real-time grants.
//!
//! # For the ROS 2 node
//!
//! Call a [`Submitter`] of each camera from its subscription callback (never blocks, never
//! allocates), read [`Pipeline::transitions`] to publish alarms as they happen, and publish
//! [`Pipeline::snapshot_of`] each of [`Pipeline::monitors`] on `/diagnostics` every
//! `monitor.diagnostics_period_ms`. The watchdog (sensor and output silence) runs on its own
//! thread.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use redline::config::{
//!     BatchingConfig, DeadlineConfig, MonitorConfig, PipelineConfig, StageThreadConfig,
//! };
//! use redline::deadline::SystemClock;
//! use redline::error::{FrameError, Stage};
//! use redline::frame::{Lease, Pool, Stamp};
//! use redline::pipeline::*;
//!
//! /// Messages are (stamp, bytes); frames are pooled copies of the bytes.
//! struct Ingest { frames: Pool<Vec<u8>> }
//! impl IngestStage for Ingest {
//!     type Message = (Stamp, Vec<u8>);
//!     type Frame = Lease<Vec<u8>>;
//!     fn header(&mut self, m: &Self::Message) -> Result<FrameHeader, FrameError> {
//!         Ok(FrameHeader { stamp: m.0, ..Default::default() })
//!     }
//!     fn load(&mut self, m: Self::Message, _: &FrameMeta) -> Result<Self::Frame, FrameError> {
//!         let mut buf = self.frames.try_lease().ok_or(FrameError::PoolExhausted(Stage::Ingest))?;
//!         buf.clear();
//!         buf.extend_from_slice(&m.1); // capacity preallocated: no allocation
//!         Ok(buf)
//!     }
//! }
//!
//! let settings = PipelineSettings {
//!     deadline: DeadlineConfig { budget_ms: 100.0, stage_budget_ms: [None; 5], predictive: true,
//!         cost_percentile: 99.0, max_future_ms: 50.0, max_age_ms: 10_000.0 },
//!     monitor: MonitorConfig { warn_consecutive_misses: 2, error_consecutive_misses: 5,
//!         window_frames: 50, warn_miss_ratio: 0.05, error_miss_ratio: 0.2,
//!         recover_after_on_time: 10, sensor_timeout_ms: 500.0, output_timeout_ms: 1000.0,
//!         diagnostics_period_ms: 1000.0 },
//!     pipeline: PipelineConfig { frame_pool_size: 4, tensor_pool_size: 3, channel_capacity: 2,
//!         stages: [StageThreadConfig::default(); 5], lock_memory: false, memory_budget_mb: 1024 },
//!     cameras: vec![CameraSettings::named("front", 100.0)],
//!     batching: BatchingConfig::default(),
//! };
//! let clock = Arc::new(SystemClock::new());
//! let frames = Pool::new(4, |_| Vec::with_capacity(64)).unwrap();
//! let pipeline = Pipeline::start(&settings, clock.clone(), StageSet::single(
//!     Ingest { frames },
//!     FnStage(|f: Lease<Vec<u8>>, _: &FrameMeta| Ok(f.len())),
//!     FnStage(|n: usize, _: &FrameMeta| Ok(n * 2)),
//!     FnStage(|n: usize, _: &FrameMeta| Ok(n + 1)),
//!     FnStage(|_n: usize, _: &FrameMeta| Ok(())),
//! )).unwrap();
//! use redline::deadline::Clock;
//! pipeline.submit((clock.ros_now(), vec![1, 2, 3]));
//! let live = pipeline.snapshot();            // for /diagnostics
//! let (summary, _stages) = pipeline.shutdown().unwrap();
//! assert!(summary.accounting.balances());
//! assert_eq!(summary.accounting.in_flight, 0);
//! # let _ = live;
//! ```

mod assemble;
mod camera;
mod camera_threads;
mod engine_thread;
mod events;
pub mod former;
mod handle;
mod inflight;
mod monitors;
mod observe;
mod output_threads;
mod rules;
mod shared;
pub mod sim;
mod slot;
mod stage;

pub use camera::{CameraId, CameraSettings};
pub use events::FrameEvent;
pub use former::{BatchFormer, FormerStats};
pub use handle::{
    CameraSummary, Pipeline, PipelineError, PipelineSettings, PipelineSummary, Stopped, Submitted,
    Submitter,
};
pub use monitors::{worst, LevelChange, MonitorId};
pub use observe::RunningPipeline;
pub use stage::{
    BatchStage, CameraStages, FnStage, FrameHeader, FrameMeta, IngestStage, PerRow, ProcessStage,
    PublishStage, RowStage, Single, StageSet, Unbatched,
};
