//! Deadlines from capture stamps, per-stage checks, predictive drops, accounting, latency
//! histograms, and the safety monitor.
//!
//! * [`clock`]: monotonic [`MonoTime`] + ROS time; [`SystemClock`] and [`ManualClock`].
//! * [`policy`]: [`DeadlinePolicy`] — admission (`ClockSkew`, `StaleOnArrival`), hop checks,
//!   per-stage budgets, predictive drops.
//! * [`cost`]: running per-stage cost percentiles, robust to one outlier ([`CostEstimator`],
//!   [`StageCosts`]).
//! * [`gate`]: [`PredictionGate`] — each stage's entry decision: go, probe, or predicted drop.
//! * [`accounting`]: [`Accounting`] and the identity `received = published + Σ dropped + in_flight`.
//! * [`latency`]: preallocated per-stage and end-to-end histograms.
//! * [`monitor`] and [`alarm`]: the OK/WARN/ERROR/STALE state machine and the latched alarm.

pub mod accounting;
pub mod alarm;
pub mod clock;
pub mod cost;
pub mod diagnostics;
pub mod gate;
pub mod latency;
pub mod monitor;
pub mod policy;

pub use accounting::{Accounting, AccountingSnapshot, DropCounts};
pub use alarm::{AlarmState, Cause, Level, Recovery, Transition};
pub use clock::{Clock, ManualClock, MonoTime, SystemClock};
pub use cost::{CostEstimator, StageCosts};
pub use diagnostics::{alarm_status, deadline_status, StatusContent};
pub use gate::{Entering, Entry, PredictionGate};
pub use latency::{LatencyHistogram, LatencyHistograms, LatencySummary};
pub use monitor::{MonitorSnapshot, Outcome, SafetyMonitor};
pub use policy::{DeadlinePolicy, FrameDeadline};
