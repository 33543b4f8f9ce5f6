//! `--fault SPEC`: timing faults injected into a replay to prove the safety behaviour.
//!
//! Grammar (`TARGET:ACTION[,KEY=VALUE]…`):
//!
//! | spec | effect |
//! |---|---|
//! | `infer:delay=120ms,frames=20..40` | the engine takes 120 ms longer on frames 20–39 |
//! | `infer:error,frames=50..52` | the engine fails on frames 50 and 51 |
//! | `sensor:silence=2s,at=5s` | no frame is delivered between 5 s and 7 s of the recording |
//! | `sensor:silence=2s,at=5s,camera=left` | the same, for camera `left` only |
//! | `sensor:burst=5,at=3s` | from 3 s, 5 frames are delivered back to back without pacing |
//! | `stamp:jump=-3s,frame=10` | frame 10's header stamp is moved by −3 s |
//!
//! Frame indices count the frames read from the bag, from 0; ranges are half-open.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![deny(clippy::arithmetic_side_effects)]

use std::ops::Range;
use std::time::Duration;

use crate::infer::{EngineFault, FaultKind};

/// A parsed fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultSpec {
    /// The engine is slowed by `delay` on these frames.
    InferDelay { delay: Duration, frames: Range<u64> },
    /// The engine fails on these frames.
    InferError { frames: Range<u64> },
    /// Frames recorded in `[at, at + duration)` (bag time since the first frame) are not
    /// delivered: of every camera, or of the camera named.
    SensorSilence {
        at: Duration,
        duration: Duration,
        camera: Option<String>,
    },
    /// From `at`, `frames` frames are delivered back to back.
    SensorBurst { at: Duration, frames: u32 },
    /// Frame `frame`'s stamp is moved by `offset_ns`.
    StampJump { frame: u64, offset_ns: i64 },
}

/// Why a fault spec was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--fault {spec:?}: {problem} (examples: infer:delay=120ms,frames=20..40 · infer:error,frames=50..52 · sensor:silence=2s,at=5s[,camera=NAME] · sensor:burst=5,at=3s · stamp:jump=-3s,frame=10)")]
pub struct FaultSpecError {
    pub spec: String,
    pub problem: String,
}

impl FaultSpec {
    /// The camera this fault is limited to, if any.
    pub fn camera(&self) -> Option<&str> {
        match self {
            FaultSpec::SensorSilence { camera, .. } => camera.as_deref(),
            _ => None,
        }
    }

    /// Parse one `--fault` argument.
    pub fn parse(spec: &str) -> Result<Self, FaultSpecError> {
        let fail = |problem: String| FaultSpecError {
            spec: spec.to_string(),
            problem,
        };
        let (target, rest) = spec
            .split_once(':')
            .ok_or_else(|| fail("expected TARGET:ACTION".into()))?;
        let mut parts = rest.split(',');
        let action = parts.next().unwrap_or_default();
        let (action_name, action_value) = match action.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (action, None),
        };
        let mut keys: Vec<(&str, &str)> = Vec::new();
        for part in parts {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| fail(format!("expected KEY=VALUE, found {part:?}")))?;
            keys.push((k.trim(), v.trim()));
        }
        let take = |keys: &mut Vec<(&str, &str)>, key: &str| -> Result<String, FaultSpecError> {
            let i = keys
                .iter()
                .position(|(k, _)| *k == key)
                .ok_or_else(|| fail(format!("missing `{key}=`")))?;
            Ok(keys.remove(i).1.to_string())
        };
        let value = |what: &str| -> Result<&str, FaultSpecError> {
            action_value.ok_or_else(|| {
                fail(format!(
                    "`{action_name}` needs a value: {action_name}={what}"
                ))
            })
        };
        let fault = match (target, action_name) {
            ("infer", "delay") => FaultSpec::InferDelay {
                delay: parse_duration(value("120ms")?).map_err(fail)?,
                frames: parse_range(&take(&mut keys, "frames")?).map_err(fail)?,
            },
            ("infer", "error") => FaultSpec::InferError {
                frames: parse_range(&take(&mut keys, "frames")?).map_err(fail)?,
            },
            ("sensor", "silence") => FaultSpec::SensorSilence {
                duration: parse_duration(value("2s")?).map_err(fail)?,
                at: parse_duration(&take(&mut keys, "at")?).map_err(fail)?,
                camera: match take(&mut keys, "camera") {
                    Ok(name) if name.is_empty() => {
                        return Err(fail("`camera=` needs a camera name".into()))
                    }
                    Ok(name) => Some(name),
                    Err(_) => None,
                },
            },
            ("sensor", "burst") => FaultSpec::SensorBurst {
                frames: value("5")?
                    .parse()
                    .map_err(|_| fail(format!("burst size {:?} is not a whole number", action_value.unwrap_or_default())))?,
                at: parse_duration(&take(&mut keys, "at")?).map_err(fail)?,
            },
            ("stamp", "jump") => FaultSpec::StampJump {
                offset_ns: parse_signed_nanos(value("-3s")?).map_err(fail)?,
                frame: take(&mut keys, "frame")?
                    .parse()
                    .map_err(|_| fail("frame must be a whole number".into()))?,
            },
            _ => {
                return Err(fail(format!(
                    "unknown fault `{target}:{action_name}`; known: infer:delay, infer:error, sensor:silence, sensor:burst, stamp:jump"
                )))
            }
        };
        if let Some((k, _)) = keys.first() {
            return Err(fail(format!("unknown key `{k}`")));
        }
        Ok(fault)
    }
}

