//! The safety monitor (ARCHITECTURE §3): turns frame outcomes and watchdog ticks into a level
//! (OK/WARN/ERROR/STALE) with hysteresis. Every input returns a decision: `Some(Transition)`
//! when the level changed, `None` otherwise.
//!
//! Rules, driven by [`MonitorConfig`]:
//! * A *miss* is a frame dropped for a deadline (`StaleOnArrival`, `PredictedMiss`, `MissedAt`)
//!   or lost inside the pipeline (`EngineError`, `PoolExhausted`). `Superseded`, `BadInput` and
//!   `ClockSkew` drops are neutral: they neither miss nor count as on time. A predicted miss is
//!   a miss (the frame was not delivered); one slow frame cannot cause predicted drops (see
//!   [`crate::deadline::cost`] and [`crate::deadline::gate`]).
//! * ERROR when `error_consecutive_misses` consecutive misses or a miss ratio
//!   ≥ `error_miss_ratio`; WARN likewise with the `warn_*` thresholds. The ratio is misses in the
//!   last `window_frames` counted frames divided by `window_frames` (so a single early miss
//!   cannot look like 100 %). Escalation is immediate.
//! * De-escalation steps one level down after `recover_after_on_time` consecutive on-time
//!   frames, never below what the current counts demand; each step needs a fresh run.
//! * **A burst is forgiven once the pipeline has been on time for as long as the burst
//!   lasted.** The miss ratio would otherwise hold the level up until the burst's misses leave
//!   the window (`window_frames`, 5 s at 10 Hz), longer than the fault and longer than a short
//!   replay. So when the ratio is what blocks a step down, the step is taken anyway once the
//!   on-time run (≥ `recover_after_on_time`) is at least the *span* of the window's misses —
//!   the frames from its oldest to its newest miss — and those misses stop counting for the
//!   level (they still show in [`SafetyMonitor::miss_ratio`] until they leave the window).
//!   Misses spread across the window (an intermittent fault: one frame in ten) span most of it,
//!   so they keep the ratio in force and the level steady instead of flapping; a contiguous
//!   stall spans little more than itself. Escalation is unchanged: a new miss is judged with
//!   the misses not forgiven.
//! * An escalation names the stage with the most misses among those that made its rule fire
//!   (the run of consecutive misses, or the window's misses), not merely the last one.
//! * [`SafetyMonitor::recovery`] tells how far the next step down is ("WARN, recovering: 7 of
//!   10 on-time frames"), so a level that a short input could not finish recovering from is
//!   reported as such.
//! * Watchdogs start when the pipeline is ready ([`SafetyMonitor::arm`]), not when the monitor
//!   is built. No frame for `sensor_timeout_ms` → STALE; when frames arrive again the level
//!   resumes at WARN at least (and recovers by hysteresis). Nothing published for
//!   `output_timeout_ms` → ERROR, counted from the first frame that arrived (no output can be
//!   expected before any input) or from the last publish.
//! * [`SafetyMonitor::end_of_input`]: the input ended (end of a bag). The sensor watchdog stops —
//!   the end of a recording is not sensor silence — and output silence is judged only while
//!   frames are still owed an outcome.
//!
//! The monitor is a plain state machine: no clock, no threads, no allocation after `new`.

use std::collections::VecDeque;

use serde::Serialize;

use crate::config::MonitorConfig;
use crate::deadline::accounting::{AccountingSnapshot, DropCounts};
use crate::deadline::alarm::{AlarmState, Cause, Level, Recovery, Transition};
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

    /// Frames in the ratio window (`window_frames`).
    window_len: u64,
    /// Frames counted so far (on time or missed): the index the next one gets.
    counted: u64,
    /// Index and stage of the misses among the last `window_len` counted frames, oldest first
    /// (capacity `window_len`, so pushing never reallocates).
    misses: VecDeque<(u64, Stage)>,
    /// The oldest `forgiven` entries of `misses` belong to a burst the pipeline has recovered
    /// from: they no longer count for the level.
    forgiven: usize,

    consecutive_misses: u32,
    consecutive_on_time: u32,
    /// The frame-driven level with hysteresis (OK/WARN/ERROR).
    held: Level,
    /// Sensor silence in force.
    stale: bool,
    /// Watchdogs run only once armed.
    armed: bool,
    input_ended: bool,
    last_arrival: MonoTime,
    /// Output silence is measured from here: the last publish, or the first arrival (after
    /// arming or after sensor silence); `None` before any frame arrived.
    output_since: Option<MonoTime>,
    /// Frames that arrived and have no outcome yet.
    owed: u64,
    /// The stage where the last frame was lost since the last publish (for any reason, a
    /// superseded frame included: one that waited in front of a stalled engine was lost there):
    /// what output silence is blamed on.
    lost_at_since_publish: Option<Stage>,
    misses_by_stage: [u64; Stage::COUNT],
    alarm: AlarmState,
}

