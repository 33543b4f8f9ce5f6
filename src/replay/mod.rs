//! Replaying a rosbag2 recording through the real pipeline on live deadlines: pacing (recorded
//! rate, a rate factor, or as fast as possible), stamps moved onto the live clock, fault
//! injection, the output recording, the report, and clean interruption by SIGINT/SIGTERM.

mod driver;
pub mod fault;
pub mod interrupt;
mod options;
mod output;
mod report_builder;
pub mod schedule;
mod sink;

pub use driver::{run, ReplayError, ReplayOutcome};
pub use fault::{engine_faults, FaultSpec, FaultSpecError};
pub use options::{Gates, ReplayOptions};
pub use output::{OutputChannel, OutputRecord, OutputSummary};
pub use schedule::Pacing;
