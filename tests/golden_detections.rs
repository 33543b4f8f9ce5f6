//! Golden test (issue 3): on the three shared photos, both models (SSD default config, YOLOX)
//! find what ONNX Runtime finds (`data/expected/detections_onnxruntime.json`): every reference
//! detection scoring ≥ threshold + 0.05 is matched by class with IoU ≥ 0.85 and score within
//! ±0.05, and nothing else of ours scores that high. Full path: `image` JPEG decode (RGB8) →
//! fused preprocessing → tract → decoder. (The ONNX Runtime backend runs the same check in
//! `tests/infer_onnxruntime.rs`.)

mod common;

use common::golden::check_against_reference;
use common::photos::yolox_config;
use redline::Config;

#[test]
fn ssd_matches_onnxruntime_on_the_photos() {
    let cfg = Config::load(&Config::default_path()).unwrap().model;
    check_against_reference(&cfg, "pedestrian_ssdlite");
}

#[test]
fn yolox_matches_onnxruntime_on_the_photos() {
    if let Some(config) = yolox_config() {
        check_against_reference(&config.model, "yolox_nano");
    }
}
