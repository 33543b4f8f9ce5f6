//! redline's configuration: one YAML file in ROS 2 parameter-file form, loaded into typed
//! structs and validated once at start-up.
//!
//! ```yaml
//! redline:
//!   ros__parameters:
//!     deadline: { budget_ms: 100 }
//!     model: { path: ../models/pedestrian_ssdlite.onnx, family: ssd }
//! ```
//!
//! Every key has a default, unknown keys are errors, and a bad file is reported with *all* of
//! its problems at once, each naming the key path, the value and what was expected. Relative
//! paths are resolved against the directory of the config file; a config that names no
//! `model.path` gets the shipped model of the installed package ([`install`]). The ROS 2 node
//! builds the same
//! YAML tree from its declared parameters and validates it with the same code
//! ([`Config::from_value`]).

mod cameras;
pub mod install;
mod memory;
mod model;
mod reader;
mod sections;
mod virtual_clock;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_norway::Value;

pub use cameras::{
    BatchPolicyKind, BatchingConfig, CameraConfig, CamerasConfig, CRITICALITY_RANGE,
    INPUT_CAMERA_NAME, MAX_CAMERAS,
};
pub use memory::{MemoryEstimate, MemoryItem};
pub use model::{
    BackendKind, ChannelOrder, ExecutionProvider, LetterboxAnchor, ModelConfig, ModelFamily,
    Precision, ResizeMode, TensorDType, TensorLayout, MAX_BATCH_LIMIT,
};
pub use sections::{
    DeadlineConfig, ImageTransport, InputConfig, MonitorConfig, OutputConfig, PipelineConfig,
    StageThreadConfig,
};
pub use virtual_clock::{CostSpec, CostSpecError, Jitter, VirtualClockConfig};

use reader::{Issues, Section};

/// The whole, validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The ROS node name the parameters were given for (the top-level key).
    pub node_name: String,
    pub input: InputConfig,
    pub model: ModelConfig,
    pub deadline: DeadlineConfig,
    pub monitor: MonitorConfig,
    pub pipeline: PipelineConfig,
    pub output: OutputConfig,
    /// The cameras served (one, from `input`, when there is no `cameras` section).
    pub cameras: CamerasConfig,
    pub batching: BatchingConfig,
    /// The cost model of deterministic replays (`--clock virtual`).
    pub virtual_clock: VirtualClockConfig,
}

/// One problem in a config: where, what was there, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted key path below `ros__parameters`, e.g. `deadline.budget_ms`.
    pub key: String,
    /// The offending value as written (or `<missing>`).
    pub value: String,
    /// What was expected, e.g. `must be > 0`.
    pub problem: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} — {}", self.key, self.value, self.problem)
    }
}

/// A config that could not be used; lists every problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file (or parameter source) that was read.
    pub origin: String,
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(
            f,
            "invalid config {}: {n} problem{}",
            self.origin,
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    fn single(
        origin: &str,
        key: &str,
        value: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Self {
            origin: origin.to_string(),
            issues: vec![ConfigIssue {
                key: key.to_string(),
                value: value.into(),
                problem: problem.into(),
            }],
        }
    }
}

