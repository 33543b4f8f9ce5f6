//! The ONNX Runtime backend (feature `onnxruntime`) on the real models and the real library
//! (the `onnxruntime` wheel's `libonnxruntime.so`, or `$ORT_DYLIB_PATH`): both models match the
//! reference detections (IoU ≥ 0.85, score ±0.05); YOLOX batches (rows = single runs) and SSD
//! says why it does not; `redline check` names backend, library and version; a missing or
//! wrong library, a missing model, a contract mismatch and an execution provider the library
//! lacks are clear errors naming the file / field / value. Without the feature or the library
//! every test says SKIPPED (under `CI=true` it fails instead).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::golden::check_against_reference;
use common::onnxruntime::on_onnxruntime;
use common::photos::{rows_match_single_runs, with_batch, yolox_config};
use redline::config::ModelConfig;
use redline::Config;

/// The library, when this build has the backend and the library is there.
fn library() -> Option<PathBuf> {
    if !cfg!(feature = "onnxruntime") {
        let why = "built without feature `onnxruntime` (cargo test --features onnxruntime)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and {why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    }
    common::onnxruntime::library()
}

fn ssd(lib: &Path) -> ModelConfig {
    on_onnxruntime(Config::load(&Config::default_path()).unwrap().model, lib)
}

fn yolox(lib: &Path) -> Option<ModelConfig> {
    yolox_config().map(|c| on_onnxruntime(c.model, lib))
}

fn load_err(cfg: &ModelConfig) -> String {
    match redline::infer::load_engine(cfg) {
        Ok(_) => panic!("expected an error loading {}", cfg.path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn ssd_matches_the_reference_on_onnxruntime() {
    let Some(lib) = library() else { return };
    check_against_reference(&ssd(&lib), "pedestrian_ssdlite");
}

#[test]
fn yolox_matches_the_reference_on_onnxruntime() {
    let Some(lib) = library() else { return };
    if let Some(cfg) = yolox(&lib) {
        check_against_reference(&cfg, "yolox_nano");
    }
}

#[test]
fn yolox_batches_on_onnxruntime_and_rows_match_single_runs() {
    let Some(lib) = library() else { return };
    let Some(cfg) = yolox(&lib) else { return };
    let engine = redline::infer::load_engine(&with_batch(cfg.clone(), 4)).unwrap();
    let info = engine.info();
    assert_eq!(info.max_batch, 4, "{info}");
    drop(engine);
    rows_match_single_runs(&cfg, 4);
}

#[test]
fn ssd_pins_its_batch_so_onnxruntime_runs_one_row_and_says_why() {
    let Some(lib) = library() else { return };
    let engine = redline::infer::load_engine(&with_batch(ssd(&lib), 8)).unwrap();
    assert_eq!(engine.max_batch(), 1);
    let info = engine.info().to_string();
    assert!(
        info.contains("1 row per run (the model does not batch:"),
        "{info}"
    );
    eprintln!("onnxruntime on pedestrian_ssdlite with max_batch 8:\n{info}");
}

#[test]
fn contract_mismatches_name_file_field_and_values() {
    let Some(lib) = library() else { return };
    let mut cfg = ssd(&lib);
    cfg.input_name = "images".into();
    assert_eq!(
        load_err(&cfg),
        r#"model pedestrian_ssdlite.onnx: input "images" not found; the model's inputs are ["images:0"]"#
    );
    let mut cfg = ssd(&lib);
    cfg.input_width = 320;
    let msg = load_err(&cfg);
    assert!(
        msg.starts_with("model pedestrian_ssdlite.onnx: input \"images:0\" shape")
            && msg.contains("[1, 3, 300, 320]")
            && msg.contains("[1, 3, 300, 300]"),
        "{msg}"
    );
    let mut cfg = ssd(&lib);
    cfg.class_names.push("bicycle".into());
    let msg = load_err(&cfg);
    assert!(
        msg.contains("[1, 1917, 3]") && msg.contains("[1, 1917, 2]"),
        "{msg}"
    );
    let mut cfg = ssd(&lib);
    cfg.outputs = vec!["boxes".into(), "scores:0".into()];
    let msg = load_err(&cfg);
    assert!(
        msg.contains(r#"output "boxes" not found"#) && msg.contains("boxes:0"),
        "{msg}"
    );
}

#[test]
fn missing_and_broken_models_are_errors_naming_the_file() {
    let Some(lib) = library() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ssd(&lib);
    cfg.path = dir.path().join("nope.onnx");
    let msg = load_err(&cfg);
    assert!(
        msg.starts_with("model nope.onnx: file not found at "),
        "{msg}"
    );
    cfg.path = dir.path().join("garbage.onnx");
    std::fs::write(&cfg.path, b"this is not a protobuf \xff\xff\xff\x00").unwrap();
    let msg = load_err(&cfg);
    assert!(
        msg.starts_with("model garbage.onnx: not a usable ONNX model: ONNX Runtime cannot load it"),
        "{msg}"
    );
}

#[test]
fn an_execution_provider_the_library_lacks_is_named() {
    let Some(lib) = library() else { return };
    let mut cfg = ssd(&lib);
    cfg.execution_providers = vec![
        redline::config::ExecutionProvider::Cuda,
        redline::config::ExecutionProvider::Cpu,
    ];
    let msg = load_err(&cfg);
    // The CPU wheel has no CUDA: say which provider, and what the library has.
    assert!(
        msg.contains("model.execution_providers lists \"cuda\"")
            && msg.contains("CPUExecutionProvider"),
        "{msg}"
    );
}

/// Run `redline check` on a copy of the default config with `model` lines appended, with
/// `ORT_DYLIB_PATH` set to `env` (or removed); returns (success, stdout + stderr).
fn check(model_lines: &str, env: Option<&Path>) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let models = common::repo().join("models");
    let text = std::fs::read_to_string(Config::default_path())
        .unwrap()
        .replace("../models", &models.display().to_string())
        .replace("      backend: tract ", &format!("{model_lines}\n      #"))
        .replace("      onnxruntime_library: \"\"", "      #");
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
    cmd.arg("check").arg("--config").arg(&path);
    match env {
        Some(p) => cmd.env("ORT_DYLIB_PATH", p),
        None => cmd.env_remove("ORT_DYLIB_PATH"),
    };
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_names_the_backend_library_and_version() {
    let Some(lib) = library() else { return };
    let (ok, text) = check(
        &format!(
            "      backend: onnxruntime\n      onnxruntime_library: {:?}",
            lib.display().to_string()
        ),
        None,
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("backend   onnxruntime (ONNX Runtime 1."),
        "{text}"
    );
    assert!(text.contains("intra-op threads: 1"), "{text}");
    assert!(
        text.contains("batch     1 row per run (model.max_batch is 1)"),
        "{text}"
    );
    // The same library through the environment variable.
    let (ok, text) = check("      backend: onnxruntime", Some(&lib));
    assert!(ok, "{text}");
}

#[test]
fn bad_libraries_are_errors_naming_the_path_never_panics() {
    if library().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Not configured at all.
    let (ok, text) = check("      backend: onnxruntime", None);
    assert!(!ok);
    assert!(
        text.contains(
            "no ONNX Runtime library configured: set model.onnxruntime_library or ORT_DYLIB_PATH"
        ),
        "{text}"
    );
    // A path that does not exist, in the config (validated with the config) …
    let (ok, text) = check(
        "      backend: onnxruntime\n      onnxruntime_library: /nowhere/libonnxruntime.so",
        None,
    );
    assert!(!ok);
    assert!(
        text.contains("model.onnxruntime_library: \"/nowhere/libonnxruntime.so\" — file not found"),
        "{text}"
    );
    // … and in the environment.
    let (ok, text) = check(
        "      backend: onnxruntime",
        Some(Path::new("/nowhere/libonnxruntime.so")),
    );
    assert!(!ok);
    assert!(
        text.contains(
            "ONNX Runtime library /nowhere/libonnxruntime.so: file not found (ORT_DYLIB_PATH)"
        ),
        "{text}"
    );
    // A file that is not a shared library.
    let junk = dir.path().join("libonnxruntime.so");
    std::fs::write(&junk, b"not an ELF file").unwrap();
    let (ok, text) = check("      backend: onnxruntime", Some(&junk));
    assert!(!ok);
    assert!(
        text.contains("cannot be loaded as a shared library"),
        "{text}"
    );
    // A shared library that is not ONNX Runtime.
    let not_ort = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.is_file());
    if let Some(other) = not_ort {
        let (ok, text) = check("      backend: onnxruntime", Some(other));
        assert!(!ok);
        assert!(text.contains("does not export OrtGetApiBase"), "{text}");
    }
    assert!(!text.contains("panicked"), "{text}");
}
