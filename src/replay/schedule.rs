//! When each recorded frame is delivered during a replay, and with which stamp.
//!
//! Frames are paced by their recording time (`log_time`): at the recorded rate, at a rate
//! factor, or as fast as possible. Their header stamps are moved onto the live clock —
//! `live = start + (stamp − first stamp) / rate` — so a frame delivered on schedule is young,
//! and one delivered late has aged exactly as it would have on the vehicle. Sensor faults
//! (silence, bursts) and stamp jumps are applied here.
//!
//! Recording times come from the file and are untrusted: a jump between consecutive log times
//! longer than the configured bound (`input.max_log_gap_ms`, forward or back) is skipped —
//! the frames on either side are delivered one after the other — and reported, never slept.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![deny(clippy::arithmetic_side_effects)]

use std::time::Duration;

use super::fault::FaultSpec;

/// How fast the recording is played.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Pacing {
    /// At the recorded rate.
    Recorded,
    /// At `factor ×` the recorded rate.
    Rate(f64),
    /// As fast as the pipeline takes frames; each stamp is the delivery time.
    MaxSpeed,
}

/// Slowest and fastest `--rate` accepted.
pub const MIN_RATE: f64 = 1e-3;
pub const MAX_RATE: f64 = 1e3;

/// Most log-time gaps listed individually in the report (the rest are counted).
const GAPS_LISTED: usize = 8;

/// A log-time jump beyond the bound, skipped at replay.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LogGap {
    /// Index of the frame after the jump.
    pub frame: u64,
    /// The jump, nanoseconds (negative: backwards).
    pub jump_ns: i64,
}

impl Pacing {
    /// `--rate R` validated: finite and within [`MIN_RATE`]..=[`MAX_RATE`].
    pub fn rate(r: f64) -> Result<Self, String> {
        if r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r) {
            Ok(Pacing::Rate(r))
        } else {
            Err(format!(
                "--rate {r}: must be a number from {MIN_RATE} to {MAX_RATE} (a factor of the recorded rate; --max-speed plays as fast as possible)"
            ))
        }
    }

    fn factor(self) -> f64 {
        match self {
            Pacing::Recorded => 1.0,
            Pacing::Rate(r) => r,
            Pacing::MaxSpeed => f64::INFINITY,
        }
    }

    /// A short description for reports (`recorded`, `rate 2`, `max-speed`).
    pub fn describe(self) -> String {
        match self {
            Pacing::Recorded => "recorded rate".into(),
            Pacing::Rate(r) => format!("rate ×{r}"),
            Pacing::MaxSpeed => "max speed".into(),
        }
    }
}

/// What to do with one recorded frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Deliver at `at` after the replay start with a stamp `stamp_offset` after the start
    /// (negative: before it); `None` for max speed, where the stamp is the delivery time.
    Deliver {
        at: Duration,
        stamp_offset_ns: Option<i64>,
    },
    /// The sensor is silent: the frame is never delivered.
    Suppressed,
}

/// Computes [`Delivery`] for each frame in recording order.
#[derive(Clone, Debug)]
pub struct Schedule {
    pacing: Pacing,
    first_log_ns: Option<i64>,
    first_stamp_ns: Option<i64>,
    /// `[from, to)` of recording time, and the camera index it is limited to.
    silences: Vec<(Duration, Duration, Option<usize>)>,
    bursts: Vec<(Duration, u32)>,
    jumps: Vec<(u64, i64)>,
    /// Frames of an active burst still to be held back.
    burst_hold: Option<BurstHold>,
    /// Longest log-time step delivered as recorded, nanoseconds.
    max_gap_ns: i64,
    /// The previous log time seen, and the total of the gaps skipped so far.
    last_log_ns: Option<i64>,
    skipped_ns: i64,
    gaps: Vec<LogGap>,
    gap_count: u64,
}

#[derive(Clone, Debug)]
struct BurstHold {
    remaining: u32,
}

