//! Clocks: a monotonic time ([`MonoTime`]) for every deadline check and the ROS clock
//! ([`Stamp`]) for capture stamps. [`SystemClock`] is the real one; [`ManualClock`] is moved by
//! hand in tests and in replay tools, so no test needs to sleep.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::frame::Stamp;

/// A point on the monotonic clock, in nanoseconds since the clock's origin.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonoTime(u64);

impl MonoTime {
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self − earlier`, zero if `earlier` is later.
    pub const fn nanos_since(self, earlier: MonoTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This time moved forward by `nanos` (saturating).
    pub const fn add_nanos(self, nanos: u64) -> Self {
        Self(self.0.saturating_add(nanos))
    }
}

/// Where the pipeline reads time from. Implementations must be cheap and allocation-free.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic now.
    fn now(&self) -> MonoTime;
    /// Now on the ROS clock (the clock capture stamps are on).
    fn ros_now(&self) -> Stamp;
}

/// The real clocks: `std::time::Instant` and the system (UNIX) time as ROS time.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> MonoTime {
        MonoTime(u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn ros_now(&self) -> Stamp {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Stamp::from_nanos(i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A clock moved by hand. Both clocks advance together with [`ManualClock::advance`]; the ROS
/// clock can also be set on its own to simulate stamp jumps.
#[derive(Debug)]
pub struct ManualClock {
    mono: AtomicU64,
    ros: AtomicI64,
}

impl ManualClock {
    /// Monotonic time 0, ROS time `ros_start`.
    pub fn new(ros_start: Stamp) -> Self {
        Self {
            mono: AtomicU64::new(0),
            ros: AtomicI64::new(ros_start.as_nanos()),
        }
    }

    /// Move both clocks forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.mono.fetch_add(nanos, Ordering::SeqCst);
        self.ros
            .fetch_add(i64::try_from(nanos).unwrap_or(i64::MAX), Ordering::SeqCst);
    }

    /// Move both clocks forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        self.advance(Duration::from_millis(ms));
    }

    /// Move both clocks forward to monotonic time `to` (no-op if `to` is not later than now).
    pub fn advance_to(&self, to: MonoTime) {
        let now = self.mono.load(Ordering::SeqCst);
        if to.as_nanos() > now {
            self.advance(Duration::from_nanos(to.as_nanos() - now));
        }
    }

    /// Set the ROS clock alone (the monotonic clock never goes back).
    pub fn set_ros(&self, stamp: Stamp) {
        self.ros.store(stamp.as_nanos(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> MonoTime {
        MonoTime(self.mono.load(Ordering::SeqCst))
    }

    fn ros_now(&self) -> Stamp {
        Stamp::from_nanos(self.ros.load(Ordering::SeqCst))
    }
}

/// Milliseconds (from config) to whole nanoseconds; negative and NaN become 0.
pub fn ms_to_nanos(ms: f64) -> u64 {
    let nanos = (ms * 1e6).round();
    if nanos.is_nan() || nanos <= 0.0 {
        0
    } else if nanos >= u64::MAX as f64 {
        u64::MAX
    } else {
        nanos as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_both_clocks_together() {
        let clock = ManualClock::new(Stamp::new(100, 0));
        clock.advance_ms(250);
        assert_eq!(clock.now(), MonoTime::from_nanos(250_000_000));
        assert_eq!(clock.ros_now(), Stamp::new(100, 250_000_000));
        clock.set_ros(Stamp::new(5, 0));
        assert_eq!(clock.now().as_nanos(), 250_000_000);
    }

    #[test]
    fn system_clock_is_monotonic_and_near_unix_time() {
        let clock = SystemClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        assert!(clock.ros_now().sec > 1_600_000_000);
    }

    #[test]
    fn milliseconds_convert_with_saturation() {
        assert_eq!(ms_to_nanos(1.5), 1_500_000);
        assert_eq!(ms_to_nanos(-3.0), 0);
        assert_eq!(ms_to_nanos(f64::NAN), 0);
    }
}
