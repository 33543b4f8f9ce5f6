//! Replay reports: the data a replay produced, written as `report.json`, a self-contained
//! `report.html` with latency plots, and a summary table on stdout.
//!
//! The report is plain data ([`ReplayReport`]), independent of the pipeline's internal types:
//! the replay driver fills it in, [`Verdict::of`] judges it, and the writers here only render
//! it. A statistic over no data is `None`: `null` in JSON, "—" on stdout and in HTML.

mod html;
mod html_cameras;
mod summary;
mod verdict;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use html::render_html;
pub use summary::render_summary;
pub use verdict::Verdict;

/// Latency tail statistics, in milliseconds; `None` (JSON `null`) when there was no sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub max: Option<f64>,
}

impl Percentiles {
    /// From `count` samples and `[p50, p90, p99, p99.9, max]` in ms: all `None` when `count`
    /// is 0 (an empty histogram answers 0, which is not a latency).
    pub fn from_ms(count: u64, [p50, p90, p99, p999, max]: [f64; 5]) -> Self {
        let some = |v: f64| (count > 0).then_some(v);
        Self {
            count,
            p50: some(p50),
            p90: some(p90),
            p99: some(p99),
            p999: some(p999),
            max: some(max),
        }
    }
}

/// A statistic for people: "—" when there is none, else milliseconds with a precision that
/// suits the size (`147`, `52.1`, `3.21`).
pub fn fmt_ms(ms: Option<f64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms >= 100.0 => format!("{ms:.0}"),
        Some(ms) if ms >= 10.0 => format!("{ms:.1}"),
        Some(ms) => format!("{ms:.2}"),
    }
}

/// A ratio as a percentage for people, "—" when there is none.
pub fn fmt_percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "—".into(), |r| format!("{:.1} %", r * 100.0))
}

/// Frame accounting: `received = published + Σ dropped + in_flight`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FrameCounts {
    pub received: u64,
    pub published: u64,
    /// Drop reason (e.g. `missed_at`, `superseded`) → count.
    pub dropped: BTreeMap<String, u64>,
    /// Drop reason with its stage or kind (e.g. `missed_at:infer`) → count.
    pub dropped_detail: BTreeMap<String, u64>,
    pub in_flight: u64,
    /// Whether the accounting identity holds.
    pub balanced: bool,
}

impl FrameCounts {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    /// Deadline misses: frames stale on arrival, predicted to miss, or missed at a stage.
    pub fn misses(&self) -> u64 {
        ["stale_on_arrival", "predicted_miss", "missed_at"]
            .iter()
            .filter_map(|k| self.dropped.get(*k))
            .sum()
    }

    /// Deadline misses over frames received; `None` when nothing was received.
    pub fn miss_ratio(&self) -> Option<f64> {
        (self.received > 0).then(|| self.misses() as f64 / self.received as f64)
    }
}

/// Latency statistics end to end and per stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySection {
    pub end_to_end: Percentiles,
    /// Stage name → time spent in that stage (including the wait before it).
    pub stages: BTreeMap<String, Percentiles>,
}

/// One safety-monitor transition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmEntry {
    /// Milliseconds since the start of the replay.
    pub t_ms: f64,
    /// The monitor: a camera's name, or `engine`.
    pub monitor: String,
    pub from: String,
    pub to: String,
    pub cause: String,
    pub stage: Option<String>,
}

/// What happened to one frame, for the timeline plot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameRecord {
    /// The pipeline's sequence number (arrival order from 0, the number `--fault
    /// infer:…,frames=A..B` refers to); `None` for a frame evicted before ingest numbered it.
    pub seq: Option<u64>,
    /// Milliseconds since the start of the replay, at the frame's outcome.
    pub t_ms: f64,
    /// The camera's name.
    pub camera: String,
    /// Capture-to-publish latency for published frames.
    pub latency_ms: Option<f64>,
    /// `published` or the drop reason (`missed_at:infer`, …).
    pub outcome: String,
    pub detections: u32,
}

/// A pass/fail gate from the command line. A gate over no data (`actual` `None`: nothing was
/// received, or nothing published for a latency gate) fails: it proves nothing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateResult {
    pub name: String,
    pub limit: f64,
    pub actual: Option<f64>,
    pub passed: bool,
}

impl GateResult {
    /// A gate that passes when `actual` exists and is at most `limit`.
    pub fn at_most(name: &str, limit: f64, actual: Option<f64>) -> Self {
        Self {
            name: name.into(),
            limit,
            actual,
            passed: actual.is_some_and(|a| a <= limit),
        }
    }

