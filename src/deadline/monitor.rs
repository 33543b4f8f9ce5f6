//! The safety monitor (ARCHITECTURE §3): turns frame outcomes and watchdog ticks into a level
//! (OK/WARN/ERROR/STALE) with hysteresis. Every input returns a decision: `Some(Transition)`
//! when the level changed, `None` otherwise.
//!
//! Rules, driven by [`MonitorConfig`]:
//! * A *miss* is a frame dropped for a deadline (`StaleOnArrival`, `PredictedMiss`, `MissedAt`)
//!   or lost inside the pipeline (`EngineError`, `PoolExhausted`). `Superseded`, `BadInput` and
//!   `ClockSkew` drops are neutral: they neither miss nor count as on time.
//! * ERROR when `error_consecutive_misses` consecutive misses or a miss ratio
//!   ≥ `error_miss_ratio`; WARN likewise with the `warn_*` thresholds. The ratio is misses in the
//!   last `window_frames` counted frames divided by `window_frames` (so a single early miss
//!   cannot look like 100 %). Escalation is immediate.
//! * De-escalation steps one level down after `recover_after_on_time` consecutive on-time
//!   frames, never below what the current counts demand; each step needs a fresh run.
//! * Watchdog ticks: no frame for `sensor_timeout_ms` → STALE; when frames arrive again the
//!   level resumes at WARN at least (and recovers by hysteresis). Nothing published for
//!   `output_timeout_ms` while frames arrive → ERROR.
//!
//! The monitor is a plain state machine: no clock, no threads, no allocation after `new`.

use serde::Serialize;

use crate::config::MonitorConfig;
use crate::deadline::accounting::{AccountingSnapshot, DropCounts};
use crate::deadline::alarm::{AlarmState, Cause, Level, Transition};
use crate::deadline::clock::{ms_to_nanos, MonoTime};
use crate::error::{DropReason, Stage};

/// The final outcome of one frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Published before its deadline, `latency_ns` after capture.
    OnTime { latency_ns: u64 },
    /// Dropped at `stage` for `reason`.
    Dropped { reason: DropReason, stage: Stage },
}

impl Outcome {
    /// Whether this outcome counts as a miss for the monitor.
    pub fn is_miss(&self) -> bool {
        match self {
            Outcome::OnTime { .. } => false,
            Outcome::Dropped { reason, .. } => {
                reason.is_deadline_miss()
                    || matches!(
                        reason,
                        DropReason::EngineError | DropReason::PoolExhausted { .. }
                    )
            }
        }
    }
}

/// The safety monitor state machine.
#[derive(Clone, Debug)]
pub struct SafetyMonitor {
    warn_consecutive: u32,
    error_consecutive: u32,
    warn_ratio: f64,
    error_ratio: f64,
    recover_after: u32,
    sensor_timeout_ns: u64,
    output_timeout_ns: u64,

    window: Vec<bool>,
    window_next: usize,
    window_misses: u32,

    consecutive_misses: u32,
    consecutive_on_time: u32,
    /// The frame-driven level with hysteresis (OK/WARN/ERROR).
    held: Level,
    /// Sensor silence in force.
    stale: bool,
    last_arrival: MonoTime,
    last_publish: MonoTime,
    /// The stage where the last frame was lost (dropped for any reason but `superseded`) since
    /// the last publish: what output silence is blamed on.
    lost_at_since_publish: Option<Stage>,
    misses_by_stage: [u64; Stage::COUNT],
    alarm: AlarmState,
}

impl SafetyMonitor {
    /// A monitor at level OK whose watchdogs count from `now`.
    pub fn new(config: &MonitorConfig, now: MonoTime) -> Self {
        let window_len = config.window_frames.max(1) as usize;
        Self {
            warn_consecutive: config.warn_consecutive_misses.max(1),
            error_consecutive: config.error_consecutive_misses.max(1),
            warn_ratio: config.warn_miss_ratio,
            error_ratio: config.error_miss_ratio,
            recover_after: config.recover_after_on_time.max(1),
            sensor_timeout_ns: ms_to_nanos(config.sensor_timeout_ms),
            output_timeout_ns: ms_to_nanos(config.output_timeout_ms),
            window: vec![false; window_len],
            window_next: 0,
            window_misses: 0,
            consecutive_misses: 0,
            consecutive_on_time: 0,
            held: Level::Ok,
            stale: false,
            last_arrival: now,
            last_publish: now,
            lost_at_since_publish: None,
            misses_by_stage: [0; Stage::COUNT],
            alarm: AlarmState::default(),
        }
    }