impl SafetyMonitor {
    /// A monitor at level OK. Its watchdogs are silent until [`SafetyMonitor::arm`]; frame
    /// outcomes count at once.
    pub fn new(config: &MonitorConfig) -> Self {
        let window_len = config.window_frames.max(1);
        Self {
            warn_consecutive: config.warn_consecutive_misses.max(1),
            error_consecutive: config.error_consecutive_misses.max(1),
            warn_ratio: config.warn_miss_ratio,
            error_ratio: config.error_miss_ratio,
            recover_after: config.recover_after_on_time.max(1),
            sensor_timeout_ns: ms_to_nanos(config.sensor_timeout_ms),
            output_timeout_ns: ms_to_nanos(config.output_timeout_ms),
            window_len: u64::from(window_len),
            counted: 0,
            misses: VecDeque::with_capacity(window_len as usize),
            forgiven: 0,
            consecutive_misses: 0,
            consecutive_on_time: 0,
            held: Level::Ok,
            stale: false,
            armed: false,
            input_ended: false,
            last_arrival: MonoTime::default(),
            output_since: None,
            owed: 0,
            lost_at_since_publish: None,
            misses_by_stage: [0; Stage::COUNT],
            alarm: AlarmState::default(),
        }
    }

    /// The pipeline is ready (threads up, memory locked): the watchdogs count from `now`.
    /// Sensor silence is judged from `now`; output silence from the first frame that arrives.
    pub fn arm(&mut self, now: MonoTime) {
        self.armed = true;
        self.last_arrival = self.last_arrival.max(now);
        self.output_since = self.output_since.map(|t| t.max(now));
    }

    /// Whether [`SafetyMonitor::arm`] was called.
    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// The input ended (the last frame of a recording was handed over): the sensor watchdog
    /// stops, output silence is judged only while frames are still owed an outcome, and the
    /// alarm records it. Never a transition: the level stays what the frames made it.
    pub fn end_of_input(&mut self, _now: MonoTime) {
        self.input_ended = true;
        self.alarm.input_ended = true;
    }

    /// Whether [`SafetyMonitor::end_of_input`] was called.
    pub fn input_ended(&self) -> bool {
        self.input_ended
    }

    /// A frame arrived (before any outcome is known): feeds the sensor watchdog.
    pub fn on_arrival(&mut self, now: MonoTime) -> Option<Transition> {
        self.last_arrival = self.last_arrival.max(now);
        self.owed = self.owed.saturating_add(1);
        if self.output_since.is_none() {
            self.output_since = Some(now);
        }
        if !self.stale {
            return None;
        }
        self.stale = false;
        self.consecutive_on_time = 0;
        // Output silence is measured from the moment frames flow again.
        self.output_since = Some(self.output_since.map_or(now, |t| t.max(now)));
        self.held = self.held.max(Level::Warn);
        let transition = self.settle(now, Cause::SensorResumed, None);
        self.alarm.recovery = self.recovery();
        transition
    }

    /// A frame's final outcome.
    pub fn on_outcome(&mut self, now: MonoTime, outcome: Outcome) -> Option<Transition> {
        self.owed = self.owed.saturating_sub(1);
        let transition = match outcome {
            Outcome::OnTime { .. } => {
                self.output_since = Some(self.output_since.map_or(now, |t| t.max(now)));
                self.lost_at_since_publish = None;
                self.consecutive_misses = 0;
                self.consecutive_on_time = self.consecutive_on_time.saturating_add(1);
                self.count(None);
                self.step_down(now)
            }
            Outcome::Dropped { stage, .. } if outcome.is_miss() => {
                self.consecutive_misses = self.consecutive_misses.saturating_add(1);
                self.consecutive_on_time = 0;
                self.misses_by_stage[stage.index()] += 1;
                self.lost_at_since_publish = Some(stage);
                self.count(Some(stage));
                let (target, cause) = self.target();
                if target > self.held {
                    self.held = target;
                    let blamed = self.blame(cause);
                    self.settle(now, cause, blamed)
                } else {
                    None
                }
            }
            Outcome::Dropped { stage, .. } => {
                // Neutral for the counts, but if nothing gets published this is where frames
                // vanish: behind a stalled engine, frames are superseded in front of it.
                self.lost_at_since_publish = Some(stage);
                None
            }
        };
        self.alarm.recovery = self.recovery();
        transition
    }

