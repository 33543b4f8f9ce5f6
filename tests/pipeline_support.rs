//! Shared helpers for the pipeline integration tests (included with `#[path]`): settings, a
//! test message type that never allocates, and configurable test stages.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redline::config::{
    BatchingConfig, DeadlineConfig, MonitorConfig, PipelineConfig, StageThreadConfig,
};
use redline::deadline::Clock;
use redline::error::{BadInputKind, FrameError, Stage};
use redline::frame::{Lease, Pool, Stamp};
use redline::pipeline::{CameraSettings, FrameHeader, FrameMeta, IngestStage, PipelineSettings};

pub fn settings(budget_ms: f64) -> PipelineSettings {
    PipelineSettings {
        deadline: DeadlineConfig {
            budget_ms,
            stage_budget_ms: [None; Stage::COUNT],
            predictive: true,
            cost_percentile: 99.0,
            max_future_ms: 50.0,
            max_age_ms: 10_000.0_f64.max(budget_ms),
        },
        monitor: MonitorConfig {
            warn_consecutive_misses: 2,
            error_consecutive_misses: 5,
            window_frames: 50,
            warn_miss_ratio: 0.05,
            error_miss_ratio: 0.2,
            recover_after_on_time: 10,
            sensor_timeout_ms: 60_000.0,
            output_timeout_ms: 60_000.0,
            diagnostics_period_ms: 1000.0,
        },
        pipeline: PipelineConfig {
            frame_pool_size: 4,
            tensor_pool_size: 3,
            channel_capacity: 2,
            stages: [StageThreadConfig::default(); Stage::COUNT],
            lock_memory: false,
            memory_budget_mb: 1024,
        },
        cameras: vec![CameraSettings::named("test", budget_ms)],
        batching: BatchingConfig::default(),
    }
}

/// A message: capture stamp, sequence number, and whether its pixels are bad. `Copy`: feeding
/// it never allocates.
#[derive(Copy, Clone, Debug)]
pub struct TestMessage {
    pub stamp: Stamp,
    pub id: u64,
    pub bad: bool,
}

/// Busy-wait `micros` microseconds (sleep granularity is far coarser).
pub fn spin_for(micros: u64) {
    let until = Instant::now() + Duration::from_micros(micros);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// The pixel payload every test frame carries.
pub const PIXELS: [u8; 4096] = [7u8; 4096];

/// Ingest: copies [`PIXELS`] into a pooled buffer and writes the message id in front.
pub struct TestIngest {
    pub frames: Pool<Vec<u8>>,
    pub delay_us: Arc<dyn Fn(u64) -> u64 + Send + Sync>,
}

impl TestIngest {
    pub fn new(pool_size: usize) -> Self {
        Self {
            frames: Pool::new(pool_size, |_| Vec::with_capacity(PIXELS.len() + 8)).unwrap(),
            delay_us: Arc::new(|_| 0),
        }
    }
}

impl IngestStage for TestIngest {
    type Message = TestMessage;
    type Frame = Lease<Vec<u8>>;

    fn header(&mut self, message: &TestMessage) -> Result<FrameHeader, FrameError> {
        Ok(FrameHeader {
            stamp: message.stamp,
            ..Default::default()
        })
    }

    fn load(&mut self, message: TestMessage, _meta: &FrameMeta) -> Result<Self::Frame, FrameError> {
        if message.bad {
            return Err(FrameError::BadInput(BadInputKind::DataTooShort));
        }
        spin_for((self.delay_us)(message.id));
        let mut frame = self
            .frames
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Ingest))?;
        frame.clear();
        frame.extend_from_slice(&message.id.to_le_bytes());
        frame.extend_from_slice(&PIXELS);
        Ok(frame)
    }
}

/// The id written at the front of a frame.
pub fn frame_id(frame: &[u8]) -> u64 {
    let mut id = [0u8; 8];
    id.copy_from_slice(&frame[..8]);
    u64::from_le_bytes(id)
}

/// A message stamped now on `clock`.
pub fn message_now(clock: &dyn Clock, id: u64) -> TestMessage {
    TestMessage {
        stamp: clock.ros_now(),
        id,
        bad: false,
    }
}

/// A shared counter.
#[derive(Clone, Default)]
pub struct Counter(pub Arc<AtomicU64>);

impl Counter {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
