//! Per-frame outcome events: what happened to each frame and when, for replay timelines.
//!
//! The stage threads offer every outcome to a bounded channel with `try_send`; nobody has to
//! read it (the ROS node does not), and a full channel costs nothing but the lost event —
//! counting and the monitor never depend on it. The replay driver drains it to plot latency
//! over time.

use crate::deadline::{MonoTime, Outcome};
use crate::pipeline::camera::CameraId;

/// Events buffered for a reader that drains them between frames.
pub(crate) const FRAME_EVENT_CAPACITY: usize = 4096;

/// One frame's outcome.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameEvent {
    /// The frame's sequence number (`u64::MAX` for a message superseded before ingest).
    pub seq: u64,
    /// The camera the frame came from.
    pub camera: CameraId,
    /// When the outcome happened (monotonic).
    pub at: MonoTime,
    pub outcome: Outcome,
}
