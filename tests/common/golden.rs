//! The golden check shared by every backend: on the three shared photos, a model finds what
//! ONNX Runtime's reference run found (`data/expected/detections_onnxruntime.json`): every
//! reference detection scoring ≥ threshold + 0.05 is matched by class with IoU ≥ 0.85 and score
//! within ±0.05, and nothing else of ours scores that high.

use redline::config::ModelConfig;
use redline::detect::{iou, ImageDetector};

use super::photos::{detect_photo, PHOTOS};

/// Check `cfg` (whatever its backend) against the reference detections of model `key`
/// (`pedestrian_ssdlite`, `yolox_nano`); false after a loud SKIPPED line when the reference
/// file is absent. Panics listing every difference.
pub fn check_against_reference(cfg: &ModelConfig, key: &str) -> bool {
    let expected_path = super::shared_root().join("data/expected/detections_onnxruntime.json");
    let Ok(text) = std::fs::read_to_string(&expected_path) else {
        eprintln!(
            "SKIPPED: {} is absent (set REDLINE_SHARED)",
            expected_path.display()
        );
        return false;
    };
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bar = cfg.score_threshold + 0.05;
    let mut failures = Vec::new();
    let mut detector = ImageDetector::new(cfg).expect("load model");
    for image in PHOTOS {
        let ours = detect_photo(&mut detector, image);
        let refs = expected[image][key].as_array().unwrap();
        let mut used = vec![false; ours.len()];
        let mut strong_refs = 0;
        for r in refs {
            let score = r["score"].as_f64().unwrap() as f32;
            let class = r["class"].as_str().unwrap();
            let b: Vec<f32> = r["box_xyxy"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let rb = [b[0], b[1], b[2], b[3]];
            // Any of ours (strong or weak) may stand for a weak reference: mark it used.
            let best = ours
                .iter()
                .enumerate()
                .filter(|(i, o)| !used[*i] && o.class == class && (o.score - score).abs() <= 0.05)
                .map(|(i, o)| (i, iou(&o.bbox, &rb)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((i, v)) if v >= 0.85 => used[i] = true,
                _ if score >= bar => failures.push(format!(
                    "{key} {image}: reference {class} {score:.3} {rb:?} not matched (best {best:?})"
                )),
                _ => {}
            }
            if score >= bar {
                strong_refs += 1;
            }
        }
        for (o, u) in ours.iter().zip(&used) {
            if !u && o.score >= bar {
                failures.push(format!(
                    "{key} {image}: extra {} {:.3} {:?}",
                    o.class, o.score, o.bbox
                ));
            }
        }
        eprintln!(
            "{key} {image}: {} reference ≥ {bar:.2}, ours {} in total",
            strong_refs,
            ours.len()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    true
}
