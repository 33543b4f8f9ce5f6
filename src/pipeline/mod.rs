//! Stage threads connected by a latest-wins slot and bounded channels, moving pooled buffers.
//!
//! ```text
//! submit(msg) ─► [ingress queue] ─► ingest ─► [latest-wins slot, cap 1] ─► preprocess
//!                 oldest evicted:    header,     evicted frame: Superseded,     │ bounded
//!                 Superseded         admit,      buffer back to its pool        ▼ channels
//!                                    copy once                        infer ─► decode ─► publish
//! ```
//!
//! One thread per stage, each set up through [`crate::rt`] (pinning, SCHED_FIFO). At every hop
//! the frame's deadline is checked (`MissedAt{stage}`), then whether the expected cost of the
//! remaining stages still fits (`PredictedMiss{stage}`), then the stage runs, then its optional
//! budget is checked. The predicted-miss decision is each stage's
//! [`PredictionGate`](crate::deadline::PredictionGate): the second predicted miss in a row goes
//! through as a *probe* (no predictive checks, deadline checks as usual), then every 4th while
//! predictions keep failing; a probe still in time restarts the stage cost estimates, so costs
//! inflated by a stall that has ended cannot keep frames dropped. Publish checks the deadline
//! last, immediately before the send: nothing is ever published after its deadline. Every outcome updates the lock-free accounting and the
//! safety monitor (a short-held lock, never across stages). In steady state nothing here
//! allocates.
//!
//! # Plugging in stages
//!
//! Implement [`IngestStage`] (header, then the single copy of the pixels into a pooled buffer),
//! [`ProcessStage`] for preprocess/infer/decode (consume the input, produce the output — e.g.
//! a `Lease` of a tensor from a [`crate::frame::Pool`]), and [`PublishStage`] for the sink.
//! Closures work through [`FnStage`]. Return `FrameError::PoolExhausted(stage)` when a pool is
//! empty, `FrameError::BadInput(kind)` for bad data, `FrameError::Engine` for engine failures;
//! a panic in a stage is caught and counted as `EngineError`.
//!
//! Pools are the integrator's: create them before [`Pipeline::start`] with
//! `pipeline.frame_pool_size` / `pipeline.tensor_pool_size` buffers, so that memory locking
//! (after the threads start) covers them.
//!
//! # For the replay driver
//!
//! Feed records with [`Pipeline::submit`] (pace it yourself; the ingress queue keeps the newest
//! `pipeline.channel_capacity` messages), then [`Pipeline::shutdown`] returns a
//! [`PipelineSummary`]: exact accounting (`summary.accounting.balances()`), per-stage and
//! end-to-end histograms, every monitor transition with its time, and the real-time grants.
//!
//! # For the ROS 2 node
//!
//! Call [`Pipeline::submit`] (or a cloned [`Pipeline::submitter`]) from the subscription
//! callback (never blocks, never allocates), read
//! [`Pipeline::transitions`] to publish alarms as they happen, and publish
//! [`Pipeline::snapshot`] on `/diagnostics` every `monitor.diagnostics_period_ms`. The watchdog
//! (sensor and output silence) runs on its own thread.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use redline::config::{DeadlineConfig, MonitorConfig, PipelineConfig, StageThreadConfig};
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
//!         stages: [StageThreadConfig::default(); 5], lock_memory: false },
//! };
//! let clock = Arc::new(SystemClock::new());
//! let frames = Pool::new(4, |_| Vec::with_capacity(64)).unwrap();
//! let pipeline = Pipeline::start(&settings, clock.clone(), StageSet {
//!     ingest: Ingest { frames },
//!     preprocess: FnStage(|f: Lease<Vec<u8>>, _: &FrameMeta| Ok(f.len())),
//!     infer: FnStage(|n: usize, _: &FrameMeta| Ok(n * 2)),
//!     decode: FnStage(|n: usize, _: &FrameMeta| Ok(n + 1)),
//!     publish: FnStage(|_n: usize, _: &FrameMeta| Ok(())),
//! }).unwrap();
//! use redline::deadline::Clock;
//! pipeline.submit((clock.ros_now(), vec![1, 2, 3]));
//! let live = pipeline.snapshot();            // for /diagnostics
//! let (summary, _stages) = pipeline.shutdown().unwrap();
//! assert!(summary.accounting.balances());
//! assert_eq!(summary.accounting.in_flight, 0);
//! # let _ = live;
//! ```

mod events;
mod handle;
mod observe;
mod shared;
mod slot;
mod stage;
mod workers;

pub use events::FrameEvent;
pub use handle::{
    Pipeline, PipelineError, PipelineSettings, PipelineSummary, Stopped, Submitted, Submitter,
};
pub use observe::RunningPipeline;
pub use stage::{
    FnStage, FrameHeader, FrameMeta, IngestStage, ProcessStage, PublishStage, StageSet,
};
