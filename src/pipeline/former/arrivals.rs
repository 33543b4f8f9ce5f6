//! When each camera's next frame is expected to become ready for the engine: the last ready time
//! plus a running average of the interval between ready frames. The batch former uses it to
//! decide whether holding a batch open for a frame about to arrive can pay off.

use crate::deadline::MonoTime;
use crate::pipeline::camera::CameraId;

/// Intervals longer than this are gaps (a silent camera), not its period.
const MAX_PERIOD_NS: u64 = 2_000_000_000;
/// Weight of a new interval in the running average (1/8).
const SMOOTHING_SHIFT: u32 = 3;

#[derive(Copy, Clone, Debug, Default)]
struct CameraReady {
    last: Option<MonoTime>,
    /// Average interval, nanoseconds; 0 until two frames were seen.
    period_ns: u64,
    /// How long after becoming ready the last frame was due (its deadline − ready time).
    due_after_ns: u64,
}

/// Per-camera readiness tracking (preallocated for the configured cameras).
#[derive(Clone, Debug)]
pub struct ReadyTracker {
    cameras: Vec<CameraReady>,
}

impl ReadyTracker {
    pub fn new(cameras: usize) -> Self {
        Self {
            cameras: vec![CameraReady::default(); cameras],
        }
    }

    /// `camera` had a frame ready at `now`, due at `deadline`.
    pub fn on_ready(&mut self, camera: CameraId, now: MonoTime, deadline: MonoTime) {
        let Some(c) = self.cameras.get_mut(camera.index()) else {
            return;
        };
        c.due_after_ns = deadline.nanos_since(now);
        if let Some(last) = c.last {
            let interval = now.nanos_since(last);
            if interval > 0 && interval <= MAX_PERIOD_NS {
                c.period_ns = if c.period_ns == 0 {
                    interval
                } else {
                    c.period_ns - (c.period_ns >> SMOOTHING_SHIFT) + (interval >> SMOOTHING_SHIFT)
                };
            }
        }
        c.last = Some(now);
    }

    /// The camera's average ready interval, nanoseconds (0 when unknown).
    pub fn period_ns(&self, camera: CameraId) -> u64 {
        self.cameras.get(camera.index()).map_or(0, |c| c.period_ns)
    }

    /// When `camera`'s next frame is expected, if its period is known.
    pub fn next_ready(&self, camera: CameraId) -> Option<MonoTime> {
        let c = self.cameras.get(camera.index())?;
        let last = c.last?;
        (c.period_ns > 0).then(|| last.add_nanos(c.period_ns))
    }

    /// When `camera`'s next frame is expected and when it will be due, if its period is known.
    pub fn next_frame(&self, camera: CameraId) -> Option<(MonoTime, MonoTime)> {
        let c = self.cameras.get(camera.index())?;
        let at = self.next_ready(camera)?;
        Some((at, at.add_nanos(c.due_after_ns)))
    }

    /// The earliest expected next frame after `now` among cameras for which `waiting` is false,
    /// with the camera it comes from.
    pub fn earliest_after(
        &self,
        now: MonoTime,
        waiting: impl Fn(CameraId) -> bool,
    ) -> Option<(CameraId, MonoTime)> {
        (0..self.cameras.len())
            .map(CameraId::at)
            .filter(|c| !waiting(*c))
            .filter_map(|c| self.next_ready(c).map(|t| (c, t)))
            .filter(|(_, t)| *t > now)
            .min_by_key(|(_, t)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn period_is_learned_and_gaps_are_ignored() {
        let mut r = ReadyTracker::new(2);
        let cam = CameraId(0);
        assert_eq!(r.next_ready(cam), None);
        let at = |ms: u64| MonoTime::from_nanos(ms * MS);
        r.on_ready(cam, at(0), at(50));
        r.on_ready(cam, at(33), at(83));
        assert_eq!(r.period_ns(cam), 33 * MS);
        assert_eq!(r.next_ready(cam), Some(at(66)));
        assert_eq!(r.next_frame(cam), Some((at(66), at(116))));
        // A 5 s silence is not a period.
        r.on_ready(cam, at(5_033), at(5_083));
        assert_eq!(r.period_ns(cam), 33 * MS);
    }

    #[test]
    fn earliest_skips_waiting_cameras_and_the_past() {
        let mut r = ReadyTracker::new(3);
        for (c, offset) in [(0u16, 0u64), (1, 10), (2, 20)] {
            let at = |ms: u64| MonoTime::from_nanos(ms * MS);
            r.on_ready(CameraId(c), at(offset), at(offset + 50));
            r.on_ready(CameraId(c), at(offset + 30), at(offset + 80));
        }
        let now = MonoTime::from_nanos(45 * MS);
        // camera 0 next at 60, camera 1 at 70, camera 2 at 80.
        assert_eq!(
            r.earliest_after(now, |_| false),
            Some((CameraId(0), MonoTime::from_nanos(60 * MS)))
        );
        assert_eq!(
            r.earliest_after(now, |c| c == CameraId(0)),
            Some((CameraId(1), MonoTime::from_nanos(70 * MS)))
        );
        assert_eq!(
            r.earliest_after(MonoTime::from_nanos(90 * MS), |_| false),
            None
        );
    }
}
