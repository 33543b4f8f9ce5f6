//! The r2r adapter (feature `ros2`): reads the node's parameters into a validated [`Config`],
//! creates the image subscription and the detections, `/diagnostics` and alarm publishers with
//! the QoS of [`super::qos`], drains the image stream on the spin thread at once, and stops
//! cleanly on SIGINT/SIGTERM with a summary in the log.
//!
//! Not yet wired: the pipeline (branch `core`) and the CDR writers (branch `msgs`). Until they
//! are merged, received frames are counted and released, and `/diagnostics` reports them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use r2r::{diagnostic_msgs, QosProfile};

use super::params::{config_from_parameters, ParamValue};
use super::qos::{Durability, Reliability, TopicQos};
use crate::config::{Config, ImageTransport};

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
    let base = std::env::current_dir().unwrap_or_else(|_| Path::new(".").to_path_buf());
    Ok(config_from_parameters(
        params.iter().map(|(k, v)| (k.as_str(), v)),
        node_name,
        &base,
    )?)
}

fn diagnostics(received: u64, level: u8, message: &str) -> diagnostic_msgs::msg::DiagnosticArray {
    let status = diagnostic_msgs::msg::DiagnosticStatus {
        level,
        name: "redline: deadline".to_string(),
        message: message.to_string(),
        hardware_id: "redline".to_string(),
        values: vec![diagnostic_msgs::msg::KeyValue {
            key: "received".to_string(),
            value: received.to_string(),
        }],
    };
    diagnostic_msgs::msg::DiagnosticArray {
        status: vec![status],
        ..Default::default()
    }
}

/// Run the node until SIGINT/SIGTERM.
pub fn run(node_name: &str) -> Result<(), NodeError> {
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
    let image_type = match config.input.transport {
        ImageTransport::Raw => "sensor_msgs/msg/Image",
        ImageTransport::Compressed => "sensor_msgs/msg/CompressedImage",
    };
    let mut images = node.subscribe_raw(
        &config.input.topic,
        image_type,
        to_profile(&TopicQos::IMAGE),
    )?;
    let _detections = node.create_publisher_untyped(
        &config.output.detections_topic,
        DETECTIONS_TYPE,
        to_profile(&TopicQos::DETECTIONS),
    )?;
    let diag_pub = node.create_publisher::<diagnostic_msgs::msg::DiagnosticArray>(
        &config.output.diagnostics_topic,
        to_profile(&TopicQos::DIAGNOSTICS),
    )?;
    let alarm_pub = node.create_publisher::<diagnostic_msgs::msg::DiagnosticStatus>(
        &config.output.alarm_topic,
        to_profile(&TopicQos::ALARM),
    )?;
    tracing::info!(topic = %config.input.topic, image_type, "redline node started");

    let period = Duration::from_secs_f64(config.monitor.diagnostics_period_ms / 1000.0);
    let mut received: u64 = 0;
    let mut last_diag = Instant::now();
    let mut alarm_sent = false;
    while !STOP.load(Ordering::SeqCst) {
        node.spin_once(Duration::from_millis(5));
        // Drain at once: r2r's stream buffers 10 and drops the newest when full.
        while let Some(Some(_bytes)) = images.next().now_or_never() {
            received += 1;
        }
        if !alarm_sent {
            let mut status = diagnostics(received, 0, "starting").status;
            if let Some(s) = status.pop() {
                alarm_pub.publish(&s)?;
            }
            alarm_sent = true;
        }
        if last_diag.elapsed() >= period {
            diag_pub.publish(&diagnostics(received, 0, "ok"))?;
            last_diag = Instant::now();
        }
    }
    tracing::info!(received, "redline node stopped");
    Ok(())
}
