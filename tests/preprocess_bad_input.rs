//! Bad images get the right `BadInputKind` and never a panic: raw geometry errors, unknown
//! encodings, corrupt/truncated JPEG and PNG, and PNG/JPEG headers beyond the limits (refused
//! before decoding). Good JPEG/PNG decode to the same pixels as `image::load_from_memory`.

mod common;

use std::io::Cursor;

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, ImageFormat, RgbImage};
use proptest::prelude::*;
use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::error::{BadInputKind, FrameError};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{CompressedDecoder, PreprocessSpec, Preprocessor, TensorMut};

const LIMITS: ImageLimits = ImageLimits {
    max_width: 1024,
    max_height: 1024,
};

fn bad(kind: BadInputKind) -> FrameError {
    FrameError::BadInput(kind)
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x + y) % 256) as u8,
        ])
    })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn png(w: u32, h: u32, color: ExtendedColorType, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(pixels, w, h, color)
        .unwrap();
    out
}

fn pool(decoder: &CompressedDecoder) -> Vec<u8> {
    Vec::with_capacity(decoder.buffer_capacity())
}

#[test]
fn raw_geometry_errors_name_the_right_kind() {
    let data = [0u8; 64];
    let err = |w, h, step, enc: &str, len: usize| {
        ImageView::from_parts(w, h, step, enc, &data[..len], LIMITS).unwrap_err()
    };
    assert_eq!(err(4, 2, 11, "rgb8", 64), BadInputKind::StepTooSmall);
    assert_eq!(err(4, 2, 7, "uyvy", 64), BadInputKind::StepTooSmall);
    assert_eq!(err(4, 3, 16, "bgra8", 47), BadInputKind::DataTooShort);
    assert_eq!(err(0, 3, 12, "rgb8", 64), BadInputKind::ZeroDimension);
    assert_eq!(err(3, 0, 12, "rgb8", 64), BadInputKind::ZeroDimension);
    assert_eq!(
        err(100_000, 1, 300_000, "mono8", 64),
        BadInputKind::TooLarge
    );
    assert_eq!(err(1, u32::MAX, 1, "mono8", 64), BadInputKind::TooLarge);
    assert_eq!(err(2, 2, 6, "rgb16", 64), BadInputKind::UnknownEncoding);
    assert_eq!(err(2, 2, 6, "", 64), BadInputKind::UnknownEncoding);
}

#[test]
fn jpeg_and_png_decode_to_the_same_pixels_as_the_image_crate() {
    let img = gradient(37, 23);
    let mut decoder = CompressedDecoder::new(LIMITS);
    let mut buf = pool(&decoder);
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let bytes = encode(&img, format);
        let want = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let view = decoder.decode(&bytes, &mut buf).unwrap();
        assert_eq!((view.width(), view.height()), (37, 23));
        assert_eq!(view.encoding(), PixelEncoding::Rgb8);
        assert_eq!(view.step(), 37 * 3);
        assert_eq!(view.data(), want.as_raw().as_slice(), "{format:?}");
    }
}

#[test]
fn grey_alpha_and_16_bit_pngs_are_narrowed_to_8_bit_encodings() {
    let mut decoder = CompressedDecoder::new(LIMITS);
    let mut buf = pool(&decoder);
    let la = png(2, 1, ExtendedColorType::La8, &[10, 255, 20, 128]);
    let v = decoder.decode(&la, &mut buf).unwrap();
    assert_eq!(
        (v.encoding(), v.data()),
        (PixelEncoding::Mono8, &[10u8, 20][..])
    );
    // PNG stores 16-bit samples big-endian; the encoder takes native-endian u16 bytes.
    let samples: [u16; 6] = [0x1234, 0xABCD, 0xFF00, 0x00FF, 0x8000, 0x7FFF];
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_ne_bytes()).collect();
    let rgb16 = png(2, 1, ExtendedColorType::Rgb16, &bytes);
    let v = decoder.decode(&rgb16, &mut buf).unwrap();
    assert_eq!(v.encoding(), PixelEncoding::Rgb8);
    assert_eq!(v.data(), &[0x12, 0xAB, 0xFF, 0x00, 0x80, 0x7F]);
}

#[test]
fn corrupt_and_truncated_images_are_corrupt_or_truncated_compressed() {
    let mut decoder = CompressedDecoder::new(LIMITS);
    let mut buf = pool(&decoder);
    let img = gradient(64, 48);
    for format in [ImageFormat::Jpeg, ImageFormat::Png] {
        let bytes = encode(&img, format);
        // Too short to be recognised: corrupt. Cut after the magic: truncated.
        for cut in [0, 1] {
            let got = decoder.decode(&bytes[..cut], &mut buf);
            assert_eq!(
                got.map(|_| ()),
                Err(bad(BadInputKind::CorruptCompressed)),
                "{format:?} cut at {cut}"
            );
        }
        for cut in [
            10,
            40,
            bytes.len() / 2,
            bytes.len() * 3 / 4,
            bytes.len() - 2,
        ] {
            let got = decoder.decode(&bytes[..cut], &mut buf);
            assert_eq!(
                got.map(|_| ()),
                Err(bad(BadInputKind::TruncatedCompressed)),
                "{format:?} cut at {cut}"
            );
        }
    }
    assert_eq!(
        decoder.decode(b"GIF89a....", &mut buf).map(|_| ()),
        Err(bad(BadInputKind::CorruptCompressed))
    );
    // A PNG whose data chunk is damaged fails its CRC.
    let mut png_bytes = encode(&img, ImageFormat::Png);
    let mid = png_bytes.len() / 2;
    png_bytes[mid] ^= 0xFF;
    assert!(decoder.decode(&png_bytes, &mut buf).is_err());
}