    /// A frame arrived (before any outcome is known): feeds the sensor watchdog.
    pub fn on_arrival(&mut self, now: MonoTime) -> Option<Transition> {
        self.last_arrival = self.last_arrival.max(now);
        if !self.stale {
            return None;
        }
        self.stale = false;
        self.consecutive_on_time = 0;
        // Output silence is measured from the moment frames flow again.
        self.last_publish = self.last_publish.max(now);
        self.held = self.held.max(Level::Warn);
        self.settle(now, Cause::SensorResumed, None)
    }

    /// A frame's final outcome.
    pub fn on_outcome(&mut self, now: MonoTime, outcome: Outcome) -> Option<Transition> {
        match outcome {
            Outcome::OnTime { .. } => {
                self.last_publish = self.last_publish.max(now);
                self.lost_at_since_publish = None;
                self.consecutive_misses = 0;
                self.consecutive_on_time = self.consecutive_on_time.saturating_add(1);
                self.push_window(false);
                if self.held > Level::Ok && self.consecutive_on_time >= self.recover_after {
                    let (target, _) = self.target();
                    let lower = self.held.step_down().max(target);
                    if lower < self.held {
                        self.held = lower;
                        self.consecutive_on_time = 0;
                        return self.settle(now, Cause::Recovered, None);
                    }
                }
                None
            }
            Outcome::Dropped { stage, .. } if outcome.is_miss() => {
                self.consecutive_misses = self.consecutive_misses.saturating_add(1);
                self.consecutive_on_time = 0;
                self.misses_by_stage[stage.index()] += 1;
                self.lost_at_since_publish = Some(stage);
                self.push_window(true);
                let (target, cause) = self.target();
                if target > self.held {
                    self.held = target;
                    return self.settle(now, cause, Some(stage));
                }
                None
            }
            Outcome::Dropped { reason, stage } => {
                // Superseded frames were replaced by newer ones, not lost to a fault.
                if reason != DropReason::Superseded {
                    self.lost_at_since_publish = Some(stage);
                }
                None
            }
        }
    }

    /// Watchdog tick: checks sensor and output silence. Output silence names the stage where
    /// the last frame was lost since the last publish (an engine stall or failing engine shows as
    /// `infer`), or no stage when frames vanished without an outcome (a stage that never returns).
    pub fn tick(&mut self, now: MonoTime) -> Option<Transition> {
        if self.stale {
            return None;
        }
        if now.nanos_since(self.last_arrival) >= self.sensor_timeout_ns {
            self.stale = true;
            return self.settle(now, Cause::SensorSilence, None);
        }
        if self.held < Level::Error && now.nanos_since(self.last_publish) >= self.output_timeout_ns
        {
            self.held = Level::Error;
            self.consecutive_on_time = 0;
            return self.settle(now, Cause::OutputSilence, self.lost_at_since_publish);
        }
        None
    }

    /// The current level.
    pub fn level(&self) -> Level {
        self.alarm.level
    }

    /// The latched alarm.
    pub fn alarm(&self) -> &AlarmState {
        &self.alarm
    }

    pub fn consecutive_misses(&self) -> u32 {
        self.consecutive_misses
    }

    /// Misses in the window / `window_frames`.
    pub fn miss_ratio(&self) -> f64 {
        f64::from(self.window_misses) / self.window.len() as f64
    }

    /// The stage with the most misses so far (`None` before any miss).
    pub fn worst_stage(&self) -> Option<Stage> {
        let (i, n) = self
            .misses_by_stage
            .iter()
            .enumerate()
            .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))?;
        (*n > 0).then(|| Stage::ALL[i])
    }

    /// Misses attributed to each stage (index = [`Stage::index`]).
    pub fn misses_by_stage(&self) -> [u64; Stage::COUNT] {
        self.misses_by_stage
    }

    fn push_window(&mut self, miss: bool) {
        let slot = &mut self.window[self.window_next];
        if *slot {
            self.window_misses -= 1;
        }
        *slot = miss;
        if miss {
            self.window_misses += 1;
        }
        self.window_next = (self.window_next + 1) % self.window.len();
    }

    /// The level the counts demand, and which rule demands it.
    fn target(&self) -> (Level, Cause) {
        let ratio = self.miss_ratio();
        if self.consecutive_misses >= self.error_consecutive {
            (Level::Error, Cause::ConsecutiveMisses)
        } else if ratio >= self.error_ratio {
            (Level::Error, Cause::MissRatio)
        } else if self.consecutive_misses >= self.warn_consecutive {
            (Level::Warn, Cause::ConsecutiveMisses)
        } else if ratio >= self.warn_ratio {
            (Level::Warn, Cause::MissRatio)
        } else {
            (Level::Ok, Cause::Recovered)
        }
    }

    /// Recompute the effective level; latch and return a transition if it changed.
    fn settle(&mut self, now: MonoTime, cause: Cause, stage: Option<Stage>) -> Option<Transition> {
        let effective = if self.stale { Level::Stale } else { self.held };
        if effective == self.alarm.level {
            return None;
        }
        let t = Transition {
            at: now,
            from: self.alarm.level,
            to: effective,
            cause,
            stage,
        };
        self.alarm.apply(&t);
        Some(t)
    }
}