    /// One line for people: `p99_ms 63.2 ≤ 80: pass`, `p99_ms: no data — fail`.
    pub fn describe(&self) -> String {
        match self.actual {
            None => format!("{}: no data — fail", self.name),
            Some(a) => format!(
                "{} {} {} {}: {}",
                self.name,
                fmt_num(a),
                if self.passed { "≤" } else { ">" },
                fmt_num(self.limit),
                if self.passed { "pass" } else { "FAIL" }
            ),
        }
    }
}

/// A number for people: integers without decimals, others with up to four.
pub(crate) fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').to_string()
    }
}

/// Deadline settings the run used.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeadlineSection {
    pub budget_ms: f64,
}

/// One camera of a replay.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CameraReport {
    pub name: String,
    pub topic: String,
    pub budget_ms: f64,
    pub criticality: i32,
    pub frames: FrameCounts,
    pub latency_ms: LatencySection,
    /// Level of this camera's safety monitor at the end of the run.
    pub final_level: String,
}

/// What the batch former did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BatchingReport {
    /// `edf`, `fifo` or `timeout`.
    pub policy: String,
    /// Rows one engine run could take.
    pub max_batch: usize,
    /// Engine runs.
    pub runs: u64,
    pub mean_batch: f64,
    /// Batch size (rows) → engine runs of that size.
    pub runs_by_size: BTreeMap<usize, u64>,
    /// Batches held open for a frame about to arrive (or waiting for a timeout).
    pub holds: u64,
    /// How long held batches waited.
    pub hold_ms: Percentiles,
    /// `(bucket, holds)`: the hold-time histogram (`≤1 ms`, `≤2 ms`, … `>100 ms`).
    pub hold_histogram: Vec<(String, u64)>,
    /// Frames let through despite a predicted miss, to re-measure the engine's cost.
    pub probes: u64,
}

/// Everything a replay reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    pub bag: String,
    /// The image topics replayed (comma-separated).
    pub topic: String,
    /// `wall` (the system clock) or `virtual` (time advanced by a cost model).
    pub clock: String,
    pub config: String,
    pub model: String,
    pub backend: String,
    /// `recorded`, `rate 2.0` or `max-speed`.
    pub pacing: String,
    pub wall_time_s: f64,
    /// Frames received per wall-clock second.
    pub throughput_fps: f64,
    pub frames: FrameCounts,
    pub latency_ms: LatencySection,
    /// Per camera, in camera order.
    pub cameras: Vec<CameraReport>,
    pub batching: BatchingReport,
    pub deadline: DeadlineSection,
    pub alarms: Vec<AlarmEntry>,
    /// Level of the safety monitor at the end of the run.
    pub final_level: String,
    /// The run was stopped by a signal (SIGINT/SIGTERM): the report covers the frames read
    /// before it, drained through the pipeline.
    pub interrupted: bool,
    /// The signal that stopped it (`SIGINT`, `SIGTERM`).
    pub interrupted_by: Option<String>,
    /// How far the monitor was from its next step down when the run ended, while the final
    /// level is WARN or ERROR (`recovering: 7/10 on-time frames to OK when the input ended`):
    /// a level the input was too short to recover from, not a lingering fault.
    pub final_recovery: Option<String>,
    pub faults: Vec<String>,
    pub gates: Vec<GateResult>,
    /// Errors that cut the replay short or were reported on the way (bag damage, …).
    pub errors: Vec<String>,
    pub timeline: Vec<FrameRecord>,
    /// Start-up notes (real-time grants and refusals, backend).
    pub notes: Vec<String>,
    /// What the run means: the badge, pass/fail (the exit status) and why.
    pub verdict: Verdict,
}

impl ReplayReport {
    /// Judge the report (see [`Verdict::of`]) and keep the verdict in it.
    pub fn judged(mut self) -> Self {
        self.verdict = Verdict::of(&self);
        self
    }

    /// Whether the run passed, by its verdict (see [`Verdict::of`]).
    pub fn passed(&self) -> bool {
        self.verdict.passed
    }
}

/// Where the report files were written.
#[derive(Clone, Debug)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub html: PathBuf,
}

/// Errors writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create report directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Write `report.json` and `report.html` into `dir` (created if needed).
pub fn write_report(report: &ReplayReport, dir: &Path) -> Result<ReportFiles, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let text = serde_json::to_string_pretty(report)?;
    let json = write_file(dir, "report.json", text.as_bytes())?;
    let html = write_file(dir, "report.html", render_html(report).as_bytes())?;
    Ok(ReportFiles { json, html })
}

/// Written under a temporary name and renamed: never through a symlink at the final name.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    crate::atomic_file::write_atomic(dir, name, bytes).map_err(|source| ReportError::Write {
        path: dir.join(name),
        source,
    })
}

#[cfg(test)]
mod tests;
