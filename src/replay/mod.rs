//! Replaying a rosbag2 recording through the real pipeline on live deadlines: pacing (recorded
//! rate, a rate factor, or as fast as possible), stamps moved onto the live clock, fault
//! injection, the output recording, and the report.

mod driver;
pub mod fault;
mod options;
mod output;
mod report_builder;
mod running;
pub mod schedule;
mod sink;

pub use driver::{run, ReplayError, ReplayOutcome};
pub use fault::{engine_faults, FaultSpec, FaultSpecError};
pub use options::{Gates, ReplayOptions};
pub use output::{OutputChannel, OutputRecord, OutputSummary};
pub use schedule::Pacing;