/// A PNG header (signature + IHDR with a correct CRC) claiming `w × h`, with no data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // An empty IDAT so the header parses; the decoder must refuse before reading it.
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(b"IDAT");
    out.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn oversized_headers_are_refused_before_decoding() {
    let mut decoder = CompressedDecoder::new(LIMITS);
    let mut buf = Vec::with_capacity(1024 * 1024 * 3);
    let cap = buf.capacity();
    // A "bomb": a tiny file claiming 100000 × 100000 pixels.
    let bomb = png_header(100_000, 100_000);
    assert_eq!(
        decoder.decode(&bomb, &mut buf).map(|_| ()),
        Err(bad(BadInputKind::DecodedTooLarge))
    );
    assert_eq!(buf.capacity(), cap, "the pooled buffer must not grow");
    // A real, highly compressible PNG larger than the limits.
    let big = RgbImage::new(2000, 10);
    let bytes = encode(&big, ImageFormat::Png);
    assert!(bytes.len() < 10_000);
    assert_eq!(
        decoder.decode(&bytes, &mut buf).map(|_| ()),
        Err(bad(BadInputKind::DecodedTooLarge))
    );
    // Within the limits but beyond the pooled buffer's capacity: refused, buffer unchanged.
    let mut small = Vec::with_capacity(100);
    let bytes = encode(&gradient(64, 48), ImageFormat::Jpeg);
    assert_eq!(
        decoder.decode(&bytes, &mut small).map(|_| ()),
        Err(bad(BadInputKind::DecodedTooLarge))
    );
    assert_eq!(small.capacity(), 100);
    // A JPEG beyond the limits.
    let wide = encode(&RgbImage::new(1100, 8), ImageFormat::Jpeg);
    assert_eq!(
        decoder.decode(&wide, &mut buf).map(|_| ()),
        Err(bad(BadInputKind::DecodedTooLarge))
    );
    assert_eq!(buf.capacity(), cap);
}

#[test]
fn real_photos_decode_and_preprocess() {
    let dir = common::shared_root().join("data/images");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "SKIPPED: no test photos at {} (set REDLINE_SHARED)",
            dir.display()
        );
        return;
    };
    let limits = ImageLimits {
        max_width: 7680,
        max_height: 4320,
    };
    let mut decoder = CompressedDecoder::new(limits);
    let mut buf = Vec::with_capacity(decoder.buffer_capacity());
    let spec = PreprocessSpec {
        width: 416,
        height: 416,
        layout: TensorLayout::Nchw,
        dtype: TensorDType::F32,
        channel_order: ChannelOrder::Bgr,
        resize: ResizeMode::Letterbox,
        anchor: LetterboxAnchor::TopLeft,
        pad_value: 114,
        scale: 1.0,
        mean: [0.0; 3],
        std: [1.0; 3],
    };
    let mut pre = Preprocessor::new(spec);
    let mut tensor = vec![0f32; spec.tensor_len()];
    let mut seen = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let want = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let view = decoder.decode(&bytes, &mut buf).unwrap();
        assert_eq!((view.width(), view.height()), want.dimensions());
        assert_eq!(view.data(), want.as_raw().as_slice(), "{}", path.display());
        let t = pre.run(&view, TensorMut::F32(&mut tensor)).unwrap();
        assert!(t.scale_x > 0.0 && tensor.iter().all(|v| (0.0..=255.0).contains(v)));
        seen += 1;
    }
    assert!(seen > 0, "no photos in {}", dir.display());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    /// Arbitrary bytes behind a JPEG or PNG signature never panic and never grow the buffer.
    #[test]
    fn arbitrary_bytes_never_panic(png_magic: bool, tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = if png_magic {
            vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
        } else {
            vec![0xFF, 0xD8, 0xFF]
        };
        bytes.extend_from_slice(&tail);
        let mut decoder = CompressedDecoder::new(LIMITS);
        let mut buf = Vec::with_capacity(64 * 64 * 4);
        let _ = decoder.decode(&bytes, &mut buf);
        prop_assert_eq!(buf.capacity(), 64 * 64 * 4);
    }

    /// Mutating a valid JPEG anywhere never panics.
    #[test]
    fn mutated_jpegs_never_panic(at in 0usize..2000, value: u8, cut in 0usize..2000) {
        let mut bytes = encode(&gradient(40, 30), ImageFormat::Jpeg);
        let n = bytes.len();
        bytes[at % n] = value;
        bytes.truncate(cut % n + 1);
        let mut decoder = CompressedDecoder::new(LIMITS);
        let mut buf = Vec::with_capacity(64 * 64 * 4);
        let _ = decoder.decode(&bytes, &mut buf);
    }
}