impl Schedule {
    /// The schedule of `faults`; a fault limited to a camera applies to the camera of that
    /// name in `cameras` (camera `i` = `cameras[i]`; the caller checks that each exists).
    pub fn new(pacing: Pacing, faults: &[FaultSpec], cameras: &[&str]) -> Self {
        let mut s = Self {
            pacing,
            first_log_ns: None,
            first_stamp_ns: None,
            silences: Vec::new(),
            bursts: Vec::new(),
            jumps: Vec::new(),
            burst_hold: None,
            max_gap_ns: i64::MAX,
            last_log_ns: None,
            skipped_ns: 0,
            gaps: Vec::new(),
            gap_count: 0,
        };
        for f in faults {
            match f {
                FaultSpec::SensorSilence {
                    at,
                    duration,
                    camera,
                } => {
                    let only = camera.as_deref().map(|name| {
                        cameras
                            .iter()
                            .position(|c| *c == name)
                            .unwrap_or(usize::MAX)
                    });
                    s.silences.push((*at, at.saturating_add(*duration), only))
                }
                FaultSpec::SensorBurst { at, frames } => s.bursts.push((*at, *frames)),
                FaultSpec::StampJump { frame, offset_ns } => s.jumps.push((*frame, *offset_ns)),
                FaultSpec::InferDelay { .. } | FaultSpec::InferError { .. } => {}
            }
        }
        s
    }

    /// Skip log-time jumps longer than `max_gap_ms` (forward or back) instead of sleeping them.
    pub fn with_max_log_gap_ms(mut self, max_gap_ms: f64) -> Self {
        let ns = max_gap_ms * 1e6;
        self.max_gap_ns = if ns.is_finite() && ns >= 0.0 && ns < i64::MAX as f64 {
            ns as i64
        } else {
            i64::MAX
        };
        self
    }

    /// The log-time jumps skipped so far (the first few) and how many there were.
    pub fn skipped_gaps(&self) -> (&[LogGap], u64) {
        (&self.gaps, self.gap_count)
    }

    /// Recording time of `log_ns` relative to the first frame, with the gaps beyond the bound
    /// taken out. Calling it again with the same log time changes nothing.
    fn recorded_offset(&mut self, index: u64, log_ns: i64) -> Duration {
        let first = *self.first_log_ns.get_or_insert(log_ns);
        if let Some(last) = self.last_log_ns {
            let step = log_ns.saturating_sub(last);
            if step.saturating_abs() > self.max_gap_ns {
                self.skipped_ns = self.skipped_ns.saturating_add(step);
                self.gap_count = self.gap_count.saturating_add(1);
                if self.gaps.len() < GAPS_LISTED {
                    self.gaps.push(LogGap {
                        frame: index,
                        jump_ns: step,
                    });
                }
            }
        }
        self.last_log_ns = Some(log_ns);
        let since_first = log_ns
            .saturating_sub(self.skipped_ns)
            .saturating_sub(first)
            .max(0);
        Duration::from_nanos(u64::try_from(since_first).unwrap_or(0))
    }

    /// Scale a recorded offset by the pacing.
    fn paced(&self, recorded: Duration) -> Duration {
        match self.pacing {
            Pacing::MaxSpeed => Duration::ZERO,
            p => Duration::try_from_secs_f64(recorded.as_secs_f64() / p.factor())
                .unwrap_or(Duration::MAX),
        }
    }

    /// The delivery of frame `index` of camera `camera` recorded at `log_ns` with header stamp
    /// `stamp_ns`. Bursts are applied separately by the driver through
    /// [`Schedule::burst_hold`].
    pub fn delivery(&mut self, index: u64, camera: usize, log_ns: i64, stamp_ns: i64) -> Delivery {
        let recorded = self.recorded_offset(index, log_ns);
        if self.silences.iter().any(|(from, to, only)| {
            recorded >= *from && recorded < *to && only.is_none_or(|c| c == camera)
        }) {
            return Delivery::Suppressed;
        }
        let jump: i64 = self
            .jumps
            .iter()
            .filter(|(f, _)| *f == index)
            .map(|(_, o)| *o)
            .sum();
        let at = self.paced(recorded);
        let stamp_offset_ns = match self.pacing {
            Pacing::MaxSpeed => None,
            p => {
                let first = *self.first_stamp_ns.get_or_insert(stamp_ns);
                let rel = (stamp_ns.saturating_sub(first)) as f64 / p.factor();
                Some(rel as i64)
            }
        }
        .map(|o| o.saturating_add(jump))
        .or(if jump != 0 { Some(jump) } else { None });
        Delivery::Deliver {
            at,
            stamp_offset_ns,
        }
    }

