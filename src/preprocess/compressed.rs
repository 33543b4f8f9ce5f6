//! JPEG/PNG → raw image in a caller-owned pooled buffer, with every size in the header treated
//! as a hint: the dimensions are read first (our own parse of SOF / IHDR) and refused beyond the
//! configured limits or the buffer's capacity before any pixel is decoded; the buffer never
//! grows. A JPEG must really cover the frame it declares ([`JpegScanCheck`]: a scan cut short,
//! or a header promising more than the data holds, is `bad_input:truncated_compressed`), and a
//! PNG decodes with its colour profile and text chunks skipped (a compressed iCCP chunk can
//! inflate to gigabytes) and its decoder's working memory capped. Decoders: zune-jpeg and png,
//! called directly (no copy of the input).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![deny(clippy::arithmetic_side_effects)]

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use crate::error::{BadInputKind, FrameError};
use crate::frame::{ImageLimits, ImageView, PixelEncoding};

use super::jpeg_scan::{JpegProblem, JpegScanCheck};

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// Working memory the PNG decoder may allocate beyond the output image (row buffers, zlib).
pub const PNG_WORKING_BYTES: u64 = 16 << 20;

/// Which compressed format a payload is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CompressedFormat {
    Jpeg,
    Png,
}

impl CompressedFormat {
    pub const fn name(self) -> &'static str {
        match self {
            CompressedFormat::Jpeg => "JPEG",
            CompressedFormat::Png => "PNG",
        }
    }
}

/// What a compressed payload's header declares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CompressedHeader {
    pub format: CompressedFormat,
    pub width: u32,
    pub height: u32,
}

/// Decodes `CompressedImage` payloads (format sniffed from the magic bytes).
pub struct CompressedDecoder {
    limits: ImageLimits,
    jpeg: JpegScanCheck,
}

impl CompressedDecoder {
    /// Made once at start-up (the JPEG checker's Huffman tables are allocated here).
    pub fn new(limits: ImageLimits) -> Self {
        Self {
            limits,
            jpeg: JpegScanCheck::new(limits),
        }
    }

    /// Capacity a pooled buffer needs for the largest image within the limits (8-bit RGBA:
    /// 16-bit PNGs are narrowed to 8 bits while decoding).
    pub fn buffer_capacity(&self) -> usize {
        (self.limits.max_width as usize)
            .saturating_mul(self.limits.max_height as usize)
            .saturating_mul(4)
    }

    /// The format and dimensions a payload's header declares, without decoding it.
    pub fn header(&mut self, bytes: &[u8]) -> Option<CompressedHeader> {
        if bytes.starts_with(JPEG_MAGIC) {
            let f = self.jpeg.frame(bytes).ok()?;
            Some(CompressedHeader {
                format: CompressedFormat::Jpeg,
                width: f.width,
                height: f.height,
            })
        } else {
            let (width, height) = png_ihdr(bytes)?;
            Some(CompressedHeader {
                format: CompressedFormat::Png,
                width,
                height,
            })
        }
    }

