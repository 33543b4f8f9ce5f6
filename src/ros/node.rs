//! The r2r adapter (feature `ros2`): reads the node's parameters into a validated [`Config`],
//! creates the image subscription and the detections, `/diagnostics` and alarm publishers with
//! the QoS of [`super::qos`], drains the image stream on the spin thread at once, and stops
//! cleanly on SIGINT/SIGTERM with a summary in the log.
//!
//! Frames go from the raw subscription straight into the pipeline's ingress (the spin thread
//! drains r2r's stream after every `spin_once`, so stale frames never queue there); the one copy
//! that remains before our pooled frame buffer is r2r's: `subscribe_raw` hands each message
//! over as an owned `Vec<u8>` taken from the middleware. Detections are published untyped with
//! our CDR bytes; `/diagnostics` and the latched alarm are typed `diagnostic_msgs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use r2r::{diagnostic_msgs, QosProfile};

use super::params::{config_from_parameters, first_params_file, ParamValue};
use super::qos::{Durability, Reliability, TopicQos};
use crate::config::{Config, ImageTransport};
use crate::deadline::{alarm_status, AlarmState, StatusContent, SystemClock};
use crate::error::FrameError;
use crate::frame::Detection;
use crate::infer::{load_warm, EngineFault};
use crate::pipeline::{CameraId, FrameHeader, FrameMeta, Pipeline, PipelineSettings};
use crate::stages::{
    self, AlarmBoard, AlarmTopic, Detection2DArrayEncoder, DetectionSink, MonitorNames,
};

/// ROS type name of the detections topic (published untyped with our CDR bytes).
pub const DETECTIONS_TYPE: &str = "vision_msgs/msg/Detection2DArray";

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Errors that keep the node from starting.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("ROS 2: {0}")]
    Ros(#[from] r2r::Error),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("parameter map lock poisoned")]
    Poisoned,
    #[error(transparent)]
    Model(#[from] crate::infer::ModelError),
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error(
        "cannot publish {topic}: this build has no type support for {type_name}; install \
         vision_msgs (e.g. ros-$ROS_DISTRO-vision-msgs), source it and rebuild redline so that \
         r2r generates it"
    )]
    MissingMessageType {
        topic: String,
        type_name: &'static str,
    },
}

/// `r2r::QosProfile` for a [`TopicQos`].
pub fn to_profile(q: &TopicQos) -> QosProfile {
    let p = QosProfile::default().keep_last(q.depth);
    let p = match q.reliability {
        Reliability::Reliable => p.reliable(),
        Reliability::BestEffort => p.best_effort(),
    };
    match q.durability {
        Durability::Volatile => p.volatile(),
        Durability::TransientLocal => p.transient_local(),
    }
}

fn from_r2r(v: &r2r::ParameterValue) -> ParamValue {
    use r2r::ParameterValue as P;
    match v {
        P::NotSet => ParamValue::NotSet,
        P::Bool(b) => ParamValue::Bool(*b),
        P::Integer(i) => ParamValue::Integer(*i),
        P::Double(d) => ParamValue::Double(*d),
        P::String(s) => ParamValue::String(s.clone()),
        P::BoolArray(a) => ParamValue::BoolArray(a.clone()),
        P::ByteArray(a) => ParamValue::ByteArray(a.clone()),
        P::IntegerArray(a) => ParamValue::IntegerArray(a.clone()),
        P::DoubleArray(a) => ParamValue::DoubleArray(a.clone()),
        P::StringArray(a) => ParamValue::StringArray(a.clone()),
    }
}

/// Read the node's parameters (from `--ros-args --params-file`) into a validated config.
pub fn node_config(node: &r2r::Node, node_name: &str) -> Result<Config, NodeError> {
    let params: Vec<(String, ParamValue)> = {
        let map = node.params.lock().map_err(|_| NodeError::Poisoned)?;
        map.iter()
            .map(|(k, p)| (k.clone(), from_r2r(&p.value)))
            .collect()
    };
    let params_file = first_params_file(std::env::args());
    Ok(config_from_parameters(
        params.iter().map(|(k, v)| (k.as_str(), v)),
        node_name,
        params_file.as_deref(),
    )?)
}

