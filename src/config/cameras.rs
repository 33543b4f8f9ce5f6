//! `cameras.*` and `batching.*`: the cameras one node serves and how their frames share the
//! engine (ARCHITECTURE §13).
//!
//! ROS 2 parameters cannot hold a list of mappings, so the camera list takes the form ROS users
//! know from multi-sensor drivers: a list of names, then one section per name.
//!
//! ```yaml
//! cameras:
//!   names: [front, left]
//!   front: {topic: /camera/front/image_raw/compressed, transport: compressed, criticality: 10}
//!   left:  {topic: /camera/left/image_raw, transport: raw, budget_ms: 120}
//! ```
//!
//! Without a `cameras` section the `input` section is the one camera, exactly as before
//! ([`CamerasConfig::from_input`] is then true and the node keeps its single-camera topic names);
//! [`crate::Config::camera_list`] gives the effective list either way.

use super::reader::{is_name_token, Section};
use super::sections::{ImageTransport, InputConfig};

/// Lowest and highest accepted `criticality`.
pub const CRITICALITY_RANGE: (i64, i64) = (-1000, 1000);
/// Most cameras one node serves.
pub const MAX_CAMERAS: usize = 32;

/// One camera.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraConfig {
    /// Used in topics (`<name>/redline/detections`), diagnostics and reports.
    pub name: String,
    pub topic: String,
    pub transport: ImageTransport,
    /// Capture → publish budget for this camera's frames; `None`: `deadline.budget_ms`.
    pub budget_ms: Option<f64>,
    /// Higher is kept first when the engine cannot serve every camera in time.
    pub criticality: i32,
}

/// The cameras, in the order of `cameras.names` (camera index = position).
#[derive(Clone, Debug, PartialEq)]
pub struct CamerasConfig {
    /// The configured cameras; empty when `from_input`.
    pub list: Vec<CameraConfig>,
    /// True when there was no `cameras` section and `input` is the only camera.
    pub from_input: bool,
}

/// Name of the camera made from the `input` section.
pub const INPUT_CAMERA_NAME: &str = "camera";

impl CamerasConfig {
    /// No `cameras` section: `input` is the one camera.
    pub fn from_input() -> Self {
        Self {
            list: Vec::new(),
            from_input: true,
        }
    }

    /// The single camera described by `input`.
    pub fn input_camera(input: &InputConfig) -> CameraConfig {
        CameraConfig {
            name: INPUT_CAMERA_NAME.to_string(),
            topic: input.topic.clone(),
            transport: input.transport,
            budget_ms: None,
            criticality: 0,
        }
    }

    pub(crate) fn read(s: &Section<'_>, present: bool, input: &InputConfig) -> Self {
        if !present {
            return Self::from_input();
        }
        let names = s.strings("names", &[]);
        let mut list: Vec<CameraConfig> = Vec::with_capacity(names.len());
        if names.is_empty() {
            s.issue(
                "names",
                "[]",
                "must list at least one camera name (or leave out `cameras` to use `input`)",
            );
        }
        if names.len() > MAX_CAMERAS {
            s.issue(
                "names",
                format!("{} names", names.len()),
                format!("at most {MAX_CAMERAS} cameras per node"),
            );
        }
        for (i, name) in names.iter().enumerate() {
            if !is_name_token(name) {
                s.issue(
                    "names",
                    format!("{name:?}"),
                    "each name must be a ROS 2 name token: letters, digits and _, not starting \
                     with a digit",
                );
                continue;
            }
            if names[..i].contains(name) {
                s.issue("names", format!("{name:?}"), "duplicate camera name");
                continue;
            }
            if s.get(name).is_none() {
                s.issue(
                    name,
                    "<missing>",
                    format!("camera {name:?} is listed in cameras.names but has no section"),
                );
                continue;
            }
            let c = s.section(name);
            let camera = CameraConfig {
                name: name.clone(),
                topic: c.topic("topic", ""),
                transport: c.choice(
                    "transport",
                    input.transport,
                    &[
                        ("raw", ImageTransport::Raw),
                        ("compressed", ImageTransport::Compressed),
                    ],
                ),
                budget_ms: c.get("budget_ms").is_some().then(|| {
                    c.f64(
                        "budget_ms",
                        100.0,
                        |x| x > 0.0 && x <= 60_000.0,
                        "must be > 0 and ≤ 60000",
                    )
                }),
                criticality: c.int("criticality", 0, CRITICALITY_RANGE.0, CRITICALITY_RANGE.1)
                    as i32,
            };
            if !camera.topic.is_empty() {
                if let Some(other) = list.iter().find(|o| o.topic == camera.topic) {
                    c.issue(
                        "topic",
                        format!("{:?}", camera.topic),
                        format!("camera {:?} already subscribes to this topic", other.name),
                    );
                }
            }
            c.finish();
            list.push(camera);
        }
        s.finish();
        Self {
            list,
            from_input: false,
        }
    }
}

/// How the batch former chooses which frames share an engine run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BatchPolicyKind {
    /// Earliest deadline first, batches only as large as every deadline in them allows,
    /// criticality first under overload (redline's own).
    Edf,
    /// One frame per run in order of readiness, no deadline awareness (what one node per camera
    /// sharing a GPU amounts to).
    Fifo,
    /// Round-robin batches pushed when full or after a fixed timeout (`nvstreammux`-style).
    Timeout,
}

impl BatchPolicyKind {
    pub const fn name(self) -> &'static str {
        match self {
            BatchPolicyKind::Edf => "edf",
            BatchPolicyKind::Fifo => "fifo",
            BatchPolicyKind::Timeout => "timeout",
        }
    }

    /// Every policy, in the order reports list them.
    pub const ALL: [BatchPolicyKind; 3] = [
        BatchPolicyKind::Fifo,
        BatchPolicyKind::Timeout,
        BatchPolicyKind::Edf,
    ];

    /// The policy named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// `batching.*`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchingConfig {
    pub policy: BatchPolicyKind,
    /// EDF: hold a batch open for a frame about to arrive, only while every deadline in it still
    /// holds and the wait is shorter than the engine time the merge saves.
    pub hold: bool,
    /// `timeout` policy only: push a partial batch this long after its first frame.
    pub timeout_ms: f64,
}

impl Default for BatchingConfig {
    fn default() -> Self {
        Self {
            policy: BatchPolicyKind::Edf,
            hold: true,
            timeout_ms: 33.0,
        }
    }
}

impl BatchingConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let d = Self::default();
        let out = Self {
            policy: s.choice(
                "policy",
                d.policy,
                &[
                    ("edf", BatchPolicyKind::Edf),
                    ("fifo", BatchPolicyKind::Fifo),
                    ("timeout", BatchPolicyKind::Timeout),
                ],
            ),
            hold: s.bool("hold", d.hold),
            timeout_ms: s.f64(
                "timeout_ms",
                d.timeout_ms,
                |x| x > 0.0 && x <= 10_000.0,
                "must be > 0 and ≤ 10000",
            ),
        };
        s.finish();
        out
    }
}