    /// Whether the frame recorded at `log_ns` starts or continues a burst: `Some(k)` means hold
    /// it back, with `k` more frames to hold; `Some(0)` means this is the burst's last frame and
    /// every held frame is released with it; `None` means no burst.
    pub fn burst_hold(&mut self, log_ns: i64) -> Option<u32> {
        let recorded = self.recorded_offset(0, log_ns);
        if let Some(hold) = &mut self.burst_hold {
            hold.remaining = hold.remaining.saturating_sub(1);
            let left = hold.remaining;
            if left == 0 {
                self.burst_hold = None;
            }
            return Some(left);
        }
        let i = self.bursts.iter().position(|(at, _)| recorded >= *at)?;
        let (_, n) = self.bursts.remove(i);
        if n > 1 {
            let remaining = n.saturating_sub(1);
            self.burst_hold = Some(BurstHold { remaining });
            Some(remaining)
        } else {
            None
        }
    }

    pub fn pacing(&self) -> Pacing {
        self.pacing
    }
}

/// Report lines for the log-time gaps a replay skipped (none when there were none).
pub fn describe_gaps(schedule: &Schedule, max_gap_ms: f64) -> Vec<String> {
    let (gaps, count) = schedule.skipped_gaps();
    let mut lines: Vec<String> = gaps
        .iter()
        .map(|g| {
            format!(
                "recorded log time jumps {} by {:.3} s before frame {} (more than input.max_log_gap_ms = {max_gap_ms} ms): skipped, not slept",
                if g.jump_ns < 0 { "back" } else { "forward" },
                g.jump_ns.unsigned_abs() as f64 / 1e9,
                g.frame
            )
        })
        .collect();
    if count > gaps.len() as u64 {
        lines.push(format!("… {} log-time jumps skipped in all", count));
    }
    lines
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "test arithmetic on known fixtures"
)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn recorded_rate_keeps_offsets_and_moves_stamps_relative_to_the_first() {
        let mut s = Schedule::new(Pacing::Recorded, &[], &[]);
        assert_eq!(
            s.delivery(0, 0, 5_000 * MS, 4_990 * MS),
            Delivery::Deliver {
                at: Duration::ZERO,
                stamp_offset_ns: Some(0)
            }
        );
        assert_eq!(
            s.delivery(1, 0, 5_100 * MS, 5_090 * MS),
            Delivery::Deliver {
                at: Duration::from_millis(100),
                stamp_offset_ns: Some(100 * MS)
            }
        );
    }

    #[test]
    fn rate_factor_compresses_time_and_max_speed_has_no_waits() {
        let mut s = Schedule::new(Pacing::Rate(2.0), &[], &[]);
        s.delivery(0, 0, 0, 0);
        assert_eq!(
            s.delivery(1, 0, 100 * MS, 100 * MS),
            Delivery::Deliver {
                at: Duration::from_millis(50),
                stamp_offset_ns: Some(50 * MS)
            }
        );
        let mut m = Schedule::new(Pacing::MaxSpeed, &[], &[]);
        m.delivery(0, 0, 0, 0);
        assert_eq!(
            m.delivery(1, 0, 100 * MS, 100 * MS),
            Delivery::Deliver {
                at: Duration::ZERO,
                stamp_offset_ns: None
            }
        );
    }

    #[test]
    fn silence_suppresses_the_window_and_jumps_move_one_stamp() {
        let faults = [
            FaultSpec::SensorSilence {
                camera: None,
                at: Duration::from_millis(200),
                duration: Duration::from_millis(200),
            },
            FaultSpec::StampJump {
                frame: 5,
                offset_ns: -3_000 * MS,
            },
        ];
        let mut s = Schedule::new(Pacing::Recorded, &faults, &[]);
        let outcomes: Vec<Delivery> = (0..6)
            .map(|i| s.delivery(i, 0, i as i64 * 100 * MS, i as i64 * 100 * MS))
            .collect();
        assert!(matches!(outcomes[1], Delivery::Deliver { .. }));
        assert_eq!(outcomes[2], Delivery::Suppressed);
        assert_eq!(outcomes[3], Delivery::Suppressed);
        assert!(matches!(outcomes[4], Delivery::Deliver { .. }));
        assert_eq!(
            outcomes[5],
            Delivery::Deliver {
                at: Duration::from_millis(500),
                stamp_offset_ns: Some(-2_500 * MS)
            }
        );
    }

    #[test]
    fn log_time_jumps_beyond_the_bound_are_skipped_and_reported() {
        let mut s = Schedule::new(Pacing::Recorded, &[], &[]).with_max_log_gap_ms(10_000.0);
        let log = [
            0,
            100 * MS,
            1_000_000_000_000_000_000,
            1_000_000_000_100 * MS,
            200 * MS,
            300 * MS,
        ];
        let at: Vec<Duration> = log
            .iter()
            .enumerate()
            .map(|(i, &l)| match s.delivery(i as u64, 0, l, l) {
                Delivery::Deliver { at, .. } => at,
                Delivery::Suppressed => panic!("frame {i} suppressed"),
            })
            .collect();
        let ms = Duration::from_millis;
        // +31.7 years after frame 1 and back again after frame 3: both skipped, never slept.
        assert_eq!(at, [ms(0), ms(100), ms(100), ms(200), ms(200), ms(300)]);
        let (gaps, count) = s.skipped_gaps();
        assert_eq!(count, 2);
        assert_eq!(gaps[0].frame, 2);
        assert_eq!(gaps[0].jump_ns, 1_000_000_000_000_000_000 - 100 * MS);
        assert!(gaps[1].jump_ns < 0);
        // Within the bound nothing changes; the same log time twice (burst_hold) is no jump.
        let mut t = Schedule::new(Pacing::Recorded, &[], &[]).with_max_log_gap_ms(10_000.0);
        t.delivery(0, 0, 0, 0);
        assert_eq!(t.burst_hold(0), None);
        assert!(
            matches!(t.delivery(1, 0, 9_000 * MS, 0), Delivery::Deliver { at, .. } if at == ms(9_000))
        );
        assert_eq!(t.skipped_gaps().1, 0);
    }

    #[test]
    fn rates_outside_the_range_are_refused_with_a_sentence() {
        assert_eq!(Pacing::rate(2.0), Ok(Pacing::Rate(2.0)));
        for r in [1e-300, -1.0, 0.0, f64::NAN, f64::INFINITY, 1e4] {
            let err = Pacing::rate(r).unwrap_err();
            assert!(
                err.contains("--rate") && err.contains("must be a number from"),
                "{err}"
            );
        }
        // Even an unchecked factor never panics.
        let mut s = Schedule::new(Pacing::Rate(1e-300), &[], &[]);
        s.delivery(0, 0, 0, 0);
        assert!(
            matches!(s.delivery(1, 0, 1_000, 1_000), Delivery::Deliver { at, .. } if at == Duration::MAX)
        );
    }

    #[test]
    fn a_silence_limited_to_a_camera_suppresses_only_its_frames() {
        let faults = [FaultSpec::parse("sensor:silence=200ms,at=100ms,camera=left").unwrap()];
        let mut s = Schedule::new(Pacing::Recorded, &faults, &["front", "left"]);
        // Frames every 50 ms alternating front, left.
        let suppressed: Vec<(u64, usize)> = (0..12u64)
            .filter_map(|i| {
                let camera = (i % 2) as usize;
                let t = i as i64 * 50 * MS;
                matches!(s.delivery(i, camera, t, t), Delivery::Suppressed).then_some((i, camera))
            })
            .collect();
        // [100 ms, 300 ms): frames 2..6, of which 3 and 5 are left's.
        assert_eq!(suppressed, vec![(3, 1), (5, 1)]);
    }

    #[test]
    fn burst_holds_the_next_frames() {
        let mut s = Schedule::new(
            Pacing::Recorded,
            &[FaultSpec::SensorBurst {
                at: Duration::from_millis(100),
                frames: 3,
            }],
            &[],
        );
        assert_eq!(s.burst_hold(0), None);
        assert_eq!(s.burst_hold(100 * MS), Some(2));
        assert_eq!(s.burst_hold(200 * MS), Some(1));
        assert_eq!(s.burst_hold(300 * MS), Some(0));
        assert_eq!(s.burst_hold(400 * MS), None);
    }
}
