//! Replay reports: the data a replay produced, written as `report.json`, a self-contained
//! `report.html` with latency plots, and a summary table on stdout.
//!
//! The report is plain data ([`ReplayReport`]), independent of the pipeline's internal types:
//! the replay driver fills it in, and the writers here only render it.

mod html;
mod summary;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use html::render_html;
pub use summary::render_summary;

/// Latency tail statistics, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
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

    /// Deadline misses (stale on arrival, predicted and actual misses) over frames received.
    pub fn miss_ratio(&self) -> f64 {
        let misses: u64 = ["stale_on_arrival", "predicted_miss", "missed_at"]
            .iter()
            .filter_map(|k| self.dropped.get(*k))
            .sum();
        if self.received == 0 {
            0.0
        } else {
            misses as f64 / self.received as f64
        }
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
    pub from: String,
    pub to: String,
    pub cause: String,
    pub stage: Option<String>,
}

/// What happened to one frame, for the timeline plot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrameRecord {
    /// Milliseconds since the start of the replay, at ingest.
    pub t_ms: f64,
    /// Capture-to-publish latency for published frames.
    pub latency_ms: Option<f64>,
    /// `published` or the drop reason (`missed_at:infer`, …).
    pub outcome: String,
    pub detections: u32,
}

/// A pass/fail gate from the command line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateResult {
    pub name: String,
    pub limit: f64,
    pub actual: f64,
    pub passed: bool,
}

/// Deadline settings the run used.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeadlineSection {
    pub budget_ms: f64,
}

/// Everything a replay reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    pub bag: String,
    pub topic: String,
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
    pub deadline: DeadlineSection,
    pub alarms: Vec<AlarmEntry>,
    /// Level of the safety monitor at the end of the run.
    pub final_level: String,
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
}

impl ReplayReport {
    /// True when every gate passed and the bag was read without error.
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|g| g.passed) && self.errors.is_empty()
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
    let json = dir.join("report.json");
    let html = dir.join("report.html");
    let text = serde_json::to_string_pretty(report)?;
    write_file(&json, text.as_bytes())?;
    write_file(&html, render_html(report).as_bytes())?;
    Ok(ReportFiles { json, html })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