    /// Watchdog tick: checks sensor and output silence. Output silence names the stage where
    /// the last frame was lost since the last publish (an engine stall or failing engine shows as
    /// `infer`), or no stage when frames vanished without an outcome (a stage that never returns).
    pub fn tick(&mut self, now: MonoTime) -> Option<Transition> {
        if !self.armed || self.stale {
            return None;
        }
        if !self.input_ended && now.nanos_since(self.last_arrival) >= self.sensor_timeout_ns {
            self.stale = true;
            let t = self.settle(now, Cause::SensorSilence, None);
            self.alarm.recovery = self.recovery();
            return t;
        }
        let owed = !self.input_ended || self.owed > 0;
        let silent = self
            .output_since
            .is_some_and(|since| now.nanos_since(since) >= self.output_timeout_ns);
        if self.held < Level::Error && owed && silent {
            self.held = Level::Error;
            self.consecutive_on_time = 0;
            let t = self.settle(now, Cause::OutputSilence, self.lost_at_since_publish);
            self.alarm.recovery = self.recovery();
            return t;
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

    /// Consecutive on-time frames since the last miss or level change.
    pub fn consecutive_on_time(&self) -> u32 {
        self.consecutive_on_time
    }

    /// Misses in the window / `window_frames` (including misses of a burst already forgiven:
    /// this is what happened, not what holds the level).
    pub fn miss_ratio(&self) -> f64 {
        self.misses.len() as f64 / self.window_len as f64
    }

    /// How far the next step down is, while the level is WARN or ERROR (`None` at OK and while
    /// STALE: sensor silence ends with a frame, not with a count).
    pub fn recovery(&self) -> Option<Recovery> {
        if self.stale || self.held == Level::Ok {
            return None;
        }
        let to = self.held.step_down();
        let needed = if self.ratio_level() > to {
            self.recover_after.max(self.burst_span())
        } else {
            self.recover_after
        };
        Some(Recovery {
            on_time: self.consecutive_on_time,
            needed,
            to,
        })
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

    /// Count one frame into the ratio window: a miss at `Some(stage)`, or on time.
    fn count(&mut self, missed_at: Option<Stage>) {
        let index = self.counted;
        self.counted += 1;
        // The frame that leaves the window now, if it was a miss (forgiven ones are the oldest).
        if let Some(leaving) = index.checked_sub(self.window_len) {
            if self.misses.front().map(|m| m.0) == Some(leaving) {
                self.misses.pop_front();
                self.forgiven = self.forgiven.saturating_sub(1);
            }
        }
        if let Some(stage) = missed_at {
            self.misses.push_back((index, stage));
        }
    }

    /// Frames from the oldest to the newest miss not forgiven (0 when there is none).
    fn burst_span(&self) -> u32 {
        match (self.misses.get(self.forgiven), self.misses.back()) {
            (Some(oldest), Some(newest)) => {
                u32::try_from(newest.0 - oldest.0 + 1).unwrap_or(u32::MAX)
            }
            _ => 0,
        }
    }

    /// The stage an escalation names: the one with the most misses among those that made the
    /// rule fire — the current run of consecutive misses, or the window's misses not forgiven
    /// — so one frame attributed elsewhere (e.g. queued behind the stall) does not mislead;
    /// ties go to the most recent.
    fn blame(&self, cause: Cause) -> Option<Stage> {
        let first = match cause {
            Cause::ConsecutiveMisses => self
                .misses
                .len()
                .saturating_sub(self.consecutive_misses as usize),
            _ => self.forgiven,
        };
        let mut counts = [0u32; Stage::COUNT];
        for (_, stage) in self.misses.range(first..) {
            counts[stage.index()] += 1;
        }
        let most = counts.iter().copied().max()?;
        self.misses
            .range(first..)
            .rev()
            .map(|(_, stage)| *stage)
            .find(|s| counts[s.index()] == most)
    }

    /// The level the miss ratio (of misses not forgiven) demands.
    fn ratio_level(&self) -> Level {
        let ratio = (self.misses.len() - self.forgiven) as f64 / self.window_len as f64;
        if ratio >= self.error_ratio {
            Level::Error
        } else if ratio >= self.warn_ratio {
            Level::Warn
        } else {
            Level::Ok
        }
    }

    /// The level the counts demand, and which rule demands it.
    fn target(&self) -> (Level, Cause) {
        let ratio = self.ratio_level();
        if self.consecutive_misses >= self.error_consecutive {
            (Level::Error, Cause::ConsecutiveMisses)
        } else if ratio == Level::Error {
            (Level::Error, Cause::MissRatio)
        } else if self.consecutive_misses >= self.warn_consecutive {
            (Level::Warn, Cause::ConsecutiveMisses)
        } else if ratio == Level::Warn {
            (Level::Warn, Cause::MissRatio)
        } else {
            (Level::Ok, Cause::Recovered)
        }
    }

    /// After an on-time frame: one step down once the run is long enough (see the module docs).
    fn step_down(&mut self, now: MonoTime) -> Option<Transition> {
        if self.held == Level::Ok || self.consecutive_on_time < self.recover_after {
            return None;
        }
        let lower = self.held.step_down();
        let demanded = self.ratio_level();
        let to = if demanded > lower && self.consecutive_on_time >= self.burst_span() {
            // On time for as long as the burst lasted: forgive it.
            self.forgiven = self.misses.len();
            lower
        } else {
            lower.max(demanded)
        };
        if to >= self.held {
            return None;
        }
        self.held = to;
        self.consecutive_on_time = 0;
        self.settle(now, Cause::Recovered, None)
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

/// What `/diagnostics` publishes about deadlines (status `redline: deadline`). The monitor's
/// recovery progress and whether the input ended travel in `alarm` ([`AlarmState::recovery`],
/// [`AlarmState::input_ended`]).
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

    /// A monitor with the test thresholds, armed at 0.
    fn armed() -> SafetyMonitor {
        let mut m = SafetyMonitor::new(&config());
        m.arm(t(0));
        m
    }

    /// The shipped defaults (config/redline.yaml), output silence out of the way.
    fn defaults() -> MonitorConfig {
        MonitorConfig {
            warn_consecutive_misses: 2,
            error_consecutive_misses: 5,
            window_frames: 50,
            warn_miss_ratio: 0.05,
            error_miss_ratio: 0.2,
            recover_after_on_time: 10,
            sensor_timeout_ms: 500.0,
            output_timeout_ms: 100_000.0,
            diagnostics_period_ms: 1000.0,
        }
    }

    /// Feed `outcomes` one per millisecond from `*now`; the transitions, in order.
    fn feed(m: &mut SafetyMonitor, now: &mut u64, outcomes: &[Outcome]) -> Vec<Transition> {
        let mut seen = Vec::new();
        for o in outcomes {
            *now += 1;
            seen.extend(m.on_arrival(t(*now)));
            seen.extend(m.on_outcome(t(*now), *o));
        }
        seen
    }

    #[test]
    fn consecutive_misses_escalate_to_warn_then_error() {
        let mut m = armed();
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
        let mut m = armed();
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
        let mut m = armed();
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
        let mut m = armed();
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
        let mut m = armed();
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
        let mut m = armed();
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

    #[test]
    fn watchdogs_wait_for_arm_and_output_silence_for_the_first_frame() {
        let mut m = SafetyMonitor::new(&config());
        // Set-up took long: no watchdog before the pipeline is ready.
        assert_eq!(m.tick(t(5_000)), None);
        assert!(!m.is_armed());
        m.arm(t(5_000));
        assert_eq!(m.tick(t(5_499)), None);
        // No frame yet: nothing could have been published, so no output silence — but the
        // sensor is silent.
        let s = m.tick(t(5_500)).unwrap();
        assert_eq!((s.to, s.cause), (Level::Stale, Cause::SensorSilence));

        // Frames arriving from 100 ms after arming: output silence counts from the first one.
        let mut m = SafetyMonitor::new(&config());
        m.arm(t(0));
        for i in 1..=10 {
            m.on_arrival(t(100 * i));
            assert_eq!(m.tick(t(100 * i)), None, "at {} ms", 100 * i);
        }
        m.on_arrival(t(1100));
        let e = m.tick(t(1100)).unwrap();
        assert_eq!((e.to, e.cause), (Level::Error, Cause::OutputSilence));
    }

    #[test]
    fn the_end_of_the_input_is_not_sensor_silence() {
        let mut m = armed();
        let mut now = 0;
        feed(&mut m, &mut now, &[ON_TIME; 5]);
        m.end_of_input(t(now));
        assert!(m.input_ended() && m.alarm().input_ended);
        // Long after the last frame: neither STALE nor output silence, nothing is owed.
        assert_eq!(m.tick(t(now + 10_000)), None);
        assert_eq!(m.level(), Level::Ok);

        // A frame still in flight when the input ends is owed an outcome: if none comes within
        // the output timeout, that is output silence.
        let mut m = armed();
        let mut now = 0;
        feed(&mut m, &mut now, &[ON_TIME; 5]);
        m.on_arrival(t(now + 1));
        m.end_of_input(t(now + 1));
        assert_eq!(m.tick(t(now + 999)), None);
        let e = m.tick(t(now + 1000)).unwrap();
        assert_eq!((e.to, e.cause), (Level::Error, Cause::OutputSilence));
    }

    #[test]
    fn a_burst_is_forgiven_after_as_many_on_time_frames_as_it_lasted() {
        let mut m = SafetyMonitor::new(&defaults());
        m.arm(t(0));
        let mut now = 0;
        feed(&mut m, &mut now, &[ON_TIME; 10]);
        // The README's fault: ten frames lost in a row (ERROR), 20 % of the 50-frame window.
        let up = feed(&mut m, &mut now, &[MISS; 10]);
        assert_eq!(up.last().map(|t| t.to), Some(Level::Error));
        assert_eq!(
            m.recovery(),
            Some(Recovery {
                on_time: 0,
                needed: 10,
                to: Level::Warn
            })
        );
        feed(&mut m, &mut now, &[ON_TIME; 7]);
        assert_eq!(m.recovery().map(|r| (r.on_time, r.needed)), Some((7, 10)));
        assert_eq!(m.alarm().recovery, m.recovery());
        // Ten on time, as long as the burst: ERROR → WARN although the window still holds
        // 10 misses (ratio 0.2, the error ratio) …
        let down = feed(&mut m, &mut now, &[ON_TIME; 3]);
        assert_eq!(
            down.iter().map(|t| (t.to, t.cause)).collect::<Vec<_>>(),
            vec![(Level::Warn, Cause::Recovered)]
        );
        assert!((m.miss_ratio() - 0.2).abs() < 1e-9, "still reported");
        // … and ten more: WARN → OK, 20 frames after the burst, not 50.
        let ok = feed(&mut m, &mut now, &[ON_TIME; 10]);
        assert_eq!(ok.last().map(|t| t.to), Some(Level::Ok));
        assert_eq!(m.recovery(), None);
        // The forgiven burst does not come back: one new miss is judged on its own.
        assert!(feed(&mut m, &mut now, &[MISS]).is_empty());
        assert_eq!(m.level(), Level::Ok);
    }

    #[test]
    fn misses_spread_across_the_window_hold_the_level_without_flapping() {
        let mut m = SafetyMonitor::new(&defaults());
        m.arm(t(0));
        let mut now = 0;
        // One frame in eleven misses (9 %, above the 5 % warn ratio): runs of ten on-time
        // frames never outlast the span of the window's misses.
        let mut pattern = vec![ON_TIME; 10];
        pattern.push(MISS);
        let mut seen = Vec::new();
        for _ in 0..30 {
            seen.extend(feed(&mut m, &mut now, &pattern));
        }
        assert_eq!(
            seen.iter().map(|t| (t.to, t.cause)).collect::<Vec<_>>(),
            vec![(Level::Warn, Cause::MissRatio)],
            "one escalation, no flapping"
        );
        let r = m.recovery().unwrap();
        assert!(r.needed > 40, "{r:?}");
        // Once the misses stop, WARN lasts until the run outlasts their span.
        let clean = feed(&mut m, &mut now, &[ON_TIME; 45]);
        assert_eq!(clean.last().map(|t| t.to), Some(Level::Ok));
    }

    #[test]
    fn recovery_progress_is_reported_per_level() {
        let mut m = armed();
        assert_eq!(m.recovery(), None);
        let mut now = 0;
        feed(&mut m, &mut now, &[MISS, MISS]);
        feed(&mut m, &mut now, &[ON_TIME]);
        let r = m.recovery().unwrap();
        assert_eq!((r.on_time, r.to), (1, Level::Ok));
        // STALE ends with a frame, not with a count.
        m.tick(t(now + 600));
        assert_eq!(m.level(), Level::Stale);
        assert_eq!((m.recovery(), m.alarm().recovery), (None, None));
    }
}
