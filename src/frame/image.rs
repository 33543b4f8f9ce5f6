//! A borrowed view of one raw camera image: geometry, encoding and the pixel bytes.
//!
//! The bytes are borrowed from wherever the image arrived (a received ROS message, a bag
//! record, a pooled decode buffer for compressed images) until preprocessing has written the
//! engine input. Validation here is total: any combination of fields either yields a view
//! whose every row lies inside `data`, or a [`BadInputKind`].

use crate::error::BadInputKind;

/// Pixel encodings redline reads, named as in `sensor_msgs/image_encodings.hpp`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PixelEncoding {
    Rgb8,
    Bgr8,
    Rgba8,
    Bgra8,
    Mono8,
    /// `uyvy` / `yuv422`: U0 Y0 V0 Y1 per two pixels.
    Uyvy,
    /// `yuyv` / `yuv422_yuy2`: Y0 U0 Y1 V0 per two pixels.
    Yuyv,
}

impl PixelEncoding {
    /// Every supported encoding.
    pub const ALL: [Self; 7] = [
        Self::Rgb8,
        Self::Bgr8,
        Self::Rgba8,
        Self::Bgra8,
        Self::Mono8,
        Self::Uyvy,
        Self::Yuyv,
    ];

    /// Parse a `sensor_msgs/Image.encoding` string.
    pub fn parse(encoding: &str) -> Option<Self> {
        Some(match encoding {
            "rgb8" => Self::Rgb8,
            "bgr8" => Self::Bgr8,
            "rgba8" => Self::Rgba8,
            "bgra8" => Self::Bgra8,
            "mono8" | "8UC1" => Self::Mono8,
            "uyvy" | "yuv422" => Self::Uyvy,
            "yuyv" | "yuv422_yuy2" => Self::Yuyv,
            _ => return None,
        })
    }

    /// The canonical ROS name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rgb8 => "rgb8",
            Self::Bgr8 => "bgr8",
            Self::Rgba8 => "rgba8",
            Self::Bgra8 => "bgra8",
            Self::Mono8 => "mono8",
            Self::Uyvy => "uyvy",
            Self::Yuyv => "yuyv",
        }
    }

    /// Bytes per pixel (2 for the packed 4:2:2 formats).
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Rgb8 | Self::Bgr8 => 3,
            Self::Rgba8 | Self::Bgra8 => 4,
            Self::Mono8 => 1,
            Self::Uyvy | Self::Yuyv => 2,
        }
    }
}

/// Upper bounds on image geometry, from `input.max_width` / `input.max_height`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    pub max_width: u32,
    pub max_height: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_width: 7680,
            max_height: 4320,
        }
    }
}

/// A validated, borrowed raw image.
#[derive(Copy, Clone, Debug)]
pub struct ImageView<'a> {
    width: u32,
    height: u32,
    step: usize,
    encoding: PixelEncoding,
    data: &'a [u8],
}

impl<'a> ImageView<'a> {
    /// Validate the geometry against the data and the limits.
    ///
    /// Errors: zero width or height (`ZeroDimension`), dimensions beyond `limits` (`TooLarge`),
    /// `step < width × bytes per pixel` (`StepTooSmall`), and data shorter than
    /// `step × (height − 1) + width × bytes per pixel` (`DataTooShort`; the padding after the
    /// last row may be absent). An odd width in a 4:2:2 encoding is accepted: rows round up to
    /// whole pixel pairs.
    pub fn new(
        width: u32,
        height: u32,
        step: usize,
        encoding: PixelEncoding,
        data: &'a [u8],
        limits: ImageLimits,
    ) -> Result<Self, BadInputKind> {
        if width == 0 || height == 0 {
            return Err(BadInputKind::ZeroDimension);
        }
        if width > limits.max_width || height > limits.max_height {
            return Err(BadInputKind::TooLarge);
        }
        let row_bytes = packed_row_bytes(width, encoding);
        if step < row_bytes {
            return Err(BadInputKind::StepTooSmall);
        }
        // Every row must be whole; the padding after the last row may be absent.
        let needed = step
            .checked_mul(height as usize - 1)
            .and_then(|n| n.checked_add(row_bytes))
            .ok_or(BadInputKind::TooLarge)?;
        if data.len() < needed {
            return Err(BadInputKind::DataTooShort);
        }
        Ok(Self {
            width,
            height,
            step,
            encoding,
            data,
        })
    }

    /// Parse the encoding string and validate; unknown encodings are `UnknownEncoding`.
    pub fn from_parts(
        width: u32,
        height: u32,
        step: usize,
        encoding: &str,
        data: &'a [u8],
        limits: ImageLimits,
    ) -> Result<Self, BadInputKind> {
        let encoding = PixelEncoding::parse(encoding).ok_or(BadInputKind::UnknownEncoding)?;
        Self::new(width, height, step, encoding, data, limits)
    }

    pub const fn width(&self) -> u32 {
        self.width
    }
    pub const fn height(&self) -> u32 {
        self.height
    }
    pub const fn step(&self) -> usize {
        self.step
    }
    pub const fn encoding(&self) -> PixelEncoding {
        self.encoding
    }
    /// All bytes, including row padding.
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Row `y` without its padding. `y` must be `< height` (checked: an out-of-range row is empty).
    pub fn row(&self, y: u32) -> &'a [u8] {
        let start = self.step * y as usize;
        let end = start + packed_row_bytes(self.width, self.encoding);
        self.data.get(start..end).unwrap_or(&[])
    }
}

/// Bytes of pixel data in one row, without padding (4:2:2 rows round up to whole pairs).
fn packed_row_bytes(width: u32, encoding: PixelEncoding) -> usize {
    match encoding {
        PixelEncoding::Uyvy | PixelEncoding::Yuyv => (width as usize).div_ceil(2) * 4,
        other => width as usize * other.bytes_per_pixel(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ImageLimits = ImageLimits {
        max_width: 4096,
        max_height: 4096,
    };

    #[test]
    fn every_encoding_parses_back_from_its_name() {
        for encoding in PixelEncoding::ALL {
            assert_eq!(PixelEncoding::parse(encoding.name()), Some(encoding));
        }
    }

    #[test]
    fn accepts_padded_rows_and_missing_trailing_padding() {
        let data = vec![0u8; 16 * 2 + 9];
        let view = ImageView::new(3, 3, 16, PixelEncoding::Rgb8, &data, LIMITS).unwrap();
        assert_eq!(view.row(2).len(), 9);
    }

    #[test]
    fn rejects_bad_geometry_with_the_right_kind() {
        let data = vec![0u8; 100];
        let err = |w, h, step, enc, len: usize| {
            ImageView::new(w, h, step, enc, &data[..len], LIMITS).unwrap_err()
        };
        assert_eq!(
            err(0, 3, 9, PixelEncoding::Rgb8, 100),
            BadInputKind::ZeroDimension
        );
        assert_eq!(
            err(5000, 1, 15000, PixelEncoding::Rgb8, 100),
            BadInputKind::TooLarge
        );
        assert_eq!(
            err(4, 2, 11, PixelEncoding::Rgb8, 100),
            BadInputKind::StepTooSmall
        );
        assert_eq!(
            err(4, 3, 12, PixelEncoding::Rgb8, 35),
            BadInputKind::DataTooShort
        );
        assert_eq!(
            ImageView::from_parts(1, 1, 3, "rgb16", &data, LIMITS).unwrap_err(),
            BadInputKind::UnknownEncoding
        );
    }
}
