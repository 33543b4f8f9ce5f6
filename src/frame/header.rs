//! The parts of `std_msgs/Header` that travel with a frame: the capture stamp and the frame id.
//!
//! [`FrameId`] has a fixed capacity so carrying it through the pipeline never allocates.

use std::time::Duration;

/// `builtin_interfaces/Time`: seconds and nanoseconds on the ROS clock.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub sec: i32,
    pub nanosec: u32,
}

impl Stamp {
    pub const fn new(sec: i32, nanosec: u32) -> Self {
        Self { sec, nanosec }
    }

    /// Nanoseconds since the epoch of the clock (may be negative).
    pub const fn as_nanos(self) -> i64 {
        self.sec as i64 * 1_000_000_000 + self.nanosec as i64
    }

    /// The stamp for a nanosecond count; saturates outside the `i32` seconds range.
    pub fn from_nanos(nanos: i64) -> Self {
        let sec = nanos.div_euclid(1_000_000_000);
        let nanosec = nanos.rem_euclid(1_000_000_000) as u32;
        match i32::try_from(sec) {
            Ok(sec) => Self { sec, nanosec },
            Err(_) if sec < 0 => Self {
                sec: i32::MIN,
                nanosec: 0,
            },
            Err(_) => Self {
                sec: i32::MAX,
                nanosec: 999_999_999,
            },
        }
    }

    /// This stamp moved by a signed nanosecond offset.
    pub fn offset_nanos(self, delta: i64) -> Self {
        Self::from_nanos(self.as_nanos().saturating_add(delta))
    }

    /// `self − earlier` as a signed nanosecond count.
    pub const fn nanos_since(self, earlier: Stamp) -> i64 {
        self.as_nanos() - earlier.as_nanos()
    }

    /// The stamp as a duration since the epoch (zero for negative stamps).
    pub fn as_duration(self) -> Duration {
        Duration::from_nanos(self.as_nanos().max(0) as u64)
    }
}

/// Maximum length of a frame id carried through the pipeline (longer ids are rejected as
/// malformed input rather than allocated for).
pub const FRAME_ID_CAPACITY: usize = 128;

/// A `header.frame_id`, stored inline.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct FrameId {
    len: u8,
    bytes: [u8; FRAME_ID_CAPACITY],
}

impl Default for FrameId {
    fn default() -> Self {
        Self {
            len: 0,
            bytes: [0; FRAME_ID_CAPACITY],
        }
    }
}

impl FrameId {
    /// Copy `id`; `None` if it is longer than [`FRAME_ID_CAPACITY`].
    pub fn new(id: &str) -> Option<Self> {
        let mut out = Self::default();
        out.set(id).then_some(out)
    }

    /// Replace the contents; returns false (and leaves it unchanged) if `id` is too long.
    pub fn set(&mut self, id: &str) -> bool {
        let n = id.len();
        if n > FRAME_ID_CAPACITY {
            return false;
        }
        self.bytes[..n].copy_from_slice(id.as_bytes());
        self.len = n as u8;
        true
    }

    pub fn as_str(&self) -> &str {
        // Only ever filled from a `&str` at a char boundary, so this cannot fail.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl std::fmt::Debug for FrameId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_convert_and_offset_across_second_boundaries() {
        let s = Stamp::new(10, 900_000_000);
        assert_eq!(s.offset_nanos(200_000_000), Stamp::new(11, 100_000_000));
        assert_eq!(s.offset_nanos(-1_000_000_000), Stamp::new(9, 900_000_000));
        assert_eq!(Stamp::from_nanos(-1), Stamp::new(-1, 999_999_999));
        assert_eq!(Stamp::new(11, 0).nanos_since(s), 100_000_000);
        assert_eq!(Stamp::from_nanos(i64::MAX).sec, i32::MAX);
    }

    #[test]
    fn frame_id_is_bounded() {
        assert_eq!(
            FrameId::new("camera_front").unwrap().as_str(),
            "camera_front"
        );
        assert!(FrameId::new(&"x".repeat(FRAME_ID_CAPACITY + 1)).is_none());
        let mut id = FrameId::new("a").unwrap();
        assert!(!id.set(&"y".repeat(200)));
        assert_eq!(id.as_str(), "a");
    }
}
