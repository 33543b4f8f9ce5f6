//! Replaying a rosbag2 recording through the real pipeline on live deadlines: every image topic
//! a camera ([`cameras`]), their messages in recording order, pacing (recorded rate, a rate
//! factor, or as fast as possible), stamps moved onto the live clock, fault injection, the
//! output recording (per-camera detections and alarms, `/diagnostics`), and the report.

pub mod cameras;
mod driver;
pub mod fault;
mod interleave;
mod options;
mod output;
mod recorder;
mod report_builder;
pub mod schedule;
mod sink;

pub use driver::{run, ReplayError, ReplayOutcome};
pub use fault::{engine_faults, FaultSpec, FaultSpecError};
pub use interleave::Interleaved;
pub use options::{Gates, ReplayOptions};
pub use output::{check_out_dir, OutputChannel, OutputError, OutputRecord, OutputSummary};
pub use schedule::{LogGap, Pacing};