/// Publishes each frame's detections untyped on its camera's topic, from one reused CDR buffer.
struct RosSink {
    /// One publisher per camera (camera index).
    publishers: Vec<r2r::PublisherUntyped>,
    encoder: Detection2DArrayEncoder,
}

impl DetectionSink for RosSink {
    fn send(
        &mut self,
        meta: &FrameMeta,
        header: &FrameHeader,
        detections: &[Detection],
    ) -> Result<(), FrameError> {
        let publisher = self
            .publishers
            .get(meta.camera.index())
            .ok_or(FrameError::Engine)?;
        // A middleware failure to send is not the frame's fault, but it was not delivered.
        publisher
            .publish_raw(self.encoder.encode(header, detections))
            .map_err(|_| FrameError::Engine)
    }
}

/// The node's topic for `camera`: the configured (relative) name under the camera's name, or
/// the name itself for the single camera configured through `input`.
pub fn camera_topic(config: &Config, camera: &str, topic: &str) -> String {
    if config.cameras.from_input {
        topic.to_string()
    } else {
        format!("{camera}/{topic}")
    }
}

/// The wall-clock time as a ROS stamp (the node's clock is the system clock, as its frames').
fn now_stamp() -> r2r::builtin_interfaces::msg::Time {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    r2r::builtin_interfaces::msg::Time {
        sec: i32::try_from(since_epoch.as_secs()).unwrap_or(i32::MAX),
        nanosec: since_epoch.subsec_nanos(),
    }
}

