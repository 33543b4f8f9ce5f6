//! `redline detect IMAGE`: decode the image the way the node decodes a `CompressedImage` (JPEG
//! or PNG told apart by their magic bytes, not by the file name; sizes beyond
//! `input.max_width` × `input.max_height` refused, naming both), run preprocessing, the engine
//! and the decoder once, and print the detections in source pixels.

use std::io::Cursor;
use std::path::Path;

use anyhow::{anyhow, bail, Context};

use redline::detect::ImageDetector;
use redline::error::{BadInputKind, FrameError};
use redline::frame::ImageLimits;
use redline::preprocess::CompressedDecoder;
use redline::Config;

/// Detect objects in `image` with the model of `config_path`.
pub fn run(image: &Path, config_path: &Path, json: bool) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let bytes =
        std::fs::read(image).with_context(|| format!("cannot read image {}", image.display()))?;
    let limits = config.input.limits;
    let (width, height, decoded_bytes) =
        header(&bytes, limits).with_context(|| format!("image {}", image.display()))?;
    let mut buf = Vec::with_capacity(decoded_bytes);
    let view = CompressedDecoder::new(limits)
        .decode(&bytes, &mut buf)
        .map_err(|e| {
            anyhow!(
                "image {} ({width}x{height}): {}",
                image.display(),
                explain(e, limits)
            )
        })?;
    let mut detector = ImageDetector::new(&config.model)?;
    let dets = detector
        .detect(&view)
        .map_err(|e| anyhow!("image {}: {e}", image.display()))?
        .0
        .to_vec();
    let rows: Vec<serde_json::Value> = dets
        .iter()
        .map(|d| {
            serde_json::json!({
                "class": detector.class_name(d.class_id),
                "score": d.score,
                "box_xyxy": d.bbox,
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        for d in &dets {
            let [x1, y1, x2, y2] = d.bbox;
            println!(
                "{:<16} {:.3}  [{x1:.1}, {y1:.1}, {x2:.1}, {y2:.1}]",
                detector.class_name(d.class_id),
                d.score
            );
        }
    }
    Ok(())
}

/// Width, height and decoded size from the header alone, after checking the format by its
/// magic bytes and the size against the limits.
fn header(bytes: &[u8], limits: ImageLimits) -> anyhow::Result<(u32, u32, usize)> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .context("cannot read the file")?;
    match reader.format() {
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png) => {}
        _ => {
            let start: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
            bail!(
                "not a JPEG or PNG file (it starts with {})",
                if start.is_empty() {
                    "nothing: it is empty".to_string()
                } else {
                    start.join(" ")
                }
            );
        }
    }
    let decoder = reader
        .into_decoder()
        .context("not a readable JPEG/PNG header")?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    if width > limits.max_width || height > limits.max_height {
        bail!(
            "image is {width}x{height}, larger than input.max_width x max_height = {}x{}",
            limits.max_width,
            limits.max_height
        );
    }
    let total = image::ImageDecoder::total_bytes(&decoder);
    let total = usize::try_from(total).context("image too large for this machine")?;
    Ok((width, height, total))
}

/// A decoding failure in words.
fn explain(error: FrameError, limits: ImageLimits) -> String {
    match error {
        FrameError::BadInput(BadInputKind::CorruptCompressed) => {
            "the JPEG/PNG data is corrupt or truncated".into()
        }
        FrameError::BadInput(BadInputKind::DecodedTooLarge | BadInputKind::TooLarge) => format!(
            "larger than input.max_width x max_height = {}x{} once decoded",
            limits.max_width, limits.max_height
        ),
        FrameError::BadInput(BadInputKind::ZeroDimension) => "the image has no pixels".into(),
        other => other.to_string(),
    }
}