/// The engine faults among `specs`, as the schedule [`crate::infer::FaultInjector`] takes.
pub fn engine_faults(specs: &[FaultSpec]) -> Vec<EngineFault> {
    specs
        .iter()
        .filter_map(|f| match f {
            FaultSpec::InferDelay { delay, frames } => Some(EngineFault {
                frames: frames.clone(),
                kind: FaultKind::Delay(*delay),
            }),
            FaultSpec::InferError { frames } => Some(EngineFault {
                frames: frames.clone(),
                kind: FaultKind::Error,
            }),
            _ => None,
        })
        .collect()
}

impl std::fmt::Display for FaultSpec {
    /// The spec in the grammar it was parsed from, exactly: `parse(display(x)) == x`. Durations
    /// use the largest unit that holds them without a fraction (`1500us`, not `1ms`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultSpec::InferDelay { delay, frames } => write!(
                f,
                "infer:delay={},frames={}..{}",
                Nanos::of(*delay),
                frames.start,
                frames.end
            ),
            FaultSpec::InferError { frames } => {
                write!(f, "infer:error,frames={}..{}", frames.start, frames.end)
            }
            FaultSpec::SensorSilence {
                at,
                duration,
                camera,
            } => {
                write!(
                    f,
                    "sensor:silence={},at={}",
                    Nanos::of(*duration),
                    Nanos::of(*at)
                )?;
                match camera {
                    Some(name) => write!(f, ",camera={name}"),
                    None => Ok(()),
                }
            }
            FaultSpec::SensorBurst { at, frames } => {
                write!(f, "sensor:burst={frames},at={}", Nanos::of(*at))
            }
            FaultSpec::StampJump { frame, offset_ns } => {
                write!(
                    f,
                    "stamp:jump={},frame={frame}",
                    Nanos(i128::from(*offset_ns))
                )
            }
        }
    }
}

/// A signed nanosecond count written in the largest exact unit (`3s`, `-118ns`, `1500us`).
struct Nanos(i128);

impl Nanos {
    fn of(d: Duration) -> Self {
        Self(d.as_nanos().try_into().unwrap_or(i128::MAX))
    }
}

impl std::fmt::Display for Nanos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
            if v != 0 && v.checked_rem(scale) == Some(0) {
                return write!(f, "{}{unit}", v.checked_div(scale).unwrap_or(v));
            }
        }
        write!(f, "{v}ns")
    }
}

/// Largest duration a fault may state: about 31 years.
const MAX_FAULT_NANOS: i128 = 1_000_000_000_000_000_000;

