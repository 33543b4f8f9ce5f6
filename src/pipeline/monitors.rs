//! Which safety monitor a level change comes from: one per camera (its deadlines, its sensor)
//! and one for the shared engine (misses at `infer`, engine errors, silence of every output).
//! The aggregate level a planner sees is the worst of them.

use serde::Serialize;

use crate::deadline::{Level, Transition};
use crate::pipeline::camera::CameraId;

/// A safety monitor of the pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorId {
    Camera(CameraId),
    /// The shared inference engine.
    Engine,
}

/// A monitor's level changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LevelChange {
    pub monitor: MonitorId,
    pub transition: Transition,
}

/// The worst of `levels` (OK when empty).
pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
    levels.into_iter().max().unwrap_or(Level::Ok)
}
