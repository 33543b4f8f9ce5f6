//! `redline bench batching`: the three ways to share one engine between cameras, side by side
//! on the same synthetic load, on the virtual clock (deterministic, fast, independent of the
//! machine):
//!
//! * `fifo` — one frame per engine run, first come first served: N nodes sharing a GPU.
//! * `timeout` — round-robin batches of `min(max_batch, N)`, pushed when full or a fixed time
//!   after the first frame (`nvstreammux`'s `batched-push-timeout`).
//! * `edf` — redline's deadline-aware former.
//!
//! N synthetic cameras deliver frames at `rate` Hz with staggered phases (camera `i` starts at
//! `i / N` of a period), each frame stamped at capture and due `budget` later. The engine costs
//! `cost(b)` per run of `b` rows (e.g. `4ms+1.5ms*b±10%`); every other stage is free. All three
//! policies run behind redline's own rules (latest-wins per camera, a frame whose deadline has
//! passed is dropped rather than run), which only flatters the baselines. Camera 0 has the
//! highest criticality.
//!
//! A frame counts as a miss when it is not published before its deadline, whatever the reason
//! (dropped late, superseded, predicted to miss): `miss_ratio = 1 − published / delivered`.

use std::sync::Arc;

use serde::Serialize;

use crate::config::{
    BatchPolicyKind, BatchingConfig, CostSpec, DeadlineConfig, MonitorConfig, PipelineConfig,
    StageThreadConfig,
};
use crate::deadline::{AccountingSnapshot, Clock, LatencySummary, ManualClock, MonoTime};
use crate::error::{FrameError, Stage};
use crate::frame::Stamp;
use crate::pipeline::sim::{simulate, Arrival, SimCosts, SimOptions};
use crate::pipeline::{
    BatchStage, CameraSettings, CameraStages, FnStage, FrameHeader, FrameMeta, IngestStage,
    PipelineError, PipelineSettings, RowStage, StageSet,
};

/// One benchmark run.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchingBench {
    pub cameras: usize,
    pub rate_hz: f64,
    pub budget_ms: f64,
    pub engine_cost: CostSpec,
    pub policy: BatchPolicyKind,
    /// Rows one engine run takes (edf, timeout); fifo always runs one.
    pub max_batch: usize,
    /// The timeout policy's push timeout.
    pub timeout_ms: f64,
    pub seconds: f64,
    pub seed: u64,
    /// edf: hold a batch open for a frame about to arrive (`batching.hold`).
    pub hold: bool,
    /// `deadline.cost_percentile`: the percentile of measured costs the former plans with.
    pub cost_percentile: f64,
}

/// One camera's (or every camera's) outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BatchingOutcome {
    pub delivered: u64,
    pub published: u64,
    /// Frames not published, by reason (`superseded`, `predicted_miss:infer`, …).
    pub dropped: std::collections::BTreeMap<String, u64>,
    pub miss_ratio: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The whole run's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchingResult {
    pub policy: String,
    pub cameras: usize,
    pub rate_hz: f64,
    pub budget_ms: f64,
    pub engine_cost: String,
    pub seconds: f64,
    #[serde(flatten)]
    pub overall: BatchingOutcome,
    pub mean_batch: f64,
    pub per_camera: Vec<BatchingOutcome>,
}

/// A synthetic frame: the camera and its capture stamp.
#[derive(Copy, Clone, Debug)]
struct Synthetic {
    stamp: Stamp,
}

struct SyntheticIngest;

impl IngestStage for SyntheticIngest {
    type Message = Synthetic;
    type Frame = ();

    fn header(&mut self, message: &Synthetic) -> Result<FrameHeader, FrameError> {
        Ok(FrameHeader {
            stamp: message.stamp,
            ..Default::default()
        })
    }

    fn load(&mut self, _message: Synthetic, _meta: &FrameMeta) -> Result<(), FrameError> {
        Ok(())
    }
}

/// An engine that takes up to `max_batch` rows and does nothing (its cost is virtual).
struct SyntheticEngine {
    max_batch: usize,
    rows: usize,
}

impl BatchStage<()> for SyntheticEngine {
    type Batch = usize;

    fn max_batch(&self) -> usize {
        self.max_batch
    }

    fn open(&mut self) -> Result<(), FrameError> {
        self.rows = 0;
        Ok(())
    }

    fn add(&mut self, _input: (), _meta: &FrameMeta) -> Result<(), FrameError> {
        self.rows += 1;
        Ok(())
    }

    fn run(&mut self, rows: &[FrameMeta]) -> Result<usize, FrameError> {
        Ok(rows.len())
    }

    fn abandon(&mut self) {
        self.rows = 0;
    }

    fn calibrate(&mut self, _rows: usize) -> bool {
        true
    }
}

struct SyntheticRows;

