//! What the integrators publish about the safety monitors, the same way in the node and in the
//! replay's output recording: one `/diagnostics` status per monitor and the latched alarms — one
//! per camera and an aggregate that takes the worst level of every monitor.
//!
//! A single camera configured through `input` keeps the names it always had: status
//! `redline: deadline`, one alarm (`redline/alarm`), no engine status. With a `cameras` list the
//! statuses are `redline: <camera>` and `redline: engine`, each camera has `<camera>/redline/alarm`
//! and `redline/alarm` is the aggregate.

use crate::deadline::diagnostics::DEADLINE_STATUS_NAME;
use crate::deadline::{
    alarm_status, deadline_status, AlarmState, Level, StatusContent, Transition,
};
use crate::pipeline::{CameraId, LevelChange, MonitorId, RunningPipeline};

/// Status name of the engine's monitor.
pub const ENGINE_STATUS_NAME: &str = "redline: engine";

/// How the monitors of one pipeline are named on the wire.
#[derive(Clone, Debug)]
pub struct MonitorNames {
    /// Camera names, in camera-index order.
    cameras: Vec<String>,
    /// Each camera's budget, milliseconds.
    budgets_ms: Vec<f64>,
    /// One camera from `input`: the single-camera names.
    legacy: bool,
    /// `hardware_id` of every status (the node's name, or the replay's bag).
    hardware_id: String,
}

impl MonitorNames {
    pub fn new(config: &crate::Config, hardware_id: &str) -> Self {
        let cameras = config.camera_list();
        Self {
            budgets_ms: cameras.iter().map(|c| config.camera_budget_ms(c)).collect(),
            cameras: cameras.into_iter().map(|c| c.name).collect(),
            legacy: config.cameras.from_input,
            hardware_id: hardware_id.to_string(),
        }
    }

    /// True for one camera configured through `input`.
    pub fn single(&self) -> bool {
        self.legacy
    }

    pub fn camera_names(&self) -> &[String] {
        &self.cameras
    }

    /// The `/diagnostics` status name of `monitor`.
    pub fn status_name(&self, monitor: MonitorId) -> String {
        match monitor {
            _ if self.legacy => DEADLINE_STATUS_NAME.to_string(),
            MonitorId::Camera(c) => format!(
                "redline: {}",
                self.cameras.get(c.index()).map_or("?", String::as_str)
            ),
            MonitorId::Engine => ENGINE_STATUS_NAME.to_string(),
        }
    }

    /// The `hardware_id` of every status.
    pub fn hardware_id(&self) -> &str {
        &self.hardware_id
    }

    fn budget_ms(&self, monitor: MonitorId) -> f64 {
        match monitor {
            MonitorId::Camera(c) => self.budgets_ms.get(c.index()).copied().unwrap_or(0.0),
            MonitorId::Engine => self.budgets_ms.iter().copied().fold(0.0, f64::max),
        }
    }

    /// One status per monitor worth publishing, now.
    pub fn statuses(&self, pipeline: &dyn RunningPipeline) -> Vec<StatusContent> {
        pipeline
            .monitor_ids()
            .into_iter()
            .map(|m| {
                let mut s =
                    deadline_status(&pipeline.snapshot(m), self.budget_ms(m), &self.hardware_id);
                s.name = self.status_name(m);
                s
            })
            .collect()
    }
}

/// Which latched alarm topic a message goes to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AlarmTopic {
    /// `<camera>/redline/alarm` (camera index).
    Camera(usize),
    /// `redline/alarm`: the worst level of every monitor.
    Aggregate,
}

/// The latched alarms: each camera's and the aggregate, updated from level changes.
#[derive(Clone, Debug)]
pub struct AlarmBoard {
    cameras: Vec<AlarmState>,
    engine: AlarmState,
    aggregate: AlarmState,
    legacy: bool,
}

impl AlarmBoard {
    pub fn new(names: &MonitorNames) -> Self {
        Self {
            cameras: vec![AlarmState::default(); names.cameras.len()],
            engine: AlarmState::default(),
            aggregate: AlarmState::default(),
            legacy: names.legacy,
        }
    }

    /// Apply one level change; returns the alarm messages to publish (at most two: the
    /// camera's and the aggregate's).
    pub fn apply(
        &mut self,
        change: &LevelChange,
        names: &MonitorNames,
    ) -> Vec<(AlarmTopic, StatusContent)> {
        let mut out = Vec::with_capacity(2);
        let t = change.transition;
        match change.monitor {
            MonitorId::Camera(c) => {
                if let Some(a) = self.cameras.get_mut(c.index()) {
                    a.apply(&t);
                    if !self.legacy {
                        out.push((
                            AlarmTopic::Camera(c.index()),
                            alarm_status(a, names.hardware_id()),
                        ));
                    }
                }
            }
            MonitorId::Engine => self.engine.apply(&t),
        }
        let worst = self
            .cameras
            .iter()
            .map(|a| a.level)
            .chain((!self.legacy).then_some(self.engine.level))
            .max()
            .unwrap_or(Level::Ok);
        if worst != self.aggregate.level {
            self.aggregate.apply(&Transition {
                from: self.aggregate.level,
                to: worst,
                ..t
            });
            out.push((
                AlarmTopic::Aggregate,
                alarm_status(&self.aggregate, names.hardware_id()),
            ));
        }
        out
    }

    /// The aggregate alarm now.
    pub fn aggregate(&self) -> &AlarmState {
        &self.aggregate
    }

    /// A camera's alarm now.
    pub fn camera(&self, camera: CameraId) -> Option<&AlarmState> {
        self.cameras.get(camera.index())
    }
}