/// What `/diagnostics` publishes about deadlines (status `redline: deadline`).
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
pub struct MonitorSnapshot {
    /// Monotonic time the snapshot was taken, nanoseconds.
    pub at_ns: u64,
    pub level: Level,
    pub alarm: AlarmState,
    pub miss_ratio: f64,
    pub consecutive_misses: u32,
    /// End-to-end latency percentiles of published frames, nanoseconds.
    pub latency_p50_ns: u64,
    pub latency_p99_ns: u64,
    pub drops: DropCounts,
    pub worst_stage: Option<Stage>,
    pub accounting: AccountingSnapshot,
}

impl MonitorSnapshot {
    /// A snapshot at level OK with no latency (a monitor that does not exist).
    pub fn empty(at: MonoTime, accounting: AccountingSnapshot) -> Self {
        Self {
            at_ns: at.as_nanos(),
            level: Level::Ok,
            alarm: AlarmState::default(),
            miss_ratio: 0.0,
            consecutive_misses: 0,
            latency_p50_ns: 0,
            latency_p99_ns: 0,
            drops: accounting.dropped,
            worst_stage: None,
            accounting,
        }
    }

    /// Assemble a snapshot from the monitor, the latency percentiles and the accounting.
    pub fn new(
        at: MonoTime,
        monitor: &SafetyMonitor,
        latency_p50_ns: u64,
        latency_p99_ns: u64,
        accounting: AccountingSnapshot,
    ) -> Self {
        Self {
            at_ns: at.as_nanos(),
            level: monitor.level(),
            alarm: *monitor.alarm(),
            miss_ratio: monitor.miss_ratio(),
            consecutive_misses: monitor.consecutive_misses(),
            latency_p50_ns,
            latency_p99_ns,
            drops: accounting.dropped,
            worst_stage: monitor.worst_stage(),
            accounting,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Small thresholds so a handful of frames walks every transition (shared with the
    /// diagnostics tests).
    pub(crate) fn config() -> MonitorConfig {
        MonitorConfig {
            warn_consecutive_misses: 2,
            error_consecutive_misses: 4,
            window_frames: 10,
            warn_miss_ratio: 0.3,
            error_miss_ratio: 0.5,
            recover_after_on_time: 3,
            sensor_timeout_ms: 500.0,
            output_timeout_ms: 1000.0,
            diagnostics_period_ms: 1000.0,
        }
    }

    const MS: u64 = 1_000_000;
    fn t(ms: u64) -> MonoTime {
        MonoTime::from_nanos(ms * MS)
    }
    const MISS: Outcome = Outcome::Dropped {
        reason: DropReason::MissedAt {
            stage: Stage::Infer,
        },
        stage: Stage::Infer,
    };
    const ON_TIME: Outcome = Outcome::OnTime { latency_ns: 1 };

    #[test]
    fn consecutive_misses_escalate_to_warn_then_error() {
        let mut m = SafetyMonitor::new(&config(), t(0));
        assert_eq!(m.on_outcome(t(1), MISS), None);
        let w = m.on_outcome(t(2), MISS).unwrap();
        assert_eq!(
            (w.from, w.to, w.cause, w.stage, w.at),
            (
                Level::Ok,
                Level::Warn,
                Cause::ConsecutiveMisses,
                Some(Stage::Infer),
                t(2)
            )
        );
        assert_eq!(m.on_outcome(t(3), MISS), None);
        let e = m.on_outcome(t(4), MISS).unwrap();
        assert_eq!((e.from, e.to), (Level::Warn, Level::Error));
        assert_eq!(m.worst_stage(), Some(Stage::Infer));
    }

    #[test]
    fn recovery_needs_consecutive_on_time_frames_and_steps_one_level() {
        let mut m = SafetyMonitor::new(&config(), t(0));
        for i in 0..4 {
            m.on_outcome(t(i), MISS);
        }
        assert_eq!(m.level(), Level::Error);
        // The window (10 frames) still holds 4 misses = 0.4 ≥ warn ratio: ERROR → WARN only.
        assert_eq!(m.on_outcome(t(10), ON_TIME), None);
        assert_eq!(m.on_outcome(t(11), ON_TIME), None);
        let r = m.on_outcome(t(12), ON_TIME).unwrap();
        assert_eq!(
            (r.from, r.to, r.cause),
            (Level::Error, Level::Warn, Cause::Recovered)
        );
        // An interrupted run starts over.
        m.on_outcome(t(13), ON_TIME);
        m.on_outcome(
            t(14),
            Outcome::Dropped {
                reason: DropReason::Superseded,
                stage: Stage::Preprocess,
            },
        );
        assert_eq!(m.level(), Level::Warn, "neutral drops change nothing");
        // 5 misses in the 10-frame window: the ratio alone is back at ERROR.
        let e = m.on_outcome(t(15), MISS).unwrap();
        assert_eq!((e.to, e.cause), (Level::Error, Cause::MissRatio));
        assert_eq!(m.on_outcome(t(16), ON_TIME), None);
        assert_eq!(m.on_outcome(t(17), ON_TIME), None);
        // Three on time: one step down, and the ratio (still ≥ 0.3) keeps it at WARN.
        assert_eq!(m.on_outcome(t(18), ON_TIME).unwrap().to, Level::Warn);
        // Each step needs a fresh run of three; by then two old misses left the window.
        assert_eq!(m.on_outcome(t(19), ON_TIME), None);
        assert_eq!(m.on_outcome(t(20), ON_TIME), None);
        let ok = m.on_outcome(t(21), ON_TIME).unwrap();
        assert_eq!((ok.from, ok.to), (Level::Warn, Level::Ok));
    }

    #[test]
    fn miss_ratio_escalates_without_consecutive_misses() {
        let mut m = SafetyMonitor::new(&config(), t(0));
        let mut seen = Vec::new();
        for i in 0..6 {
            seen.extend(m.on_outcome(t(2 * i), MISS));
            seen.extend(m.on_outcome(t(2 * i + 1), ON_TIME));
        }
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!((seen[0].to, seen[0].cause), (Level::Warn, Cause::MissRatio));
        assert_eq!(
            (seen[1].to, seen[1].cause),
            (Level::Error, Cause::MissRatio)
        );
        assert!((m.miss_ratio() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn sensor_silence_goes_stale_and_resumes_at_warn() {
        let mut m = SafetyMonitor::new(&config(), t(0));
        assert_eq!(m.tick(t(499)), None);
        let s = m.tick(t(500)).unwrap();
        assert_eq!(
            (s.from, s.to, s.cause),
            (Level::Ok, Level::Stale, Cause::SensorSilence)
        );
        assert_eq!(m.tick(t(5000)), None, "stays stale without repeating");
        let r = m.on_arrival(t(5001)).unwrap();
        assert_eq!(
            (r.from, r.to, r.cause),
            (Level::Stale, Level::Warn, Cause::SensorResumed)
        );
        for i in 0..2 {
            assert_eq!(m.on_outcome(t(5002 + i), ON_TIME), None);
        }
        let ok = m.on_outcome(t(5010), ON_TIME).unwrap();
        assert_eq!(ok.to, Level::Ok);
    }

    #[test]
    fn output_silence_while_frames_arrive_raises_error() {
        let mut m = SafetyMonitor::new(&config(), t(0));
        for i in 0..10 {
            m.on_arrival(t(100 * i));
            assert_eq!(m.tick(t(100 * i)), None);
        }
        m.on_arrival(t(1000));
        let e = m.tick(t(1000)).unwrap();
        // No frame was lost with an outcome: no stage to blame.
        assert_eq!(
            (e.to, e.cause, e.stage),
            (Level::Error, Cause::OutputSilence, None)
        );
        // Publishing again recovers only through hysteresis.
        assert_eq!(m.on_outcome(t(1001), ON_TIME), None);
        assert_eq!(m.on_outcome(t(1002), ON_TIME), None);
        assert_eq!(m.on_outcome(t(1003), ON_TIME).unwrap().to, Level::Warn);
    }

    #[test]
    fn output_silence_names_the_stage_where_frames_were_lost() {
        let mut m = SafetyMonitor::new(&config(), t(0));
        m.on_arrival(t(100));
        assert_eq!(m.on_outcome(t(100), ON_TIME), None);
        // One miss at infer (below every threshold), then nothing is published for 1 s.
        m.on_arrival(t(200));
        let _ = m.on_outcome(t(900), MISS);
        m.on_arrival(t(1100));
        let e = m.tick(t(1100)).unwrap();
        assert_eq!(
            (e.to, e.cause, e.stage),
            (Level::Error, Cause::OutputSilence, Some(Stage::Infer))
        );
    }
}
