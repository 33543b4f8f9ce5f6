//! The alarm vocabulary and the latched alarm state: levels (as in `diagnostic_msgs`), causes,
//! transitions, recovery progress, and [`AlarmState`], the plain data the alarm topic and
//! `/diagnostics` publish (serialising it to a `diagnostic_msgs/msg/DiagnosticStatus` is done in
//! `msgs/`).

use serde::Serialize;

use crate::deadline::clock::MonoTime;
use crate::error::Stage;

/// Health level, ordered by severity; the byte values are `diagnostic_msgs/DiagnosticStatus`'s.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    #[default]
    Ok = 0,
    Warn = 1,
    Error = 2,
    /// No data: the sensor has been silent.
    Stale = 3,
}

impl Level {
    /// `DiagnosticStatus.level` byte.
    pub const fn diagnostic_byte(self) -> u8 {
        self as u8
    }

    pub const fn name(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Stale => "STALE",
        }
    }

    /// One level less severe among OK/WARN/ERROR (STALE steps to ERROR).
    pub const fn step_down(self) -> Level {
        match self {
            Level::Ok | Level::Warn => Level::Ok,
            Level::Error => Level::Warn,
            Level::Stale => Level::Error,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the level changed. No strings.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// `monitor.*_consecutive_misses` consecutive frames missed.
    ConsecutiveMisses,
    /// The miss ratio over `monitor.window_frames` reached `monitor.*_miss_ratio`.
    MissRatio,
    /// No frame arrived for `monitor.sensor_timeout_ms`.
    SensorSilence,
    /// Frames arrive again after sensor silence.
    SensorResumed,
    /// Nothing was published for `monitor.output_timeout_ms` while frames arrived.
    OutputSilence,
    /// `monitor.recover_after_on_time` consecutive on-time frames.
    Recovered,
}

impl Cause {
    pub const fn name(self) -> &'static str {
        match self {
            Cause::ConsecutiveMisses => "consecutive_misses",
            Cause::MissRatio => "miss_ratio",
            Cause::SensorSilence => "sensor_silence",
            Cause::SensorResumed => "sensor_resumed",
            Cause::OutputSilence => "output_silence",
            Cause::Recovered => "recovered",
        }
    }
}

/// One change of level.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// Monotonic time of the change.
    #[serde(serialize_with = "serialize_mono")]
    pub at: MonoTime,
    pub from: Level,
    pub to: Level,
    pub cause: Cause,
    /// The stage that missed, where one is known.
    pub stage: Option<Stage>,
}

fn serialize_mono<S: serde::Serializer>(t: &MonoTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(t.as_nanos())
}

/// Progress toward the next step down (hysteresis), while the level is WARN or ERROR.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Consecutive on-time frames so far.
    pub on_time: u32,
    /// Consecutive on-time frames the step needs: `monitor.recover_after_on_time`, or the span
    /// of a burst of misses that still holds the miss ratio up (an upper bound: misses that
    /// leave the ratio window can allow the step sooner).
    pub needed: u32,
    /// The level the step goes to.
    pub to: Level,
}

impl std::fmt::Display for Recovery {
    /// `recovering: 7/10 on-time frames (to OK)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "recovering: {}/{} on-time frames (to {})",
            self.on_time, self.needed, self.to
        )
    }
}

/// The latched alarm: the current level and the transition that set it, with the monitor's
/// progress toward the next step down and whether the input has ended.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlarmState {
    pub level: Level,
    /// Cause of the last transition (`None` before the first).
    pub cause: Option<Cause>,
    /// Stage of the last transition, where one is known.
    pub stage: Option<Stage>,
    pub last_transition: Option<Transition>,
    /// Number of transitions so far.
    pub transitions: u64,
    /// Progress toward the next step down (`None` at OK and while STALE). Kept current by the
    /// monitor with every frame; [`AlarmState::apply`] leaves it alone.
    pub recovery: Option<Recovery>,
    /// The input ended (end of a recording): the level is where the last frames left it, not a
    /// live judgement, and sensor silence is no longer watched.
    pub input_ended: bool,
}

impl AlarmState {
    /// Latch a transition (level, cause, stage, count; `recovery` and `input_ended` are the
    /// monitor's to keep).
    pub fn apply(&mut self, t: &Transition) {
        self.level = t.to;
        self.cause = Some(t.cause);
        self.stage = t.stage;
        self.last_transition = Some(*t);
        self.transitions += 1;
    }

    /// True while the level asks a planner to act (ERROR or STALE).
    pub fn is_raised(&self) -> bool {
        self.level >= Level::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_latches_the_last_transition() {
        let mut a = AlarmState::default();
        assert_eq!(a.level, Level::Ok);
        let t = Transition {
            at: MonoTime::from_nanos(7),
            from: Level::Ok,
            to: Level::Error,
            cause: Cause::ConsecutiveMisses,
            stage: Some(Stage::Infer),
        };
        a.apply(&t);
        assert!(a.is_raised());
        assert_eq!(a.stage, Some(Stage::Infer));
        assert_eq!(a.last_transition, Some(t));
        assert_eq!(Level::Error.diagnostic_byte(), 2);
        assert_eq!(Level::Stale.diagnostic_byte(), 3);
    }

    #[test]
    fn recovery_reads_as_progress() {
        let r = Recovery {
            on_time: 7,
            needed: 10,
            to: Level::Ok,
        };
        assert_eq!(r.to_string(), "recovering: 7/10 on-time frames (to OK)");
    }
}
