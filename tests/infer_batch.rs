//! Engines with a batch dimension on the real models (tract): YOLOX batches — each row of a
//! batch gives the detections a single run gives, also when the batch is smaller than
//! `max_batch`; a run writes only its rows; bad batch sizes are errors, not panics. The SSD
//! model pins its batch (a reshape to a constant `[1, 1917, 4]`): it degrades to one row per
//! run and says why.

mod common;

use common::photos::{rows_match_single_runs, with_batch, yolox_config};
use redline::config::ModelConfig;
use redline::error::FrameError;
use redline::infer::{load_engine, Batching};
use redline::Config;

fn ssd_config() -> ModelConfig {
    Config::load(&Config::default_path()).unwrap().model
}

#[test]
fn yolox_rows_of_a_batch_match_single_runs_on_tract() {
    let Some(config) = yolox_config() else { return };
    let engine = load_engine(&with_batch(config.model.clone(), 4)).unwrap();
    let info = engine.info();
    assert_eq!(info.max_batch, 4);
    assert!(matches!(info.batching, Batching::Batches { .. }), "{info}");
    drop(engine);
    rows_match_single_runs(&config.model, 4);
}

#[test]
fn ssd_pins_its_batch_so_tract_runs_one_row_and_says_why() {
    let engine = load_engine(&with_batch(ssd_config(), 8)).unwrap();
    assert_eq!(engine.max_batch(), 1);
    assert_eq!(engine.new_input().rows(), 1);
    assert_eq!(engine.new_outputs().rows(), 1);
    let info = engine.info();
    let Batching::Fixed { reason } = &info.batching else {
        panic!("SSD must not batch: {info}");
    };
    assert!(reason.starts_with("the model does not batch"), "{reason}");
    eprintln!("tract on pedestrian_ssdlite with max_batch 8: {info}");
    // It still detects: one row per run.
    if common::shared("data/images").is_some() {
        rows_match_single_runs(&ssd_config(), 1);
    }
}

#[test]
fn a_run_writes_only_its_rows_and_rejects_bad_batch_sizes() {
    let Some(config) = yolox_config() else { return };
    let mut engine = load_engine(&with_batch(config.model, 3)).unwrap();
    let mut input = engine.new_input();
    let mut outputs = engine.new_outputs();
    assert_eq!((input.rows(), outputs.rows()), (3, 3));
    for (i, v) in input.as_f32_mut().unwrap().iter_mut().enumerate() {
        *v = ((i * 7919) % 255) as f32;
    }
    outputs.get_mut(0).fill(f32::NAN);
    engine.run(&[10, 11], &input, &mut outputs).unwrap();
    assert!(outputs.row(0, 0).iter().all(|v| v.is_finite()));
    assert!(outputs.row(0, 1).iter().all(|v| v.is_finite()));
    assert!(
        outputs.row(0, 2).iter().all(|v| v.is_nan()),
        "row 2 was not part of the batch and must be untouched"
    );
    // The input is whole again after the run (its full shape restored, writable).
    assert_eq!(input.batch_shape(), vec![3, 3, 416, 416]);
    assert!(input.row_mut(2).is_ok());
    assert_eq!(
        engine.run(&[], &input, &mut outputs),
        Err(FrameError::Engine)
    );
    assert_eq!(
        engine.run(&[1, 2, 3, 4], &input, &mut outputs),
        Err(FrameError::Engine)
    );
    // A buffer with fewer rows than the batch is refused too.
    let small_in = redline::infer::InputTensor::new(&engine.contract().input, 1);
    assert_eq!(
        engine.run(&[1, 2], &small_in, &mut outputs),
        Err(FrameError::Engine)
    );
}

/// `redline check` on `config` (a YAML file) succeeds and prints its report.
fn check(config: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("check")
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn check_says_whether_and_how_far_the_model_batches() {
    let dir = tempfile::tempdir().unwrap();
    let ssd = dir.path().join("ssd.yaml");
    let default = std::fs::read_to_string(Config::default_path()).unwrap();
    let models = common::repo().join("models");
    std::fs::write(
        &ssd,
        default
            .replace("max_batch: 1 ", "max_batch: 8 ")
            .replace("../models", &models.display().to_string()),
    )
    .unwrap();
    let text = check(&ssd);
    assert!(text.contains("backend   tract (tract-onnx 0."), "{text}");
    assert!(
        text.contains("batch     1 row per run (the model does not batch: Reshape"),
        "{text}"
    );

    let Some(yolox) = yolox_config() else { return };
    let model = yolox.model.path.display().to_string();
    let yaml = std::fs::read_to_string(common::repo().join("config/yolox_nano.yaml"))
        .unwrap()
        .replace("../../shared/models/yolox_nano.onnx", &model)
        .replace("      top_k: 100", "      top_k: 100\n      max_batch: 6");
    let path = dir.path().join("yolox.yaml");
    std::fs::write(&path, yaml).unwrap();
    let text = check(&path);
    assert!(
        text.contains("batch     1..=6 rows per run (one optimised plan per batch size 1..=6)"),
        "{text}"
    );
}
