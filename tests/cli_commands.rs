//! The `redline` binary: `detect --json` prints source-pixel detections, `check` reports the
//! contract or fails naming the problem, `bench preprocess --json` prints timings.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn redline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redline"))
}

/// Run the command and assert it succeeded (showing its stderr otherwise).
fn run_ok(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn shared() -> PathBuf {
    common::shared_root()
}

#[test]
fn detect_json_finds_the_person() {
    let image = shared().join("data/images/person.jpg");
    if !image.is_file() {
        eprintln!(
            "SKIPPED: {} is absent (set REDLINE_SHARED)",
            image.display()
        );
        return;
    }
    let out = run_ok(redline().arg("detect").arg(&image).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dets = v.as_array().unwrap();
    assert_eq!(dets.len(), 1, "{v}");
    assert_eq!(dets[0]["class"], "person");
    let b: Vec<f64> = dets[0]["box_xyxy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // ONNX Runtime reference: [183, 100, 275, 383] in source pixels
    assert!(
        (b[0] - 183.0).abs() < 5.0 && (b[3] - 383.0).abs() < 5.0,
        "{b:?}"
    );
}

#[test]
fn check_reports_the_contract() {
    let out = run_ok(redline().arg("check"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"boxes:0\" [1, 1917, 4]"), "{text}");
    assert!(text.contains("\"images:0\" [1, 3, 300, 300]"), "{text}");
}

#[test]
fn check_fails_on_a_contract_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/pedestrian_ssdlite.onnx");
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        format!(
            "redline:\n  ros__parameters:\n    model:\n      path: {}\n      input_name: input\n",
            model.display()
        ),
    )
    .unwrap();
    let out = redline()
        .arg("check")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"input "input" not found; the model's inputs are ["images:0"]"#),
        "{err}"
    );
}

#[test]
fn bench_preprocess_prints_json() {
    let out = run_ok(
        redline()
            .args([
                "bench",
                "preprocess",
                "--width",
                "64",
                "--height",
                "48",
                "--encoding",
                "bgr8",
            ])
            .args(["--iters", "5", "--json"]),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["median_ns"].as_u64().unwrap() > 0);
    assert!(v["p99_ns"].as_u64().unwrap() >= v["median_ns"].as_u64().unwrap());
}
