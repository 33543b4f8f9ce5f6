//! # redline — a camera perception node that answers on time or not at all
//!
//! ```text
//!  camera topic / bag ─► ingest ─► [latest-wins slot] ─► preprocess ─► infer ─► decode ─► publish
//!  (CDR bytes, borrowed)   │ stamp → deadline              │ letterbox,   │ tract   │ boxes →  │ only if the
//!                          │ reject stale / skewed         │ normalise,   │ or      │ source   │ deadline has
//!                          ▼                               │ layout into  │ TensorRT│ pixels,  │ not passed
//!                    frame pool lease                      │ engine input │         │ NMS      ▼
//!                                                          ▼              ▼         ▼     Detection2DArray,
//!                    every hop: deadline check → drop with a reason → SafetyMonitor     /diagnostics, alarm
//! ```
//!
//! * One thread per stage, pinned to a core ([`rt`]); stages exchange pooled buffers by
//!   ownership ([`frame`]) through a capacity-1 latest-wins slot and bounded channels
//!   ([`pipeline`]). No heap allocation per frame in steady state.
//! * Every frame carries a deadline computed from its capture stamp ([`deadline`]); each stage
//!   checks it, and predicts misses from running per-stage cost percentiles. Dropped frames carry
//!   a string-free [`error::DropReason`]; `received = published + Σ dropped + in_flight` always.
//! * The [`deadline::monitor`] turns outcomes into OK/WARN/ERROR/STALE with hysteresis and
//!   watchdogs; transitions go to `/diagnostics`, a latched alarm topic, logs and replay reports.
//! * [`stages`] are the concrete stages both the replay and the node run; [`preprocess`] is one
//!   fused pass from raw bytes into the engine input; [`infer`] loads a
//!   model once (checking its contract) and runs it into preallocated outputs; [`detect`]
//!   decodes YOLOX / YOLOv8 / SSD outputs into boxes in source pixels.
//! * [`msgs`] reads and writes ROS 2 CDR without copying image bytes; [`bag`] reads rosbag2
//!   (MCAP, sqlite3) and writes MCAP; [`replay`] drives the real pipeline from a bag on live
//!   deadlines and [`report`] writes JSON/HTML reports. `ros` (feature `ros2`) is the node.

pub mod atomic_file;
pub mod bag;
pub mod bench;
pub mod config;
pub mod deadline;
pub mod detect;
pub mod error;
pub mod frame;
pub mod infer;
pub mod msgs;
pub mod pipeline;
pub mod preprocess;
pub mod replay;
pub mod report;
pub mod ros;
pub mod rt;
pub mod stages;

pub use config::Config;
pub use error::{BadInputKind, DropReason, FrameError, Stage};
