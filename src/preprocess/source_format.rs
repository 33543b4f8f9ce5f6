//! How the pixels of one source encoding are read: a kernel fetches a pixel either as the
//! little-endian 32-bit word [`SourceFormat::locate`] names (holding the whole pixel for rgb8/
//! bgr8/rgba8/bgra8/mono8, the whole U-Y-V-Y or Y-U-Y-V pair for 4:2:2) and takes the
//! network's three channels out of it, or byte by byte at [`SourceFormat::component_bytes`]. Packed 4:2:2 is converted to RGB per sampled pixel, BT.601 video
//! range in 20-bit fixed point as OpenCV's `COLOR_YUV2RGB_UYVY/YUY2` (so the interpolation
//! sees the same 8-bit RGB that `cvtColor` + `resize` would).

use crate::config::ChannelOrder;
use crate::frame::PixelEncoding;

/// The shape of a source pixel; the kernels are compiled once per kind.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum PixelKind {
    /// One byte, used for all three channels.
    Mono,
    /// Three bytes (rgb8, bgr8).
    Packed3,
    /// Four bytes (rgba8, bgra8).
    Packed4,
    /// U0 Y0 V0 Y1 per two pixels.
    Uyvy,
    /// Y0 U0 Y1 V0 per two pixels.
    Yuyv,
}

/// A source encoding, and which of its channels feeds each network channel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceFormat {
    pub kind: PixelKind,
    /// Per network channel: the byte inside the pixel's word (mono and packed kinds), or the
    /// index into the converted `[R, G, B]` (4:2:2).
    pub channel: [u32; 3],
}

// BT.601 video-range coefficients in 20-bit fixed point, as OpenCV's `ITUR_BT_601_*`.
pub(crate) const CY: i32 = 1_220_542;
pub(crate) const CVR: i32 = 1_673_527;
pub(crate) const CVG: i32 = -852_492;
pub(crate) const CUG: i32 = -409_993;
pub(crate) const CUB: i32 = 2_116_026;
pub(crate) const HALF: i32 = 1 << 19;

impl SourceFormat {
    pub fn new(encoding: PixelEncoding, order: ChannelOrder) -> Self {
        // Where R, G and B are in one source pixel.
        let (kind, rgb) = match encoding {
            PixelEncoding::Rgb8 => (PixelKind::Packed3, [0, 1, 2]),
            PixelEncoding::Bgr8 => (PixelKind::Packed3, [2, 1, 0]),
            PixelEncoding::Rgba8 => (PixelKind::Packed4, [0, 1, 2]),
            PixelEncoding::Bgra8 => (PixelKind::Packed4, [2, 1, 0]),
            PixelEncoding::Mono8 => (PixelKind::Mono, [0, 0, 0]),
            PixelEncoding::Uyvy => (PixelKind::Uyvy, [0, 1, 2]),
            PixelEncoding::Yuyv => (PixelKind::Yuyv, [0, 1, 2]),
        };
        let channel = match order {
            ChannelOrder::Rgb => rgb,
            ChannelOrder::Bgr => [rgb[2], rgb[1], rgb[0]],
        };
        Self { kind, channel }
    }

    /// Where pixel `x` is read from: the byte offset of its 32-bit word inside a row of
    /// `row_bytes`, and the bit position inside that word of its first byte (mono, packed) or
    /// of its luma (4:2:2). Words are moved left at the end of the row so that they never
    /// reach past it (the shift grows instead); only a row shorter than 4 bytes has words
    /// that do (read with [`read_word`]).
    pub fn locate(&self, x: u32, row_bytes: usize) -> (u32, u32) {
        let last_word = row_bytes.saturating_sub(4).min(u32::MAX as usize) as u32;
        match self.kind {
            PixelKind::Uyvy | PixelKind::Yuyv => {
                let luma = 2 * (x % 2) + u32::from(self.kind == PixelKind::Uyvy);
                (4 * (x / 2), 8 * luma)
            }
            _ => {
                let byte = x.saturating_mul(self.bytes_per_pixel());
                let word = byte.min(last_word);
                (word, 8 * (byte - word))
            }
        }
    }

    /// Byte positions inside the row of the three values the kernels fetch for pixel `x`: the
    /// network's three channels (mono, packed) or Y, U and V (4:2:2).
    pub fn component_bytes(&self, x: u32) -> [u32; 3] {
        match self.kind {
            PixelKind::Uyvy | PixelKind::Yuyv => {
                let (word, luma) = self.locate(x, usize::MAX);
                let (u, v) = self.chroma_shifts();
                [word + luma / 8, word + u / 8, word + v / 8]
            }
            _ => {
                let byte = x.saturating_mul(self.bytes_per_pixel());
                self.channel.map(|c| byte.saturating_add(c))
            }
        }
    }

    const fn bytes_per_pixel(&self) -> u32 {
        match self.kind {
            PixelKind::Mono => 1,
            PixelKind::Packed3 => 3,
            PixelKind::Packed4 => 4,
            PixelKind::Uyvy | PixelKind::Yuyv => 2,
        }
    }

    /// Bit positions of U and V inside a 4:2:2 word.
    pub const fn chroma_shifts(&self) -> (u32, u32) {
        match self.kind {
            PixelKind::Uyvy => (0, 16),
            _ => (8, 24),
        }
    }