impl RowStage<usize> for SyntheticRows {
    type Output = ();

    fn process_row(&mut self, _: &mut usize, _: usize, _: &FrameMeta) -> Result<(), FrameError> {
        Ok(())
    }
}

fn settings(b: &BatchingBench) -> PipelineSettings {
    PipelineSettings {
        deadline: DeadlineConfig {
            budget_ms: b.budget_ms,
            stage_budget_ms: [None; Stage::COUNT],
            predictive: true,
            cost_percentile: b.cost_percentile,
            max_future_ms: 50.0,
            max_age_ms: 10_000.0_f64.max(b.budget_ms),
        },
        monitor: MonitorConfig {
            warn_consecutive_misses: 2,
            error_consecutive_misses: 5,
            window_frames: 50,
            warn_miss_ratio: 0.05,
            error_miss_ratio: 0.2,
            recover_after_on_time: 10,
            sensor_timeout_ms: 1000.0,
            output_timeout_ms: 2000.0,
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
        cameras: (0..b.cameras)
            .map(|i| CameraSettings {
                name: format!("cam{i}"),
                budget_ms: b.budget_ms,
                criticality: if i == 0 { 10 } else { 0 },
            })
            .collect(),
        batching: BatchingConfig {
            policy: b.policy,
            hold: b.hold,
            timeout_ms: b.timeout_ms,
        },
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn outcome(accounting: &AccountingSnapshot, latency: &LatencySummary) -> BatchingOutcome {
    let (delivered, published) = (accounting.received, accounting.published);
    BatchingOutcome {
        delivered,
        published,
        dropped: accounting
            .dropped
            .iter()
            .map(|(reason, n)| (reason.to_string(), n))
            .collect(),
        miss_ratio: if delivered == 0 {
            0.0
        } else {
            1.0 - published as f64 / delivered as f64
        },
        p50_ms: ms(latency.p50_ns),
        p99_ms: ms(latency.p99_ns),
        max_ms: ms(latency.max_ns),
    }
}

/// Run one policy on the synthetic load.
pub fn run(b: &BatchingBench) -> Result<BatchingResult, PipelineError> {
    let cameras = b.cameras.max(1);
    let max_batch = match b.policy {
        BatchPolicyKind::Fifo => 1,
        _ => b.max_batch.max(1),
    };
    let clock = Arc::new(ManualClock::new(Stamp::new(1_000, 0)));
    let stages = StageSet {
        cameras: (0..cameras)
            .map(|_| CameraStages {
                ingest: SyntheticIngest,
                preprocess: FnStage(|(), _: &FrameMeta| Ok(())),
            })
            .collect(),
        infer: SyntheticEngine { max_batch, rows: 0 },
        decode: SyntheticRows,
        publish: FnStage(|(), _: &FrameMeta| Ok(())),
    };
    let period_ns = (1e9 / b.rate_hz.max(1e-3)) as u64;
    let frames_per_camera = (b.seconds.max(0.0) * b.rate_hz).round() as u64;
    let start = clock.now();
    let start_ros = clock.ros_now();
    let arrivals = (0..frames_per_camera)
        .map(move |k: u64| k * period_ns)
        .flat_map(move |t| {
            (0..cameras).map(move |c| {
                let at = t + period_ns * c as u64 / cameras as u64;
                Arrival {
                    at: Some(MonoTime::from_nanos(start.as_nanos() + at)),
                    camera: crate::pipeline::CameraId::at(c),
                    message: Synthetic {
                        stamp: start_ros.offset_nanos(at as i64),
                    },
                }
            })
        });
    let free = CostSpec::fixed(0);
    let costs = SimCosts {
        stages: [
            free.clone(),
            free.clone(),
            b.engine_cost.clone(),
            free.clone(),
            free,
        ],
        engine_delays: Vec::new(),
        seed: b.seed,
    };
    // The monitors' log lines would drown the result: the numbers are the output here.
    let quiet = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let (summary, _) = tracing::dispatcher::with_default(&quiet, || {
        simulate(
            &settings(b),
            clock,
            stages,
            arrivals,
            SimOptions {
                costs,
                max_in_flight: u64::MAX,
                restamp: None,
            },
            |_| {},
        )
    })?;
    let per_camera: Vec<BatchingOutcome> = summary
        .cameras
        .iter()
        .map(|c| outcome(&c.accounting, &c.latency.end_to_end.summary()))
        .collect();
    Ok(BatchingResult {
        policy: b.policy.name().into(),
        cameras,
        rate_hz: b.rate_hz,
        budget_ms: b.budget_ms,
        engine_cost: b.engine_cost.to_string(),
        seconds: b.seconds,
        overall: outcome(&summary.accounting, &summary.latency.end_to_end.summary()),
        mean_batch: summary.former.mean_batch(),
        per_camera,
    })
}
