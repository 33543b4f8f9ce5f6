//! How much a bag reader may believe: every size read from a recording (a record's length, a
//! chunk's `uncompressed_size`, a BLOB's length, a name's length) is a hint checked against these
//! limits before anything is allocated or inflated. They derive from the configured image limits:
//! no message may be larger than the largest image the pipeline accepts plus its headers.
#![deny(clippy::arithmetic_side_effects)]

use crate::frame::ImageLimits;

/// Bytes allowed for a message's headers (stamp, frame_id, encoding, format) beyond its pixels.
pub const MESSAGE_HEADER_BYTES: u64 = 1 << 20;
/// Bytes a chunk may hold beyond one largest message (chunks group many small messages).
pub const CHUNK_SLACK_BYTES: u64 = 64 << 20;
/// Longest topic, type or compression name accepted from a file.
pub const MAX_NAME_BYTES: usize = 4096;
/// Messages held back to repair out-of-order log times.
pub const REORDER_WINDOW: usize = 16;
/// Bytes held back to repair out-of-order log times (at least one message is always held).
pub const REORDER_BYTES: u64 = 64 << 20;

/// Upper bounds for what one recording may make the reader hold.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BagLimits {
    /// Largest serialised message (CDR bytes) accepted.
    pub max_message_bytes: u64,
    /// Largest decompressed chunk accepted (the chunk buffer never grows past it).
    pub max_chunk_bytes: u64,
}

impl BagLimits {
    /// Limits for images within `limits`: 4 bytes per pixel (the widest encoding redline reads)
    /// plus headers; a chunk may hold that plus [`CHUNK_SLACK_BYTES`].
    pub fn for_images(limits: ImageLimits) -> Self {
        let pixels = u64::from(limits.max_width).saturating_mul(u64::from(limits.max_height));
        let max_message_bytes = pixels
            .saturating_mul(4)
            .saturating_add(MESSAGE_HEADER_BYTES);
        Self {
            max_message_bytes,
            max_chunk_bytes: max_message_bytes.saturating_add(CHUNK_SLACK_BYTES),
        }
    }

    /// Worst-case bytes a reader holds at once: one decompressed chunk and the reorder window
    /// (which may overshoot its byte bound by one message).
    pub fn worst_case_bytes(&self) -> u64 {
        self.max_chunk_bytes
            .saturating_add(REORDER_BYTES)
            .saturating_add(self.max_message_bytes)
    }
}

impl Default for BagLimits {
    /// The limits for the default `input.max_width` × `input.max_height` (3840 × 2160).
    fn default() -> Self {
        Self::for_images(ImageLimits {
            max_width: 3840,
            max_height: 2160,
        })
    }
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "test arithmetic on known fixtures"
)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_image_limits_and_saturate() {
        let l = BagLimits::for_images(ImageLimits {
            max_width: 100,
            max_height: 10,
        });
        assert_eq!(l.max_message_bytes, 4000 + MESSAGE_HEADER_BYTES);
        assert_eq!(l.max_chunk_bytes, l.max_message_bytes + CHUNK_SLACK_BYTES);
        let huge = BagLimits::for_images(ImageLimits {
            max_width: u32::MAX,
            max_height: u32::MAX,
        });
        assert!(huge.max_chunk_bytes >= huge.max_message_bytes);
        assert_eq!(huge.worst_case_bytes(), u64::MAX);
    }
}
