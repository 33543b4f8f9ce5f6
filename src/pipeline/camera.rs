//! Cameras as the pipeline sees them: a small index ([`CameraId`]) carried by every frame, and
//! the per-camera settings the stage threads and the batch former need ([`CameraSettings`]).

use serde::Serialize;

use crate::config::{CameraConfig, Config};

/// A camera's position in the configured camera list.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CameraId(pub u16);

impl CameraId {
    /// The camera's index, usable for per-camera arrays.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The camera at `index` (saturating at `u16::MAX`; configs hold at most 32 cameras).
    pub fn at(index: usize) -> Self {
        Self(u16::try_from(index).unwrap_or(u16::MAX))
    }
}

impl std::fmt::Display for CameraId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "camera#{}", self.0)
    }
}

/// What the pipeline needs to know about one camera.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraSettings {
    pub name: String,
    /// Capture → publish budget, milliseconds.
    pub budget_ms: f64,
    /// Higher is kept first under overload.
    pub criticality: i32,
}

impl CameraSettings {
    /// One camera with the given budget and criticality 0.
    pub fn named(name: &str, budget_ms: f64) -> Self {
        Self {
            name: name.to_string(),
            budget_ms,
            criticality: 0,
        }
    }

    /// The settings of every camera in `config`, in camera-index order.
    pub fn from_config(config: &Config) -> Vec<Self> {
        config
            .camera_list()
            .iter()
            .map(|c: &CameraConfig| Self {
                name: c.name.clone(),
                budget_ms: config.camera_budget_ms(c),
                criticality: c.criticality,
            })
            .collect()
    }
}
