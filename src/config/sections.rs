//! The non-model config sections: input, deadline, monitor, pipeline threads, output topics.

use crate::error::Stage;
use crate::frame::ImageLimits;

use super::reader::Section;

/// Longest timeout, watchdog or replay gap a config may set: one hour.
pub const MAX_TIMEOUT_MS: f64 = 3_600_000.0;
/// Oldest stamp age a config may accept before calling it clock skew: one day.
pub const MAX_AGE_MS: f64 = 86_400_000.0;
/// Longest `/diagnostics` period: one minute.
pub const MAX_DIAGNOSTICS_PERIOD_MS: f64 = 60_000.0;
/// Default start-up memory budget (`pipeline.memory_budget_mb`).
pub const DEFAULT_MEMORY_BUDGET_MB: i64 = 1024;

/// Which ROS message carries the camera image.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImageTransport {
    /// `sensor_msgs/msg/Image`
    Raw,
    /// `sensor_msgs/msg/CompressedImage` (JPEG or PNG)
    Compressed,
}

/// `input.*`: where frames come from and what sizes are acceptable.
#[derive(Clone, Debug, PartialEq)]
pub struct InputConfig {
    /// Image topic to subscribe to (node) or to pick from a bag (replay). Empty in replay:
    /// the only image topic present.
    pub topic: String,
    pub transport: ImageTransport,
    /// Frames wider or taller than this are dropped as `BadInput{TooLarge}`.
    pub limits: ImageLimits,
    /// Replay: a jump in recorded log time longer than this (forward or back) is reported and
    /// skipped, never slept.
    pub max_log_gap_ms: f64,
}

impl InputConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let out = Self {
            topic: s.string("topic", "/camera/front/image_raw/compressed"),
            transport: s.choice(
                "transport",
                ImageTransport::Compressed,
                &[
                    ("raw", ImageTransport::Raw),
                    ("compressed", ImageTransport::Compressed),
                ],
            ),
            limits: ImageLimits {
                max_width: s.int("max_width", 3840, 1, 65_535) as u32,
                max_height: s.int("max_height", 2160, 1, 65_535) as u32,
            },
            max_log_gap_ms: s.duration_ms("max_log_gap_ms", 10_000.0, 0.0, true, MAX_TIMEOUT_MS),
        };
        s.finish();
        out
    }
}

/// `deadline.*`: the latency budget from capture to publish (ARCHITECTURE §2).
#[derive(Clone, Debug, PartialEq)]
pub struct DeadlineConfig {
    /// Capture stamp → publish, milliseconds.
    pub budget_ms: f64,
    /// Optional per-stage budgets (index = [`Stage::index`]).
    pub stage_budget_ms: [Option<f64>; Stage::COUNT],
    /// Drop early when the expected remaining cost cannot fit before the deadline.
    pub predictive: bool,
    /// Percentile (0–100) of each stage's measured time used as its expected cost.
    pub cost_percentile: f64,
    /// A stamp further than this in the future is `ClockSkew`.
    pub max_future_ms: f64,
    /// A stamp older than this is `ClockSkew` (absurd) rather than `StaleOnArrival`.
    pub max_age_ms: f64,
}

impl DeadlineConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let budget_ms = s.f64(
            "budget_ms",
            100.0,
            |x| x > 0.0 && x <= 60_000.0,
            "must be > 0 and ≤ 60000",
        );
        let stages = s.section("stage_budget_ms");
        let mut stage_budget_ms = [None; Stage::COUNT];
        for stage in Stage::ALL {
            if stages.get(stage.name()).is_some() {
                let v = stages.f64(stage.name(), budget_ms, |x| x > 0.0, "must be > 0");
                if v > budget_ms {
                    stages.issue(
                        stage.name(),
                        v.to_string(),
                        format!("must not exceed deadline.budget_ms ({budget_ms})"),
                    );
                }
                stage_budget_ms[stage.index()] = Some(v);
            }
        }
        stages.finish();
        let out = Self {
            budget_ms,
            stage_budget_ms,
            predictive: s.bool("predictive", true),
            cost_percentile: s.f64(
                "cost_percentile",
                99.0,
                |x| x > 0.0 && x <= 100.0,
                "must be in (0, 100]",
            ),
            max_future_ms: s.duration_ms("max_future_ms", 50.0, 0.0, false, MAX_TIMEOUT_MS),
            max_age_ms: s.duration_ms("max_age_ms", 10_000.0, 0.0, true, MAX_AGE_MS),
        };
        if out.max_age_ms < budget_ms {
            s.issue(
                "max_age_ms",
                out.max_age_ms.to_string(),
                format!("must be ≥ deadline.budget_ms ({budget_ms})"),
            );
        }
        s.finish();
        out
    }
}

/// `monitor.*`: safety-monitor thresholds (ARCHITECTURE §3).
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorConfig {
    /// Consecutive misses that raise WARN.
    pub warn_consecutive_misses: u32,
    /// Consecutive misses that raise ERROR.
    pub error_consecutive_misses: u32,
    /// Sliding window (frames) for the miss ratio.
    pub window_frames: u32,
    /// Miss ratio over the window that raises WARN.
    pub warn_miss_ratio: f64,
    /// Miss ratio over the window that raises ERROR.
    pub error_miss_ratio: f64,
    /// Consecutive on-time frames needed before stepping down a level (hysteresis).
    pub recover_after_on_time: u32,
    /// No frame received for this long → STALE.
    pub sensor_timeout_ms: f64,
    /// Nothing published for this long (while frames arrive) → ERROR.
    pub output_timeout_ms: f64,
    /// Period of `/diagnostics` publication.
    pub diagnostics_period_ms: f64,
}

