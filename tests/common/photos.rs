//! The shared photos and models as the detection tests use them: the photo names, the YOLOX
//! config pointed at the shared model, one photo (or several, as one batch) run through an
//! [`ImageDetector`], and the check that a batch's rows detect what single runs detect.

use std::path::PathBuf;

use redline::config::ModelConfig;
use redline::detect::ImageDetector;
use redline::frame::{Detection, ImageLimits, ImageView, PixelEncoding};
use redline::Config;

/// The photos with reference detections in `data/expected/detections_onnxruntime.json`.
pub const PHOTOS: [&str; 3] = ["dog.jpg", "person.jpg", "city.jpg"];

/// One detection, with its class name.
#[derive(Clone, Debug)]
pub struct Found {
    pub class: String,
    pub score: f32,
    pub bbox: [f32; 4],
}

/// `image` (under `data/images`) decoded to RGB8.
pub fn load_photo(image: &str) -> image::RgbImage {
    image::open(super::shared_root().join("data/images").join(image))
        .unwrap_or_else(|e| panic!("open photo {image}: {e}"))
        .to_rgb8()
}

fn view(rgb: &image::RgbImage) -> ImageView<'_> {
    let (w, h) = rgb.dimensions();
    ImageView::new(
        w,
        h,
        w as usize * 3,
        PixelEncoding::Rgb8,
        rgb.as_raw(),
        ImageLimits::default(),
    )
    .expect("valid photo")
}

fn found(detector: &ImageDetector, detections: &[Detection]) -> Vec<Found> {
    detections
        .iter()
        .map(|d| Found {
            class: detector.class_name(d.class_id).to_string(),
            score: d.score,
            bbox: d.bbox,
        })
        .collect()
}

/// `image` (under `data/images`) decoded to RGB8 and run through `detector`.
pub fn detect_photo(detector: &mut ImageDetector, image: &str) -> Vec<Found> {
    let rgb = load_photo(image);
    let detections = detector.detect(&view(&rgb)).expect("detect").0.to_vec();
    found(detector, &detections)
}

/// `images` run through `detector` in batches of its engine's `max_batch` rows.
pub fn detect_photos_batched(detector: &mut ImageDetector, images: &[&str]) -> Vec<Vec<Found>> {
    let rgbs: Vec<image::RgbImage> = images.iter().map(|i| load_photo(i)).collect();
    let views: Vec<ImageView<'_>> = rgbs.iter().map(view).collect();
    let all = detector.detect_many(&views).expect("detect batch");
    all.iter().map(|d| found(detector, d)).collect()
}

/// `config/yolox_nano.yaml` with its model path pointed at the shared YOLOX-nano, or `None`
/// after a loud SKIPPED line when the shared model is absent.
pub fn yolox_config() -> Option<Config> {
    let model = super::shared("models/yolox_nano.onnx")?;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/yolox_nano.yaml");
    let text = std::fs::read_to_string(&path)
        .expect("read yolox config")
        .replace(
            "../../shared/models/yolox_nano.onnx",
            &model.display().to_string(),
        );
    Some(
        Config::from_yaml_str(&text, "yolox_nano.yaml", path.parent().expect("config dir"))
            .expect("valid yolox config"),
    )
}

/// Whether two detection lists of the same image agree: the same number, and each of `a`
/// matched by one of `b` of the same class with IoU ≥ 0.99 and a score within 1e-3 (runs of the
/// same model that differ only in how the work was batched). `Err` says what differs.
pub fn same_detections(a: &[Found], b: &[Found]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!(
            "{} vs {} detections: {a:?} vs {b:?}",
            a.len(),
            b.len()
        ));
    }
    let mut used = vec![false; b.len()];
    for d in a {
        let hit = b.iter().enumerate().position(|(i, o)| {
            !used[i]
                && o.class == d.class
                && (o.score - d.score).abs() <= 1e-3
                && redline::detect::iou(&o.bbox, &d.bbox) >= 0.99
        });
        match hit {
            Some(i) => used[i] = true,
            None => return Err(format!("{d:?} has no match in {b:?}")),
        }
    }
    Ok(())
}

/// `cfg` with `model.max_batch` set.
pub fn with_batch(mut cfg: ModelConfig, max_batch: usize) -> ModelConfig {
    cfg.max_batch = max_batch;
    cfg
}

/// Each photo alone through a `max_batch: 1` detector, and all of them as one batch through a
/// detector of `max_batch` rows (more rows than photos: the batch is smaller than the engine's
/// maximum); the detections must agree photo by photo.
pub fn rows_match_single_runs(cfg: &ModelConfig, max_batch: usize) {
    let mut single = ImageDetector::new(&with_batch(cfg.clone(), 1)).expect("load single");
    let mut batched = ImageDetector::new(&with_batch(cfg.clone(), max_batch)).expect("load batch");
    assert_eq!(batched.engine().max_batch(), max_batch);
    let alone: Vec<_> = PHOTOS
        .iter()
        .map(|p| detect_photo(&mut single, p))
        .collect();
    let together = detect_photos_batched(&mut batched, &PHOTOS);
    assert_eq!(together.len(), PHOTOS.len());
    assert!(
        alone.iter().any(|a| !a.is_empty()),
        "the single runs found nothing"
    );
    for ((photo, a), b) in PHOTOS.iter().zip(&alone).zip(&together) {
        if let Err(why) = same_detections(a, b) {
            panic!("{photo}: batch row differs from the single run: {why}");
        }
    }
}
