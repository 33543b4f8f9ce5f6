//! Replaying a rosbag2 recording through the real pipeline on live deadlines: pacing (recorded
//! rate, a rate factor, or as fast as possible), stamps moved onto the live clock, fault
//! injection, and the report.

pub mod fault;
pub mod schedule;

pub use fault::{FaultSpec, FaultSpecError};