/// A typed `DiagnosticStatus` from the shared diagnostics content.
fn to_status(c: &StatusContent) -> diagnostic_msgs::msg::DiagnosticStatus {
    diagnostic_msgs::msg::DiagnosticStatus {
        level: c.level,
        name: c.name.clone(),
        message: c.message.clone(),
        hardware_id: c.hardware_id.clone(),
        values: c
            .values
            .iter()
            .map(|(k, v)| diagnostic_msgs::msg::KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
    }
}

/// Run the node until SIGINT/SIGTERM, with `faults` injected into the engine (empty on the
/// vehicle; used by the live fault-injection test).
pub fn run(node_name: &str, faults: Vec<EngineFault>) -> Result<(), NodeError> {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            request_stop as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            request_stop as *const () as libc::sighandler_t,
        );
    }
    let ctx = r2r::Context::create()?;
    let mut node = r2r::Node::create(ctx, node_name, "")?;
    let config = node_config(&node, node_name)?;
    let cameras = config.camera_list();
    let mut images = Vec::with_capacity(cameras.len());
    for camera in &cameras {
        let image_type = match camera.transport {
            ImageTransport::Raw => "sensor_msgs/msg/Image",
            ImageTransport::Compressed => "sensor_msgs/msg/CompressedImage",
        };
        images.push(node.subscribe_raw(&camera.topic, image_type, to_profile(&TopicQos::IMAGE))?);
    }
    let mut publishers = Vec::with_capacity(cameras.len());
    for camera in &cameras {
        let topic = camera_topic(&config, &camera.name, &config.output.detections_topic);
        let publisher = node
            .create_publisher_untyped(&topic, DETECTIONS_TYPE, to_profile(&TopicQos::DETECTIONS))
            .map_err(|e| match e {
                r2r::Error::InvalidMessageType { .. } => NodeError::MissingMessageType {
                    topic: topic.clone(),
                    type_name: DETECTIONS_TYPE,
                },
                other => NodeError::Ros(other),
            })?;
        publishers.push(publisher);
    }
    let diag_pub = node.create_publisher::<diagnostic_msgs::msg::DiagnosticArray>(
        &config.output.diagnostics_topic,
        to_profile(&TopicQos::DIAGNOSTICS),
    )?;
    let alarm_pub = node.create_publisher::<diagnostic_msgs::msg::DiagnosticStatus>(
        &config.output.alarm_topic,
        to_profile(&TopicQos::ALARM),
    )?;
    let mut camera_alarm_pubs = Vec::new();
    if !config.cameras.from_input {
        for camera in &cameras {
            camera_alarm_pubs.push(
                node.create_publisher::<diagnostic_msgs::msg::DiagnosticStatus>(
                    &camera_topic(&config, &camera.name, &config.output.alarm_topic),
                    to_profile(&TopicQos::ALARM),
                )?,
            );
        }
    }
    let engine = load_warm(&config.model, faults)?;
    let sink = RosSink {
        publishers,
        encoder: Detection2DArrayEncoder::new(config.model.class_names.clone()),
    };
    let stage_set = stages::build::<Vec<u8>, _>(&config, engine, sink);
    let clock = Arc::new(SystemClock::new());
    let pipeline = Pipeline::start(&PipelineSettings::from_config(&config), clock, stage_set)?;
    let submitters: Vec<_> = (0..cameras.len())
        .map(|i| pipeline.submitter(CameraId::at(i)))
        .collect();
    tracing::info!(
        cameras = %cameras.iter().map(|c| format!("{} ({})", c.name, c.topic)).collect::<Vec<_>>().join(", "),
        rt = %pipeline.rt_report().summary(),
        "redline node ready"
    );
    // Identifies this node in /diagnostics (e.g. `/front/redline`).
    let hardware_id = node
        .fully_qualified_name()
        .unwrap_or_else(|_| node_name.to_string());
    let names = MonitorNames::new(&config, &hardware_id);
    let mut alarms = AlarmBoard::new(&names);
    let initial = alarm_status(&AlarmState::default(), &hardware_id);
    alarm_pub.publish(&to_status(&initial))?;
    for p in &camera_alarm_pubs {
        p.publish(&to_status(&initial))?;
    }

    let period = Duration::from_secs_f64(config.monitor.diagnostics_period_ms / 1000.0);
    let mut last_diag = Instant::now();
    while !STOP.load(Ordering::SeqCst) {
        node.spin_once(Duration::from_millis(2));
        // Drain at once: r2r's stream buffers 10 and drops the newest when full.
        for (stream, submitter) in images.iter_mut().zip(&submitters) {
            while let Some(Some(bytes)) = stream.next().now_or_never() {
                submitter.submit(bytes);
            }
        }
        let mut transitioned = false;
        for change in pipeline.transitions().try_iter() {
            for (topic, status) in alarms.apply(&change, &names) {
                match topic {
                    AlarmTopic::Aggregate => alarm_pub.publish(&to_status(&status))?,
                    AlarmTopic::Camera(c) => {
                        if let Some(p) = camera_alarm_pubs.get(c) {
                            p.publish(&to_status(&status))?;
                        }
                    }
                }
            }
            transitioned = true;
        }
        if transitioned || last_diag.elapsed() >= period {
            diag_pub.publish(&diagnostic_msgs::msg::DiagnosticArray {
                header: r2r::std_msgs::msg::Header {
                    stamp: now_stamp(),
                    frame_id: String::new(),
                },
                status: names.statuses(&pipeline).iter().map(to_status).collect(),
            })?;
            last_diag = Instant::now();
        }
    }
    let (summary, _) = pipeline.shutdown()?;
    let a = summary.accounting;
    let (_, e2e) = summary.latency.summaries();
    tracing::info!(
        received = a.received,
        published = a.published,
        dropped = a.dropped.total(),
        deadline_misses = a.deadline_misses(),
        balanced = a.balances(),
        p50_ms = e2e.p50_ns as f64 / 1e6,
        p99_ms = e2e.p99_ns as f64 / 1e6,
        max_ms = e2e.max_ns as f64 / 1e6,
        final_level = summary.final_level.name(),
        "redline node stopped"
    );
    Ok(())
}