    /// Bytes of pixel data in a row of `width` pixels (4:2:2 rounds up to whole pairs).
    pub const fn row_bytes(&self, width: u32) -> usize {
        let w = width as usize;
        match self.kind {
            PixelKind::Mono => w,
            PixelKind::Packed3 => 3 * w,
            PixelKind::Packed4 => 4 * w,
            PixelKind::Uyvy | PixelKind::Yuyv => w.div_ceil(2) * 4,
        }
    }

    /// The network's three channels (0–255) of the pixel [`Self::locate`] places in `word`
    /// at `shift`.
    #[inline(always)]
    pub fn channels(&self, word: u32, shift: u32) -> [f32; 3] {
        let byte = |at: u32| word.checked_shr(at).map_or(0, |w| (w & 0xff) as i32);
        match self.kind {
            PixelKind::Uyvy | PixelKind::Yuyv => {
                let (u_at, v_at) = self.chroma_shifts();
                let rgb = yuv_to_rgb(byte(shift), byte(u_at), byte(v_at));
                self.channel.map(|i| rgb[(i as usize).min(2)] as f32)
            }
            _ => self.channel.map(|c| byte(shift + 8 * c) as f32),
        }
    }
}

/// One BT.601 video-range YUV triple → 8-bit RGB, rounded and clamped as OpenCV does.
#[inline(always)]
pub(crate) fn yuv_to_rgb(y: i32, u: i32, v: i32) -> [i32; 3] {
    let (u, v) = (u - 128, v - 128);
    let y = (y - 16).max(0) * CY;
    let clamp = |s: i32| ((s + HALF) >> 20).clamp(0, 255);
    [
        clamp(y + CVR * v),
        clamp(y + CVG * v + CUG * u),
        clamp(y + CUB * u),
    ]
}

/// The 32-bit little-endian word at `offset` of `row`; bytes past the end of the row read as 0
/// (they never hold a channel the caller uses: a pixel's bytes are always inside the row).
#[inline(always)]
pub(crate) fn read_word(row: &[u8], offset: usize) -> u32 {
    match row.get(offset..offset + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => {
            let mut bytes = [0u8; 4];
            for (dst, src) in bytes.iter_mut().zip(row.get(offset..).unwrap_or(&[])) {
                *dst = *src;
            }
            u32::from_le_bytes(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_channels_follow_the_network_order() {
        let word = u32::from_le_bytes([10, 20, 30, 40]);
        let bgr_into_rgb = SourceFormat::new(PixelEncoding::Bgr8, ChannelOrder::Rgb);
        assert_eq!(bgr_into_rgb.channels(word, 0), [30.0, 20.0, 10.0]);
        assert_eq!(bgr_into_rgb.channels(word, 8), [40.0, 30.0, 20.0]);
        let rgba_into_bgr = SourceFormat::new(PixelEncoding::Rgba8, ChannelOrder::Bgr);
        assert_eq!(rgba_into_bgr.channels(word, 0), [30.0, 20.0, 10.0]);
        let mono = SourceFormat::new(PixelEncoding::Mono8, ChannelOrder::Rgb);
        assert_eq!(mono.channels(word, 0), [10.0; 3]);
        assert_eq!(mono.channels(word, 24), [40.0; 3]);
    }

    #[test]
    fn words_at_the_end_of_a_row_move_left_and_never_leave_it() {
        // rgb8, 10 pixels = 30 bytes: pixel 9 (bytes 27..30) is read from the word at 26.
        let rgb = SourceFormat::new(PixelEncoding::Rgb8, ChannelOrder::Rgb);
        assert_eq!(rgb.locate(8, 30), (24, 0));
        assert_eq!(rgb.locate(9, 30), (26, 8));
        let mono = SourceFormat::new(PixelEncoding::Mono8, ChannelOrder::Rgb);
        assert_eq!(mono.locate(9, 10), (6, 24));
        // Rows shorter than a word start at 0.
        assert_eq!(mono.locate(2, 3), (0, 16));
        let yuyv = SourceFormat::new(PixelEncoding::Yuyv, ChannelOrder::Rgb);
        assert_eq!(yuyv.locate(5, 12), (8, 16));
        assert_eq!(yuyv.component_bytes(5), [10, 9, 11]);
        assert_eq!(rgb.component_bytes(2), [6, 7, 8]);
    }

    #[test]
    fn yuv_pairs_pick_the_luma_of_their_pixel() {
        // Grey chroma (128): R = G = B = the video-range luma expanded to full range.
        let yuyv = SourceFormat::new(PixelEncoding::Yuyv, ChannelOrder::Rgb);
        let word = u32::from_le_bytes([16, 128, 235, 128]);
        assert_eq!(yuyv.channels(word, yuyv.locate(0, 4).1), [0.0; 3]);
        assert_eq!(yuyv.channels(word, yuyv.locate(1, 4).1), [255.0; 3]);
        let uyvy = SourceFormat::new(PixelEncoding::Uyvy, ChannelOrder::Rgb);
        let word = u32::from_le_bytes([128, 235, 128, 16]);
        assert_eq!(uyvy.channels(word, uyvy.locate(0, 4).1), [255.0; 3]);
        assert_eq!(uyvy.channels(word, uyvy.locate(1, 4).1), [0.0; 3]);
        assert_eq!(uyvy.locate(5, 12), (8, 24));
    }

    #[test]
    fn words_at_the_end_of_a_row_read_zeros_past_it() {
        assert_eq!(read_word(&[1, 2, 3], 0), u32::from_le_bytes([1, 2, 3, 0]));
        assert_eq!(read_word(&[1, 2, 3], 2), 3);
        assert_eq!(read_word(&[1, 2, 3], 7), 0);
    }
}
