//! The model contract and the tract backend on the real models: contract errors name the file,
//! field, config value and model value; missing, truncated and non-ONNX files are errors, never
//! panics; both models load, run into preallocated outputs and produce finite values; the
//! fault injector delays and fails scheduled frames.

mod common;

use std::time::{Duration, Instant};

use redline::config::{ModelConfig, ModelFamily};
use redline::error::FrameError;
use redline::infer::Engine;
use redline::infer::{load_engine, EngineFault, FaultInjector, FaultKind, ModelError};
use redline::Config;

fn ssd_config() -> ModelConfig {
    Config::load(&Config::default_path()).unwrap().model
}

/// The YOLOX config with its model taken from the shared data, or None (SKIPPED).
fn yolox_config() -> Option<ModelConfig> {
    common::photos::yolox_config().map(|c| c.model)
}

fn load_err(cfg: &ModelConfig) -> ModelError {
    match load_engine(cfg) {
        Ok(_) => panic!("expected an error loading {}", cfg.path.display()),
        Err(e) => e,
    }
}

#[test]
fn wrong_input_name_lists_the_models_inputs() {
    let Some(mut cfg) = yolox_config() else {
        return;
    };
    cfg.input_name = "images:0".into();
    let msg = load_err(&cfg).to_string();
    assert_eq!(
        msg,
        r#"model yolox_nano.onnx: input "images:0" not found; the model's inputs are ["images"]"#
    );
}

#[test]
fn wrong_input_size_names_field_config_and_model() {
    let mut cfg = ssd_config();
    cfg.input_width = 320;
    let msg = load_err(&cfg).to_string();
    assert!(
        msg.starts_with("model pedestrian_ssdlite.onnx: input \"images:0\" shape"),
        "{msg}"
    );
    assert!(
        msg.contains("[1, 3, 300, 320]") && msg.contains("[1, 3, 300, 300]"),
        "{msg}"
    );
}

#[test]
fn wrong_layout_is_a_shape_mismatch() {
    let mut cfg = ssd_config();
    cfg.layout = redline::config::TensorLayout::Nhwc;
    let msg = load_err(&cfg).to_string();
    assert!(msg.contains("[1, 300, 300, 3]"), "{msg}");
}

#[test]
fn wrong_family_names_the_expected_outputs() {
    let mut cfg = ssd_config();
    cfg.family = ModelFamily::Yolox;
    cfg.outputs = vec!["scores:0".into()];
    let msg = load_err(&cfg).to_string();
    assert!(msg.contains("yolox [1, N, 5 + classes]"), "{msg}");
    assert!(msg.contains("[1, 1917, 2]"), "{msg}");
}

#[test]
fn wrong_class_count_is_reported() {
    let Some(mut cfg) = yolox_config() else {
        return;
    };
    cfg.class_names.truncate(79);
    let msg = load_err(&cfg).to_string();
    assert!(
        msg.contains("[1, 3549, 84]") && msg.contains("[1, 3549, 85]"),
        "{msg}"
    );
}

#[test]
fn unknown_output_name_lists_the_models_outputs() {
    let mut cfg = ssd_config();
    cfg.outputs = vec!["boxes".into(), "scores:0".into()];
    let msg = load_err(&cfg).to_string();
    assert!(msg.contains(r#"output "boxes" not found"#), "{msg}");
    assert!(msg.contains("boxes:0"), "{msg}");
}

#[test]
fn missing_truncated_and_garbage_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ssd_config();
    cfg.path = dir.path().join("nope.onnx");
    assert!(matches!(load_err(&cfg), ModelError::NotFound { .. }));

    cfg.path = dir.path().join("garbage.onnx");
    std::fs::write(&cfg.path, b"this is not a protobuf \xff\xff\xff\x00").unwrap();
    let e = load_err(&cfg);
    assert!(matches!(e, ModelError::NotOnnx { .. }), "{e}");
    assert!(e.to_string().starts_with("model garbage.onnx:"), "{e}");

    let real = std::fs::read(ssd_config().path).unwrap();
    cfg.path = dir.path().join("truncated.onnx");
    std::fs::write(&cfg.path, &real[..real.len() / 3]).unwrap();
    let e = load_err(&cfg);
    assert!(e.to_string().starts_with("model truncated.onnx:"), "{e}");

    cfg.path = dir.path().join("empty.onnx");
    std::fs::write(&cfg.path, b"").unwrap();
    let _ = load_err(&cfg);
}

fn run_model(cfg: &ModelConfig, label: &str) -> Vec<f32> {
    let t0 = Instant::now();
    let mut engine = load_engine(cfg).unwrap();
    let load = t0.elapsed();
    let mut input = engine.new_input();
    let mut outputs = engine.new_outputs();
    let data = input.as_f32_mut().unwrap();
    for (i, v) in data.iter_mut().enumerate() {
        *v = ((i * 7919) % 255) as f32 * cfg.scale;
    }
    engine.run(&[0], &input, &mut outputs).unwrap();
    let mut times = Vec::new();
    for seq in 1..4 {
        let t = Instant::now();
        engine.run(&[seq], &input, &mut outputs).unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    eprintln!(
        "MEASURED {label}: load {:?}, inference median {:?} (dev profile, deps optimised, 1 thread)",
        load, times[1]
    );
    // The input is writable again after the run: the engine released it.
    assert!(input.as_f32_mut().is_ok());
    for i in 0..outputs.len() {
        assert!(outputs.get(i).iter().all(|v| v.is_finite()));
    }
    outputs.get(outputs.len() - 1).to_vec()
}

#[test]
fn ssd_runs_on_tract() {
    let cfg = ssd_config();
    let scores = run_model(&cfg, "pedestrian_ssdlite 300");
    assert_eq!(scores.len(), 1917 * 2);
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
}

#[test]
fn yolox_runs_on_tract() {
    let Some(cfg) = yolox_config() else { return };
    let out = run_model(&cfg, "yolox_nano 416");
    assert_eq!(out.len(), 3549 * 85);
    // objectness and class scores are sigmoids
    assert!(out
        .chunks_exact(85)
        .all(|r| r[4..].iter().all(|s| (0.0..=1.0).contains(s))));
}

#[test]
fn fault_injector_delays_and_fails_on_schedule() {
    let engine = load_engine(&ssd_config()).unwrap();
    let mut faulty = FaultInjector::new(
        engine,
        vec![
            EngineFault {
                frames: 2..4,
                kind: FaultKind::Delay(Duration::from_millis(120)),
            },
            EngineFault {
                frames: 5..6,
                kind: FaultKind::Error,
            },
        ],
    );
    let input = faulty.new_input();
    let mut outputs = faulty.new_outputs();
    let t = Instant::now();
    faulty.run(&[1], &input, &mut outputs).unwrap();
    let plain = t.elapsed();
    let t = Instant::now();
    faulty.run(&[2], &input, &mut outputs).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(120) + plain / 2);
    assert_eq!(
        faulty.run(&[5], &input, &mut outputs),
        Err(FrameError::Engine)
    );
    assert!(faulty.run(&[6], &input, &mut outputs).is_ok());
    assert_eq!(faulty.fault_for(4), (Duration::ZERO, false));
}
