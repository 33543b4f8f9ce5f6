//! What a replay is asked to do: which bag, which config, where to write, how fast, which
//! faults, which gates.

use std::path::PathBuf;

use crate::config::Config;

use super::driver::ReplayClock;
use super::fault::FaultSpec;
use super::schedule::Pacing;

/// Pass/fail gates checked at the end of a replay.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Gates {
    /// Fail when deadline misses / frames received exceeds this.
    pub max_miss_ratio: Option<f64>,
    /// Fail when the end-to-end p99 latency (ms) exceeds this.
    pub max_p99_ms: Option<f64>,
}

/// A replay request.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    pub bag: PathBuf,
    pub config: Config,
    /// Where the config came from (for the report).
    pub config_origin: String,
    /// Output directory: report.json, report.html and the output recording.
    pub out_dir: PathBuf,
    /// Image topics to replay, one camera each (`--camera`, `--topic`); empty: the configured
    /// cameras present in the bag, else every image topic.
    pub cameras: Vec<String>,
    pub pacing: Pacing,
    /// Wall clock (the stage threads for real) or a virtual clock (deterministic).
    pub clock: ReplayClock,
    pub faults: Vec<FaultSpec>,
    pub gates: Gates,
    /// Show a progress bar (only when stderr is a terminal).
    pub progress: bool,
}