impl Config {
    /// Read and validate a YAML parameter file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::single(
                &origin,
                "<file>",
                origin.clone(),
                format!("cannot be read: {e}"),
            )
        })?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        Self::from_yaml_str(&text, &origin, base_dir)
    }

    /// Parse and validate YAML text; `base_dir` anchors relative paths.
    pub fn from_yaml_str(text: &str, origin: &str, base_dir: &Path) -> Result<Self, ConfigError> {
        let value: Value = serde_norway::from_str(text).map_err(|e| {
            ConfigError::single(origin, "<yaml>", "", format!("is not valid YAML: {e}"))
        })?;
        Self::from_value(&value, origin, base_dir)
    }

    /// Validate a YAML tree of the form `{node_name: {ros__parameters: {...}}}`.
    pub fn from_value(value: &Value, origin: &str, base_dir: &Path) -> Result<Self, ConfigError> {
        let Some(top) = value.as_mapping() else {
            return Err(ConfigError::single(
                origin,
                "<root>",
                reader::show(value),
                "must be a mapping `NODE_NAME: {ros__parameters: {...}}`",
            ));
        };
        let mut nodes = top.iter();
        let (node_name, params) = match (nodes.next(), nodes.next()) {
            (Some((name, node)), None) => (
                name.as_str().unwrap_or("redline").to_string(),
                node.get("ros__parameters"),
            ),
            _ => {
                return Err(ConfigError::single(
                    origin,
                    "<root>",
                    format!("{} top-level keys", top.len()),
                    "must have exactly one node name, e.g. `redline:`",
                ))
            }
        };
        let Some(params) = params else {
            return Err(ConfigError::single(
                origin,
                &node_name,
                "",
                "must contain `ros__parameters:`",
            ));
        };
        if let Some(node) = top.get(node_name.as_str()).and_then(Value::as_mapping) {
            if let Some(key) = node
                .keys()
                .filter_map(Value::as_str)
                .find(|k| *k != "ros__parameters")
            {
                return Err(ConfigError::single(
                    origin,
                    &format!("{node_name}.{key}"),
                    "",
                    "unknown key; parameters go under `ros__parameters:`",
                ));
            }
        }
        Self::from_parameters(params, &node_name, origin, base_dir)
    }

    /// Validate the mapping found under `ros__parameters`.
    pub fn from_parameters(
        params: &Value,
        node_name: &str,
        origin: &str,
        base_dir: &Path,
    ) -> Result<Self, ConfigError> {
        let issues = Issues::default();
        let root = Section::new("", Some(params), &issues);
        let input = InputConfig::read(&root.section("input"));
        let model = ModelConfig::read(&root.section("model"), base_dir);
        let deadline = DeadlineConfig::read(&root.section("deadline"));
        let monitor = MonitorConfig::read(&root.section("monitor"));
        let pipeline = PipelineConfig::read(&root.section("pipeline"));
        let output = OutputConfig::read(&root.section("output"));
        let cameras_value = root.get("cameras");
        let cameras = CamerasConfig::read(
            &Section::new("cameras", cameras_value, &issues),
            cameras_value.is_some(),
            &input,
        );
        let batching = BatchingConfig::read(&root.section("batching"));
        let virtual_clock = VirtualClockConfig::read(&root.section("virtual_clock"));
        if !cameras.from_input {
            for (key, topic) in [
                ("detections_topic", &output.detections_topic),
                ("alarm_topic", &output.alarm_topic),
            ] {
                if topic.starts_with('/') {
                    issues.push(
                        format!("output.{key}"),
                        format!("{topic:?}"),
                        "must be relative when `cameras` is configured: each camera publishes \
                         under its own name (<camera>/<topic>)",
                    );
                }
            }
        }
        root.finish();
        let config = Self {
            node_name: node_name.to_string(),
            input,
            model,
            deadline,
            monitor,
            pipeline,
            output,
            cameras,
            batching,
            virtual_clock,
        };
        let memory = MemoryEstimate::of(&config);
        if !memory.within_budget() {
            issues.push(
                "pipeline.memory_budget_mb",
                config.pipeline.memory_budget_mb.to_string(),
                format!(
                    "the start-up memory estimate exceeds it: {memory}; lower input.max_width / \
                     max_height or the pool sizes, or raise the budget"
                ),
            );
        }
        if issues.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                origin: origin.to_string(),
                issues: issues.into_vec(),
            })
        }
    }

    /// The cameras this config serves, in camera-index order: the `cameras` list, or the one
    /// camera described by `input` when there is no `cameras` section.
    pub fn camera_list(&self) -> Vec<CameraConfig> {
        if self.cameras.from_input {
            vec![CamerasConfig::input_camera(&self.input)]
        } else {
            self.cameras.list.clone()
        }
    }

    /// The capture → publish budget of `camera`, milliseconds.
    pub fn camera_budget_ms(&self, camera: &CameraConfig) -> f64 {
        camera.budget_ms.unwrap_or(self.deadline.budget_ms)
    }

    /// The default configuration shipped as `config/redline.yaml`: in the installed package's
    /// share directory, else in the crate root ([`install::package_dir`]).
    pub fn default_path() -> PathBuf {
        install::package_dir().join("config").join("redline.yaml")
    }
}

#[cfg(test)]
mod tests;