    /// Decode `bytes` into `buf` (cleared; never grown past its capacity) and view it.
    ///
    /// Errors (`FrameError::BadInput`): `CorruptCompressed` for an unknown format, a bad header
    /// or corrupt data; `TruncatedCompressed` for data that ends before the image it declares
    /// is covered; `DecodedTooLarge` for dimensions beyond the limits or a decoded size beyond
    /// `buf.capacity()`.
    pub fn decode<'b>(
        &mut self,
        bytes: &[u8],
        buf: &'b mut Vec<u8>,
    ) -> Result<ImageView<'b>, FrameError> {
        let (width, height, encoding) = if bytes.starts_with(JPEG_MAGIC) {
            self.decode_jpeg(bytes, buf)?
        } else if bytes.starts_with(PNG_MAGIC) {
            self.decode_png(bytes, buf)?
        } else {
            return Err(bad(BadInputKind::CorruptCompressed));
        };
        let step = (width as usize).saturating_mul(encoding.bytes_per_pixel());
        Ok(ImageView::new(
            width,
            height,
            step,
            encoding,
            buf,
            self.limits,
        )?)
    }

    /// Refuse dimensions beyond the limits or a decoded size beyond the buffer.
    fn check_size(
        &self,
        width: u32,
        height: u32,
        channels: usize,
        capacity: usize,
    ) -> Result<usize, FrameError> {
        if width == 0 || height == 0 {
            return Err(bad(BadInputKind::CorruptCompressed));
        }
        if width > self.limits.max_width || height > self.limits.max_height {
            return Err(bad(BadInputKind::DecodedTooLarge));
        }
        let total = (width as usize)
            .checked_mul(height as usize)
            .and_then(|p| p.checked_mul(channels))
            .ok_or(bad(BadInputKind::DecodedTooLarge))?;
        if total > capacity {
            return Err(bad(BadInputKind::DecodedTooLarge));
        }
        Ok(total)
    }

    fn decode_jpeg(
        &mut self,
        bytes: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<(u32, u32, PixelEncoding), FrameError> {
        let frame = self.jpeg.frame(bytes).map_err(jpeg_problem)?;
        let (channels, encoding, colorspace) = if frame.components == 1 {
            (1, PixelEncoding::Mono8, ColorSpace::Luma)
        } else {
            (3, PixelEncoding::Rgb8, ColorSpace::RGB)
        };
        let total = self.check_size(frame.width, frame.height, channels, buf.capacity())?;
        self.jpeg.check(bytes).map_err(jpeg_problem)?;
        let options = DecoderOptions::default()
            .set_max_width(self.limits.max_width as usize)
            .set_max_height(self.limits.max_height as usize)
            .jpeg_set_out_colorspace(colorspace);
        buf.clear();
        buf.resize(total, 0);
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            let mut decoder =
                zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
            decoder.decode_headers().ok()?;
            let info = decoder.info()?;
            let size = decoder.output_buffer_size()?;
            if (u32::from(info.width), u32::from(info.height)) != (frame.width, frame.height)
                || size != total
            {
                return None;
            }
            decoder.decode_into(buf.as_mut_slice()).ok()
        }));
        match decoded {
            // A decoder bug must not take the node down: a panic is a corrupt frame.
            Ok(Some(())) => Ok((frame.width, frame.height, encoding)),
            _ => Err(bad(BadInputKind::CorruptCompressed)),
        }
    }

    fn decode_png(
        &mut self,
        bytes: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<(u32, u32, PixelEncoding), FrameError> {
        let (width, height) = png_ihdr(bytes).ok_or(bad(if bytes.len() < PNG_IHDR_END {
            BadInputKind::TruncatedCompressed
        } else {
            BadInputKind::CorruptCompressed
        }))?;
        // At most 4 channels of 8 bits after narrowing: a first bound before the decoder runs.
        self.check_size(width, height, 1, buf.capacity())?;
        let decoded = catch_unwind(AssertUnwindSafe(|| -> Result<_, FrameError> {
            let limits = png::Limits {
                bytes: PNG_WORKING_BYTES as usize,
            };
            let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
            decoder.set_transformations(png::Transformations::normalize_to_color8());
            decoder.set_ignore_iccp_chunk(true);
            decoder.set_ignore_text_chunk(true);
            let mut reader = decoder.read_info().map_err(png_error)?;
            let (color, depth) = reader.output_color_type();
            let channels = match (color, depth) {
                (png::ColorType::Grayscale, png::BitDepth::Eight) => 1,
                (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => 2,
                (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
                (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
                _ => return Err(bad(BadInputKind::CorruptCompressed)),
            };
            let total = self.check_size(width, height, channels, buf.capacity())?;
            if reader.output_buffer_size() != Some(total) {
                return Err(bad(BadInputKind::CorruptCompressed));
            }
            buf.clear();
            buf.resize(total, 0);
            reader.next_frame(buf.as_mut_slice()).map_err(png_error)?;
            // Up to IEND: a PNG cut after its pixel data is still a truncated file.
            reader.finish().map_err(png_error)?;
            Ok(channels)
        }));
        let channels = match decoded {
            Ok(result) => result?,
            Err(_) => return Err(bad(BadInputKind::CorruptCompressed)),
        };
        let encoding = match channels {
            1 => PixelEncoding::Mono8,
            2 => {
                drop_alpha_in_place(buf);
                PixelEncoding::Mono8
            }
            3 => PixelEncoding::Rgb8,
            _ => PixelEncoding::Rgba8,
        };
        Ok((width, height, encoding))
    }

    /// Why a payload was refused, in words (for the command line): format, size and limit.
    pub fn explain(&mut self, bytes: &[u8], kind: BadInputKind) -> String {
        let limits = self.limits;
        let header = self.header(bytes);
        let declared = header.map_or("an image".to_string(), |h| {
            format!("a {}×{} {}", h.width, h.height, h.format.name())
        });
        match kind {
            BadInputKind::DecodedTooLarge | BadInputKind::TooLarge => format!(
                "{declared}: larger than input.max_width × input.max_height ({}×{})",
                limits.max_width, limits.max_height
            ),
            BadInputKind::TruncatedCompressed => format!(
                "{declared} whose compressed data ends before the image is complete (truncated or inconsistent)"
            ),
            BadInputKind::CorruptCompressed if header.is_none() => {
                let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
                format!(
                    "not a JPEG or PNG file (it starts with {}), or its header is corrupt",
                    start.join(" ")
                )
            }
            other => format!("{declared} that cannot be decoded ({})", other.name()),
        }
    }
}

fn bad(kind: BadInputKind) -> FrameError {
    FrameError::BadInput(kind)
}

fn jpeg_problem(p: JpegProblem) -> FrameError {
    bad(match p {
        JpegProblem::Malformed => BadInputKind::CorruptCompressed,
        JpegProblem::Truncated => BadInputKind::TruncatedCompressed,
        JpegProblem::TooLarge => BadInputKind::DecodedTooLarge,
    })
}

fn png_error(e: png::DecodingError) -> FrameError {
    bad(match e {
        png::DecodingError::LimitsExceeded => BadInputKind::DecodedTooLarge,
        png::DecodingError::IoError(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            BadInputKind::TruncatedCompressed
        }
        png::DecodingError::Format(ref f) if f.to_string().to_lowercase().contains("end") => {
            BadInputKind::TruncatedCompressed
        }
        _ => BadInputKind::CorruptCompressed,
    })
}

/// Where a PNG's IHDR width and height end (signature, chunk length and type, 8 bytes).
const PNG_IHDR_END: usize = 24;

/// Width and height from a PNG's IHDR chunk (the first chunk, right after the signature).
fn png_ihdr(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(PNG_MAGIC) || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = bytes.get(16..20)?;
    let h = bytes.get(20..24)?;
    Some((
        u32::from_be_bytes([*w.first()?, *w.get(1)?, *w.get(2)?, *w.get(3)?]),
        u32::from_be_bytes([*h.first()?, *h.get(1)?, *h.get(2)?, *h.get(3)?]),
    ))
}

/// Grey + alpha pairs → grey, in place.
fn drop_alpha_in_place(buf: &mut Vec<u8>) {
    let pixels = buf.len() / 2;
    for p in 0..pixels {
        if let Some(&v) = buf.get(p.saturating_mul(2)) {
            if let Some(dst) = buf.get_mut(p) {
                *dst = v;
            }
        }
    }
    buf.truncate(pixels);
}
