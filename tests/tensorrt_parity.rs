//! tract vs TensorRT (feature `tensorrt`, a CUDA GPU and TensorRT ≥ 10 present): both shared
//! models on the three shared photos, through the same preprocessing and decoders, must find
//! the same objects — every detection of one scoring ≥ threshold + 0.05 has a partner in the
//! other with the same class, IoU ≥ 0.85 and |Δscore| ≤ 0.05, and nothing extra.
//!
//! The engine is built (or found fresh) in an engine cache under cargo's test tmp dir through
//! the path `redline engine build` takes, at fp32 so that the comparison measures the backend
//! and not the precision. Prints `SKIPPED: …` when there is no CUDA driver or device, no
//! TensorRT, or the crate was built without the shim.

mod common;

#[cfg(feature = "tensorrt")]
mod parity {
    use super::common;
    use common::photos::{detect_photo, yolox_config, Found, PHOTOS};
    use redline::config::{BackendKind, Precision};
    use redline::detect::{iou, ImageDetector};
    use redline::infer::tensorrt::{build_engine, TrtLibrary, SHIM_BUILT};
    use redline::preprocess::cuda::GpuContext;
    use redline::Config;

    const MIN_IOU: f32 = 0.85;
    const MAX_SCORE_DELTA: f32 = 0.05;

    /// Why the GPU half of this test cannot run here, if it cannot.
    fn missing_gpu_stack() -> Option<String> {
        if !SHIM_BUILT {
            return Some("built without the TensorRT shim (no TensorRT/CUDA headers)".into());
        }
        if let Err(e) = GpuContext::open(0) {
            return Some(format!("no CUDA device ({e})"));
        }
        if let Err(e) = TrtLibrary::load() {
            return Some(format!("TensorRT not loadable ({e})"));
        }
        None
    }

    /// Detections of `of` scoring ≥ `bar` with no partner in `against`.
    fn unmatched(of: &[Found], against: &[Found], bar: f32) -> Vec<Found> {
        let mut used = vec![false; against.len()];
        let mut missing = Vec::new();
        for d in of.iter().filter(|d| d.score >= bar) {
            let partner = against
                .iter()
                .enumerate()
                .filter(|(i, o)| {
                    !used[*i]
                        && o.class == d.class
                        && (o.score - d.score).abs() <= MAX_SCORE_DELTA
                        && iou(&o.bbox, &d.bbox) >= MIN_IOU
                })
                .max_by(|a, b| iou(&a.1.bbox, &d.bbox).total_cmp(&iou(&b.1.bbox, &d.bbox)));
            match partner {
                Some((i, _)) => used[i] = true,
                None => missing.push(d.clone()),
            }
        }
        missing
    }

    fn check(mut config: Config, name: &str) {
        if let Some(reason) = missing_gpu_stack() {
            eprintln!("SKIPPED: {name} tract-vs-TensorRT parity: {reason}");
            return;
        }
        config.model.engine_cache_dir =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("engine_cache");
        config.model.precision = Precision::Fp32;
        let (engine, built) = build_engine(&config).expect("build the TensorRT engine");
        eprintln!(
            "{name}: engine {} ({})",
            engine.display(),
            if built { "built" } else { "cached" }
        );

        let mut tract_model = config.model.clone();
        tract_model.backend = BackendKind::Tract;
        let mut trt_model = config.model.clone();
        trt_model.backend = BackendKind::TensorRt;
        let mut tract = ImageDetector::new(&tract_model).expect("tract detector");
        let mut trt = ImageDetector::new(&trt_model).expect("TensorRT detector");

        let bar = config.model.score_threshold + MAX_SCORE_DELTA;
        let mut failures = Vec::new();
        for photo in PHOTOS {
            let a = detect_photo(&mut tract, photo);
            let b = detect_photo(&mut trt, photo);
            for d in unmatched(&a, &b, bar) {
                failures.push(format!(
                    "{name} {photo}: tract {d:?} has no TensorRT partner"
                ));
            }
            for d in unmatched(&b, &a, bar) {
                failures.push(format!(
                    "{name} {photo}: TensorRT {d:?} has no tract partner"
                ));
            }
            eprintln!(
                "{name} {photo}: tract {} detections, TensorRT {}",
                a.len(),
                b.len()
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn ssd_tract_and_tensorrt_find_the_same_objects() {
        check(
            Config::load(&Config::default_path()).expect("shipped config"),
            "pedestrian_ssdlite",
        );
    }

    #[test]
    fn yolox_tract_and_tensorrt_find_the_same_objects() {
        if let Some(config) = yolox_config() {
            check(config, "yolox_nano");
        }
    }

    #[test]
    fn matching_requires_class_overlap_and_score() {
        let d = |class: &str, score: f32, x: f32| Found {
            class: class.into(),
            score,
            bbox: [x, 0.0, x + 10.0, 10.0],
        };
        let ours = [d("person", 0.9, 0.0), d("person", 0.2, 50.0)];
        // Same object: matched; the weak one is below the bar and need not be.
        assert!(unmatched(&ours, &[d("person", 0.88, 0.5)], 0.45).is_empty());
        // Wrong class, shifted box, or score too far apart: unmatched.
        assert_eq!(unmatched(&ours, &[d("car", 0.9, 0.0)], 0.45).len(), 1);
        assert_eq!(unmatched(&ours, &[d("person", 0.9, 5.0)], 0.45).len(), 1);
        assert_eq!(unmatched(&ours, &[d("person", 0.8, 0.0)], 0.45).len(), 1);
        // One partner cannot stand for two detections.
        let twice = [d("person", 0.9, 0.0), d("person", 0.9, 0.0)];
        assert_eq!(unmatched(&twice, &[d("person", 0.9, 0.0)], 0.45).len(), 1);
    }
}

#[cfg(not(feature = "tensorrt"))]
#[test]
fn tensorrt_parity_requires_feature() {
    eprintln!(
        "SKIPPED: built without feature `tensorrt` (run cargo test --features tensorrt \
         --test tensorrt_parity on a machine with a GPU and TensorRT)"
    );
}
