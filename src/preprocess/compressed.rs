//! JPEG/PNG → raw image in a caller-owned pooled buffer. The header is read first and sizes
//! beyond the configured limits, or beyond the buffer's capacity, are refused before any pixel
//! is decoded; the buffer never grows. Decoders are the `image` crate's (zune-jpeg, png).

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::{ColorType, ImageDecoder, ImageError, Limits};

use crate::error::{BadInputKind, FrameError};
use crate::frame::{ImageLimits, ImageView, PixelEncoding};

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
/// How far from the end of a JPEG its EOI marker may be.
const EOI_SEARCH: usize = 64;
/// Working memory a decoder may use beyond the output image (Huffman tables, row buffers).
const DECODER_MARGIN: u64 = 64 << 20;
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Decodes `CompressedImage` payloads (format sniffed from the magic bytes).
#[derive(Copy, Clone, Debug)]
pub struct CompressedDecoder {
    limits: ImageLimits,
}

impl CompressedDecoder {
    pub fn new(limits: ImageLimits) -> Self {
        Self { limits }
    }

    /// Capacity a pooled buffer needs for the largest 8-bit RGBA image within the limits
    /// (16-bit PNGs need twice that and are refused when they do not fit).
    pub fn buffer_capacity(&self) -> usize {
        self.limits.max_width as usize * self.limits.max_height as usize * 4
    }

    /// Decode `bytes` into `buf` (cleared; never grown past its capacity) and view it.
    ///
    /// Errors (`FrameError::BadInput`): `CorruptCompressed` for an unknown format, a bad header
    /// or corrupt/truncated data; `DecodedTooLarge` for dimensions beyond the limits or a
    /// decoded size beyond `buf.capacity()`.
    pub fn decode<'b>(
        &mut self,
        bytes: &[u8],
        buf: &'b mut Vec<u8>,
    ) -> Result<ImageView<'b>, FrameError> {
        let corrupt = FrameError::BadInput(BadInputKind::CorruptCompressed);
        let (width, height, color) = if bytes.starts_with(JPEG_MAGIC) {
            if !ends_with_eoi(bytes) {
                // zune-jpeg fills a truncated scan with grey; a cut-off frame is bad input.
                return Err(corrupt);
            }
            let decoder = JpegDecoder::new(Cursor::new(bytes)).map_err(header_error)?;
            self.decode_with(decoder, buf)?
        } else if bytes.starts_with(PNG_MAGIC) {
            let limits = self.decoder_limits(buf.capacity());
            let decoder =
                PngDecoder::with_limits(Cursor::new(bytes), limits).map_err(header_error)?;
            self.decode_with(decoder, buf)?
        } else {
            return Err(corrupt);
        };
        let encoding = narrow_to_8bit(buf, color).ok_or(corrupt)?;
        let step = width as usize * encoding.bytes_per_pixel();
        Ok(ImageView::new(
            width,
            height,
            step,
            encoding,
            buf,
            self.limits,
        )?)
    }

    /// The decoders' own limits: our dimensions, and allocations bounded by the pooled buffer
    /// plus a fixed working margin.
    fn decoder_limits(&self, capacity: usize) -> Limits {
        let mut limits = Limits::default();
        limits.max_image_width = Some(self.limits.max_width);
        limits.max_image_height = Some(self.limits.max_height);
        limits.max_alloc = Some(capacity as u64 + DECODER_MARGIN);
        limits
    }

    fn decode_with<D: ImageDecoder>(
        &self,
        mut decoder: D,
        buf: &mut Vec<u8>,
    ) -> Result<(u32, u32, ColorType), FrameError> {
        let too_large = FrameError::BadInput(BadInputKind::DecodedTooLarge);
        let corrupt = FrameError::BadInput(BadInputKind::CorruptCompressed);
        let (width, height) = decoder.dimensions();
        if width == 0 || height == 0 {
            return Err(corrupt);
        }
        if width > self.limits.max_width || height > self.limits.max_height {
            return Err(too_large);
        }
        let total = usize::try_from(decoder.total_bytes()).map_err(|_| too_large)?;
        if total > buf.capacity() {
            return Err(too_large);
        }
        decoder
            .set_limits(self.decoder_limits(buf.capacity()))
            .map_err(|_| too_large)?;
        let color = decoder.color_type();
        buf.clear();
        buf.resize(total, 0);
        // A decoder bug must not take the node down: a panic is a corrupt frame.
        match catch_unwind(AssertUnwindSafe(|| decoder.read_image(buf))) {
            Ok(Ok(())) => Ok((width, height, color)),
            _ => Err(corrupt),
        }
    }
}

/// Whether a JPEG's End Of Image marker lies in its last bytes (cameras may append a short
/// trailer). In entropy-coded data `FF` is only followed by `00` or `D0`–`D7`, so `FF D9` there
/// is the real marker.
fn ends_with_eoi(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(EOI_SEARCH)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// A header the decoder refused: too large for the limits, or corrupt.
fn header_error(err: ImageError) -> FrameError {
    FrameError::BadInput(match err {
        ImageError::Limits(_) => BadInputKind::DecodedTooLarge,
        _ => BadInputKind::CorruptCompressed,
    })
}

/// Rewrite the decoded pixels in place as one of our 8-bit encodings.
fn narrow_to_8bit(buf: &mut Vec<u8>, color: ColorType) -> Option<PixelEncoding> {
    // (bytes per decoded sample, samples per pixel kept, samples per pixel decoded)
    let (sample, keep, have, encoding) = match color {
        ColorType::L8 => return Some(PixelEncoding::Mono8),
        ColorType::Rgb8 => return Some(PixelEncoding::Rgb8),
        ColorType::Rgba8 => return Some(PixelEncoding::Rgba8),
        ColorType::La8 => (1, 1, 2, PixelEncoding::Mono8),
        ColorType::L16 => (2, 1, 1, PixelEncoding::Mono8),
        ColorType::La16 => (2, 1, 2, PixelEncoding::Mono8),
        ColorType::Rgb16 => (2, 3, 3, PixelEncoding::Rgb8),
        ColorType::Rgba16 => (2, 4, 4, PixelEncoding::Rgba8),
        _ => return None,
    };
    let pixels = buf.len() / (sample * have);
    for p in 0..pixels {
        for s in 0..keep {
            let at = (p * have + s) * sample;
            // 16-bit samples are native-endian u16: keep the high byte.
            buf[p * keep + s] = if sample == 2 {
                (u16::from_ne_bytes([buf[at], buf[at + 1]]) >> 8) as u8
            } else {
                buf[at]
            };
        }
    }
    buf.truncate(pixels * keep);
    Some(encoding)
}
