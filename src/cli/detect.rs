//! `redline detect IMAGE`: decode the image (JPEG/PNG, with the pipeline's own bounded decoder:
//! sizes beyond `input.max_width` × `input.max_height` and truncated images are refused in
//! words before anything large is allocated), run preprocessing, the engine and the decoder
//! once, and print the detections in source pixels.

use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context};

use redline::bag::BagLimits;
use redline::detect::ImageDetector;
use redline::error::FrameError;
use redline::preprocess::CompressedDecoder;
use redline::Config;

/// Detect objects in `image` with the model of `config_path`.
pub fn run(image: &Path, config_path: &Path, json: bool) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let limits = config.input.limits;
    // A compressed image is never larger than the raw image it decodes to (plus headers).
    let max_file = BagLimits::for_images(limits).max_message_bytes;
    let file = std::fs::File::open(image)
        .with_context(|| format!("cannot read image {}", image.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max_file {
        bail!(
            "image {}: the file is {size} bytes, more than any image within input.max_width × input.max_height ({}×{}) needs ({max_file} bytes)",
            image.display(),
            limits.max_width,
            limits.max_height
        );
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_file)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read image {}", image.display()))?;
    let mut decoder = CompressedDecoder::new(limits);
    let mut pixels = Vec::with_capacity(decoder.buffer_capacity());
    let view = match decoder.decode(&bytes, &mut pixels) {
        Ok(view) => view,
        Err(FrameError::BadInput(kind)) => {
            let why = CompressedDecoder::new(limits).explain(&bytes, kind);
            bail!("image {}: {why}", image.display())
        }
        Err(e) => bail!("image {}: {e}", image.display()),
    };
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