impl MonitorConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let out = Self {
            warn_consecutive_misses: s.int("warn_consecutive_misses", 2, 1, 1_000_000) as u32,
            error_consecutive_misses: s.int("error_consecutive_misses", 5, 1, 1_000_000) as u32,
            window_frames: s.int("window_frames", 50, 1, 100_000) as u32,
            warn_miss_ratio: s.f64(
                "warn_miss_ratio",
                0.05,
                |x| x > 0.0 && x <= 1.0,
                "must be in (0, 1]",
            ),
            error_miss_ratio: s.f64(
                "error_miss_ratio",
                0.2,
                |x| x > 0.0 && x <= 1.0,
                "must be in (0, 1]",
            ),
            recover_after_on_time: s.int("recover_after_on_time", 10, 1, 1_000_000) as u32,
            sensor_timeout_ms: s.duration_ms("sensor_timeout_ms", 500.0, 0.0, true, MAX_TIMEOUT_MS),
            output_timeout_ms: s.duration_ms(
                "output_timeout_ms",
                1000.0,
                0.0,
                true,
                MAX_TIMEOUT_MS,
            ),
            diagnostics_period_ms: s.duration_ms(
                "diagnostics_period_ms",
                1000.0,
                10.0,
                false,
                MAX_DIAGNOSTICS_PERIOD_MS,
            ),
        };
        if out.error_consecutive_misses < out.warn_consecutive_misses {
            s.issue(
                "error_consecutive_misses",
                out.error_consecutive_misses.to_string(),
                format!(
                    "must be ≥ monitor.warn_consecutive_misses ({})",
                    out.warn_consecutive_misses
                ),
            );
        }
        if out.error_miss_ratio < out.warn_miss_ratio {
            s.issue(
                "error_miss_ratio",
                out.error_miss_ratio.to_string(),
                format!(
                    "must be ≥ monitor.warn_miss_ratio ({})",
                    out.warn_miss_ratio
                ),
            );
        }
        s.finish();
        out
    }
}

/// Thread placement for one stage.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct StageThreadConfig {
    /// CPU core to pin to; `None` leaves the thread unpinned.
    pub core: Option<usize>,
    /// SCHED_FIFO priority (1–99); `None` keeps the default scheduler.
    pub priority: Option<u8>,
}

/// `pipeline.*`: pools, queues and threads.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineConfig {
    /// Raw/decoded frame buffers preallocated at start-up.
    pub frame_pool_size: usize,
    /// Engine input tensors preallocated at start-up.
    pub tensor_pool_size: usize,
    /// Capacity of the bounded channels after preprocessing.
    pub channel_capacity: usize,
    /// Per-stage thread settings (index = [`Stage::index`]).
    pub stages: [StageThreadConfig; Stage::COUNT],
    /// Lock memory after preallocation (`mlockall(MCL_CURRENT)`; never `MCL_FUTURE` unless safe).
    pub lock_memory: bool,
    /// What the start-up memory estimate ([`crate::config::MemoryEstimate`]) may reach, MiB.
    pub memory_budget_mb: u64,
}

impl PipelineConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let threads = s.section("stages");
        let mut stages = [StageThreadConfig::default(); Stage::COUNT];
        for stage in Stage::ALL {
            let t = threads.section(stage.name());
            stages[stage.index()] = StageThreadConfig {
                core: t.optional_int("core", 0, 1023).map(|c| c as usize),
                priority: t.optional_int("priority", 1, 99).map(|p| p as u8),
            };
            t.finish();
        }
        threads.finish();
        let out = Self {
            frame_pool_size: s.int("frame_pool_size", 4, 2, 1024) as usize,
            tensor_pool_size: s.int("tensor_pool_size", 3, 1, 1024) as usize,
            channel_capacity: s.int("channel_capacity", 2, 1, 1024) as usize,
            stages,
            lock_memory: s.bool("lock_memory", true),
            memory_budget_mb: s.int("memory_budget_mb", DEFAULT_MEMORY_BUDGET_MB, 16, 1 << 20)
                as u64,
        };
        s.finish();
        out
    }
}

/// `output.*`: topic names. Relative names (the defaults for redline's own topics) resolve in
/// the node's namespace, so `namespace:=front` gives `/front/redline/detections`; the replay,
/// which has no namespace, records them under `/` (see [`OutputConfig::absolute`]).
#[derive(Clone, Debug, PartialEq)]
pub struct OutputConfig {
    pub detections_topic: String,
    pub diagnostics_topic: String,
    pub alarm_topic: String,
}

impl OutputConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let out = Self {
            detections_topic: s.topic("detections_topic", "redline/detections"),
            diagnostics_topic: s.topic("diagnostics_topic", "/diagnostics"),
            alarm_topic: s.topic("alarm_topic", "redline/alarm"),
        };
        s.finish();
        out
    }

    /// `name` resolved in the root namespace (`redline/alarm` → `/redline/alarm`).
    pub fn absolute(name: &str) -> String {
        if name.starts_with('/') {
            name.to_string()
        } else {
            format!("/{name}")
        }
    }
}
