//! `redline detect IMAGE`: decode the image (JPEG/PNG, `image` crate, RGB8), run preprocessing,
//! the engine and the decoder once, and print the detections in source pixels.

use std::path::Path;

use anyhow::{anyhow, Context};

use redline::detect::ImageDetector;
use redline::frame::{ImageView, PixelEncoding};
use redline::Config;

/// Detect objects in `image` with the model of `config_path`.
pub fn run(image: &Path, config_path: &Path, json: bool) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let rgb = image::open(image)
        .with_context(|| format!("cannot read image {}", image.display()))?
        .to_rgb8();
    let (w, h) = rgb.dimensions();
    let limits = config.input.limits;
    let view = ImageView::new(
        w,
        h,
        w as usize * 3,
        PixelEncoding::Rgb8,
        rgb.as_raw(),
        limits,
    )
    .map_err(|k| anyhow!("image {}: {}", image.display(), k.name()))?;
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
