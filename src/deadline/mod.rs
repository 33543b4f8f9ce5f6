//! Deadlines from capture stamps, per-stage checks, predictive drops, accounting, and the safety monitor.
