//! When each recorded frame is delivered during a replay, and with which stamp.
//!
//! Frames are paced by their recording time (`log_time`): at the recorded rate, at a rate
//! factor, or as fast as possible. Their header stamps are moved onto the live clock —
//! `live = start + (stamp − first stamp) / rate` — so a frame delivered on schedule is young,
//! and one delivered late has aged exactly as it would have on the vehicle. Sensor faults
//! (silence, bursts) and stamp jumps are applied here.

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

impl Pacing {
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
    silences: Vec<(Duration, Duration)>,
    bursts: Vec<(Duration, u32)>,
    jumps: Vec<(u64, i64)>,
    /// Frames of an active burst still to be held back.
    burst_hold: Option<BurstHold>,
}

#[derive(Clone, Debug)]
struct BurstHold {
    remaining: u32,
}

impl Schedule {
    pub fn new(pacing: Pacing, faults: &[FaultSpec]) -> Self {
        let mut s = Self {
            pacing,
            first_log_ns: None,
            first_stamp_ns: None,
            silences: Vec::new(),
            bursts: Vec::new(),
            jumps: Vec::new(),
            burst_hold: None,
        };
        for f in faults {
            match *f {
                FaultSpec::SensorSilence { at, duration } => s.silences.push((at, at + duration)),
                FaultSpec::SensorBurst { at, frames } => s.bursts.push((at, frames)),
                FaultSpec::StampJump { frame, offset_ns } => s.jumps.push((frame, offset_ns)),
                FaultSpec::InferDelay { .. } | FaultSpec::InferError { .. } => {}
            }
        }
        s
    }

    /// Recording time of `log_ns` relative to the first frame.
    fn recorded_offset(&mut self, log_ns: i64) -> Duration {
        let first = *self.first_log_ns.get_or_insert(log_ns);
        Duration::from_nanos(log_ns.saturating_sub(first).max(0) as u64)
    }

    /// Scale a recorded offset by the pacing.
    fn paced(&self, recorded: Duration) -> Duration {
        match self.pacing {
            Pacing::MaxSpeed => Duration::ZERO,
            p => recorded.div_f64(p.factor()),
        }
    }

    /// The delivery of frame `index` recorded at `log_ns` with header stamp `stamp_ns`.
    /// Bursts are applied separately by the driver through [`Schedule::burst_hold`].
    pub fn delivery(&mut self, index: u64, log_ns: i64, stamp_ns: i64) -> Delivery {
        let recorded = self.recorded_offset(log_ns);
        if self
            .silences
            .iter()
            .any(|(from, to)| recorded >= *from && recorded < *to)
        {
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
        let recorded = self.recorded_offset(log_ns);
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
            self.burst_hold = Some(BurstHold { remaining: n - 1 });
            Some(n - 1)
        } else {
            None
        }
    }

    pub fn pacing(&self) -> Pacing {
        self.pacing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn recorded_rate_keeps_offsets_and_moves_stamps_relative_to_the_first() {
        let mut s = Schedule::new(Pacing::Recorded, &[]);
        assert_eq!(
            s.delivery(0, 5_000 * MS, 4_990 * MS),
            Delivery::Deliver {
                at: Duration::ZERO,
                stamp_offset_ns: Some(0)
            }
        );
        assert_eq!(
            s.delivery(1, 5_100 * MS, 5_090 * MS),
            Delivery::Deliver {
                at: Duration::from_millis(100),
                stamp_offset_ns: Some(100 * MS)
            }
        );
    }

    #[test]
    fn rate_factor_compresses_time_and_max_speed_has_no_waits() {
        let mut s = Schedule::new(Pacing::Rate(2.0), &[]);
        s.delivery(0, 0, 0);
        assert_eq!(
            s.delivery(1, 100 * MS, 100 * MS),
            Delivery::Deliver {
                at: Duration::from_millis(50),
                stamp_offset_ns: Some(50 * MS)
            }
        );
        let mut m = Schedule::new(Pacing::MaxSpeed, &[]);
        m.delivery(0, 0, 0);
        assert_eq!(
            m.delivery(1, 100 * MS, 100 * MS),
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
                at: Duration::from_millis(200),
                duration: Duration::from_millis(200),
            },
            FaultSpec::StampJump {
                frame: 5,
                offset_ns: -3_000 * MS,
            },
        ];
        let mut s = Schedule::new(Pacing::Recorded, &faults);
        let outcomes: Vec<Delivery> = (0..6)
            .map(|i| s.delivery(i, i as i64 * 100 * MS, i as i64 * 100 * MS))
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
    fn burst_holds_the_next_frames() {
        let mut s = Schedule::new(
            Pacing::Recorded,
            &[FaultSpec::SensorBurst {
                at: Duration::from_millis(100),
                frames: 3,
            }],
        );
        assert_eq!(s.burst_hold(0), None);
        assert_eq!(s.burst_hold(100 * MS), Some(2));
        assert_eq!(s.burst_hold(200 * MS), Some(1));
        assert_eq!(s.burst_hold(300 * MS), Some(0));
        assert_eq!(s.burst_hold(400 * MS), None);
    }
}
