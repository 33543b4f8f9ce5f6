//! The shared photos and models as the detection tests use them: the photo names, the YOLOX
//! config pointed at the shared model, and one photo run through an [`ImageDetector`].

use std::path::PathBuf;

use redline::detect::ImageDetector;
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
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

/// `image` (under `data/images`) decoded to RGB8 and run through `detector`.
pub fn detect_photo(detector: &mut ImageDetector, image: &str) -> Vec<Found> {
    let rgb = image::open(super::shared_root().join("data/images").join(image))
        .unwrap_or_else(|e| panic!("open photo {image}: {e}"))
        .to_rgb8();
    let (w, h) = rgb.dimensions();
    let view = ImageView::new(
        w,
        h,
        w as usize * 3,
        PixelEncoding::Rgb8,
        rgb.as_raw(),
        ImageLimits::default(),
    )
    .expect("valid photo");
    let detections = detector.detect(&view).expect("detect").0.to_vec();
    detections
        .iter()
        .map(|d| Found {
            class: detector.class_name(d.class_id).to_string(),
            score: d.score,
            bbox: d.bbox,
        })
        .collect()
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
