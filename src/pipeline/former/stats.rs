//! What the batch former decided, counted: batch sizes, probes, holds and how long they lasted,
//! and the frames it dropped per camera. Preallocated; counting never allocates.

use serde::Serialize;

use crate::deadline::{LatencyHistogram, LatencySummary};
use crate::pipeline::camera::CameraId;

/// The former's counters.
#[derive(Clone, Debug)]
pub struct FormerStats {
    /// `runs_by_size[b - 1]`: engine runs over `b` rows.
    runs_by_size: Vec<u64>,
    probes: u64,
    holds: u64,
    hold_time: LatencyHistogram,
    /// Frames dropped by the former (predicted misses), per camera.
    dropped_by_camera: Vec<u64>,
}

impl FormerStats {
    pub fn new(max_batch: usize, cameras: usize) -> Self {
        Self {
            runs_by_size: vec![0; max_batch.max(1)],
            probes: 0,
            holds: 0,
            hold_time: LatencyHistogram::new(),
            dropped_by_camera: vec![0; cameras.max(1)],
        }
    }

    pub(crate) fn batch(&mut self, rows: usize, probe: bool) {
        if let Some(n) = rows
            .checked_sub(1)
            .and_then(|i| self.runs_by_size.get_mut(i))
        {
            *n += 1;
        }
        if probe {
            self.probes += 1;
        }
    }

    pub(crate) fn hold_started(&mut self) {
        self.holds += 1;
    }

    pub(crate) fn held(&mut self, nanos: u64) {
        self.hold_time.record_ns(nanos);
    }

    pub(crate) fn dropped(&mut self, camera: CameraId) {
        if let Some(n) = self.dropped_by_camera.get_mut(camera.index()) {
            *n += 1;
        }
    }

    /// Rows one engine run could take.
    pub fn max_batch(&self) -> usize {
        self.runs_by_size.len()
    }

    /// Engine runs over `b` rows.
    pub fn runs_of(&self, b: usize) -> u64 {
        b.checked_sub(1)
            .and_then(|i| self.runs_by_size.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Total engine runs.
    pub fn runs(&self) -> u64 {
        self.runs_by_size.iter().sum()
    }

    /// Mean rows per run (0 with no run).
    pub fn mean_batch(&self) -> f64 {
        let runs = self.runs();
        if runs == 0 {
            return 0.0;
        }
        let rows: u64 = self
            .runs_by_size
            .iter()
            .enumerate()
            .map(|(i, n)| (i as u64 + 1) * n)
            .sum();
        rows as f64 / runs as f64
    }

    pub fn probes(&self) -> u64 {
        self.probes
    }

    pub fn holds(&self) -> u64 {
        self.holds
    }

    /// How long held batches waited before they ran.
    pub fn hold_time(&self) -> &LatencyHistogram {
        &self.hold_time
    }

    /// Frames the former dropped for `camera`.
    pub fn dropped_for(&self, camera: CameraId) -> u64 {
        self.dropped_by_camera
            .get(camera.index())
            .copied()
            .unwrap_or(0)
    }

    /// The counters as report data.
    pub fn report(&self) -> FormerReport {
        FormerReport {
            runs: self.runs(),
            mean_batch: self.mean_batch(),
            runs_by_size: self
                .runs_by_size
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (i + 1, *n))
                .collect(),
            probes: self.probes,
            holds: self.holds,
            hold_ns: self.hold_time.summary(),
            hold_histogram: HOLD_BUCKETS_MS
                .iter()
                .map(|ms| format!("≤{ms} ms"))
                .chain(std::iter::once(format!(
                    ">{} ms",
                    HOLD_BUCKETS_MS.last().copied().unwrap_or(0)
                )))
                .zip(
                    self.hold_time
                        .bucket_counts(&HOLD_BUCKETS_MS.map(|ms| ms * 1_000_000)),
                )
                .collect(),
        }
    }
}

/// [`FormerStats`] for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FormerReport {
    pub runs: u64,
    pub mean_batch: f64,
    /// `(rows, runs)` for every batch size that ran.
    pub runs_by_size: Vec<(usize, u64)>,
    pub probes: u64,
    pub holds: u64,
    /// Hold durations, nanoseconds.
    pub hold_ns: LatencySummary,
    /// `(bucket, holds)`: how many holds lasted up to each of [`HOLD_BUCKETS_MS`], and longer.
    pub hold_histogram: Vec<(String, u64)>,
}

/// Upper bounds of the hold-time histogram's buckets, milliseconds.
pub const HOLD_BUCKETS_MS: [u64; 7] = [1, 2, 5, 10, 20, 50, 100];