/// `120ms`, `2s`, `1.5s`, `500us`, `10ns` → a duration (non-negative).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let nanos = parse_signed_nanos(text)?;
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| format!("duration {text:?} must not be negative"))
}

/// A decimal number with a unit, read exactly (no floating point): `-1.5ms` → −1 500 000 ns.
/// Digits below a nanosecond are rounded half away from zero.
fn parse_signed_nanos(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("duration {t:?} needs a unit (ns, us, ms, s)"))?;
    let (number, unit) = t.split_at(split);
    let digits_per_unit: usize = match unit {
        "ns" => 0,
        "us" => 3,
        "ms" => 6,
        "s" => 9,
        _ => return Err(format!("unknown unit {unit:?} in {t:?} (ns, us, ms, s)")),
    };
    let not_a_number = || format!("{number:?} in {t:?} is not a decimal number (e.g. 1.5)");
    let (negative, body) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(not_a_number());
    }
    let out_of_range = || format!("duration {t:?} is out of range (at most about 31 years)");
    let scale = 10i128.pow(digits_per_unit as u32);
    // Every byte is an ASCII digit (checked above): its value is `b - b'0'`, at most 9.
    let digit = |b: u8| i128::from(b.saturating_sub(b'0'));
    let mut nanos: i128 = 0;
    for b in whole.bytes() {
        nanos = nanos
            .checked_mul(10)
            .and_then(|n| n.checked_add(digit(b)))
            .filter(|n| *n <= MAX_FAULT_NANOS)
            .ok_or_else(out_of_range)?;
    }
    nanos = nanos.checked_mul(scale).ok_or_else(out_of_range)?;
    let mut place = scale;
    for (i, b) in fraction.bytes().enumerate() {
        if i < digits_per_unit {
            place = place.checked_div(10).unwrap_or(0);
            nanos = nanos.saturating_add(digit(b).saturating_mul(place));
        } else {
            // The first digit below a nanosecond rounds; the rest cannot change the result.
            if digit(b) >= 5 {
                nanos = nanos.saturating_add(1);
            }
            break;
        }
    }
    if nanos > MAX_FAULT_NANOS {
        return Err(out_of_range());
    }
    let signed = if negative {
        nanos.saturating_neg()
    } else {
        nanos
    };
    i64::try_from(signed).map_err(|_| out_of_range())
}

