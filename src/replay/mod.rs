//! Replaying a rosbag2 recording through the real pipeline on live deadlines: every image topic
//! a camera ([`cameras`]), their messages in recording order, pacing (recorded rate, a rate
//! factor, or as fast as possible), stamps moved onto the live clock, fault injection, the
//! output recording (per-camera detections and alarms, `/diagnostics`), the report, and clean
//! interruption by SIGINT/SIGTERM. On the wall clock the stage threads run for real; on a
//! virtual clock ([`crate::pipeline::sim`]) the same stages run deterministically.

pub mod cameras;
mod driver;
pub mod fault;
mod feeder;
mod interleave;
pub mod interrupt;
mod options;
mod output;
mod recorder;
mod report_builder;
pub mod schedule;
mod sink;
pub mod virtual_costs;

pub use driver::{run, ReplayClock, ReplayError, ReplayOutcome};
pub use fault::{engine_faults, FaultSpec, FaultSpecError};
pub use interleave::Interleaved;
pub use options::{Gates, ReplayOptions};
pub use output::{check_out_dir, OutputChannel, OutputError, OutputRecord, OutputSummary};
pub use schedule::{LogGap, Pacing};