/// `20..40` (half-open) or `7` (one frame).
fn parse_range(text: &str) -> Result<Range<u64>, String> {
    let bad = || format!("frames {text:?} must be START..END (half-open) or one index");
    let range = match text.split_once("..") {
        Some((a, b)) => a.parse().map_err(|_| bad())?..b.parse().map_err(|_| bad())?,
        None => {
            let i: u64 = text.parse().map_err(|_| bad())?;
            i..i.saturating_add(1)
        }
    };
    if range.start >= range.end {
        return Err(format!("frames {text:?} is an empty range"));
    }
    Ok(range)
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "test arithmetic on known fixtures"
)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_example() {
        assert_eq!(
            FaultSpec::parse("infer:delay=120ms,frames=20..40").unwrap(),
            FaultSpec::InferDelay {
                delay: Duration::from_millis(120),
                frames: 20..40
            }
        );
        assert_eq!(
            FaultSpec::parse("infer:error,frames=50..52").unwrap(),
            FaultSpec::InferError { frames: 50..52 }
        );
        assert_eq!(
            FaultSpec::parse("sensor:silence=2s,at=5s").unwrap(),
            FaultSpec::SensorSilence {
                at: Duration::from_secs(5),
                duration: Duration::from_secs(2),
                camera: None,
            }
        );
        let left = FaultSpec::parse("sensor:silence=2s,at=5s,camera=left").unwrap();
        assert_eq!(left.camera(), Some("left"));
        assert_eq!(left.to_string(), "sensor:silence=2s,at=5s,camera=left");
        assert!(FaultSpec::parse("sensor:silence=2s,at=5s,camera=")
            .unwrap_err()
            .to_string()
            .contains("`camera=` needs a camera name"));
        assert_eq!(
            FaultSpec::parse("sensor:burst=5,at=1.5s").unwrap(),
            FaultSpec::SensorBurst {
                at: Duration::from_millis(1500),
                frames: 5
            }
        );
        assert_eq!(
            FaultSpec::parse("stamp:jump=-3s,frame=10").unwrap(),
            FaultSpec::StampJump {
                frame: 10,
                offset_ns: -3_000_000_000
            }
        );
        assert_eq!(
            FaultSpec::parse("infer:error,frames=7").unwrap(),
            FaultSpec::InferError { frames: 7..8 }
        );
    }

    #[test]
    fn display_round_trips_exactly() {
        for (spec, shown) in [
            (
                "infer:delay=120ms,frames=20..40",
                "infer:delay=120ms,frames=20..40",
            ),
            ("infer:error,frames=50..52", "infer:error,frames=50..52"),
            ("sensor:silence=2000ms,at=5s", "sensor:silence=2s,at=5s"),
            ("sensor:burst=5,at=3000ms", "sensor:burst=5,at=3s"),
            ("stamp:jump=-3000ms,frame=10", "stamp:jump=-3s,frame=10"),
            ("stamp:jump=-118ns,frame=0", "stamp:jump=-118ns,frame=0"),
            (
                "infer:delay=1.5ms,frames=1..2",
                "infer:delay=1500us,frames=1..2",
            ),
            (
                "infer:delay=1.594967295ms,frames=1..2",
                "infer:delay=1594967ns,frames=1..2",
            ),
            ("sensor:silence=0s,at=0ns", "sensor:silence=0ns,at=0ns"),
            (
                "stamp:jump=999999999999999999ns,frame=1",
                "stamp:jump=999999999999999999ns,frame=1",
            ),
        ] {
            let f = FaultSpec::parse(spec).unwrap();
            assert_eq!(f.to_string(), shown, "{spec}");
            assert_eq!(FaultSpec::parse(&f.to_string()).unwrap(), f, "{spec}");
        }
    }

    #[test]
    fn durations_are_read_exactly_and_bounded() {
        assert_eq!(parse_signed_nanos("1.5ms"), Ok(1_500_000));
        assert_eq!(parse_signed_nanos("-0.0000000015s"), Ok(-2));
        assert_eq!(parse_signed_nanos(".5s"), Ok(500_000_000));
        assert_eq!(parse_signed_nanos("7.ms"), Ok(7_000_000));
        assert_eq!(parse_signed_nanos("+2us"), Ok(2_000));
        for bad in ["1e3ms", "ms", ".ms", "1.2.3s", "--1s", "1 s", "0x10ns"] {
            assert!(parse_signed_nanos(bad).is_err(), "{bad}");
        }
        assert!(parse_signed_nanos("40000000000s")
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_signed_nanos("99999999999999999999999999999999999999999ns").is_err());
    }

    #[test]
    fn errors_name_the_spec_and_the_problem() {
        let cases = [
            ("infer", "expected TARGET:ACTION"),
            ("infer:delay,frames=1..2", "needs a value"),
            ("infer:delay=5,frames=1..2", "needs a unit"),
            ("infer:delay=5h,frames=1..2", "unknown unit"),
            ("infer:delay=5ms", "missing `frames=`"),
            ("infer:error,frames=5..5", "empty range"),
            ("infer:error,frames=a..b", "START..END"),
            ("sensor:silence=-2s,at=1s", "must not be negative"),
            ("gpu:melt", "unknown fault"),
            ("infer:error,frames=1..2,color=red", "unknown key `color`"),
            ("infer:error,frames", "expected KEY=VALUE"),
        ];
        for (spec, problem) in cases {
            let err = FaultSpec::parse(spec).unwrap_err();
            assert_eq!(err.spec, spec);
            assert!(err.problem.contains(problem), "{spec}: {}", err.problem);
            assert!(err.to_string().contains(spec));
        }
    }
}
