//! Replay of multi-camera recordings made by an independent writer (PyPI `rosbags`, through
//! `tools/make_multicam_bag.py`): MCAP and sqlite3, raw and compressed topics mixed and
//! interleaved as `ros2 bag record` writes them. Every image topic is a camera by default; the
//! accounting balances per camera and overall; `report.json` has a `cameras` section; the output
//! recording has each camera's detections; a sensor fault limited to one camera silences that
//! camera only. On the virtual clock, so nothing here depends on how busy the machine is.
//!
//! Needs the `.venv` made by `scripts/python-env.sh` (the test command makes it): without it
//! every test says SKIPPED (under `CI=true` it fails instead).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use redline::bag::Bag;
use redline::replay::virtual_costs::costs_from_config;
use redline::replay::{run, FaultSpec, Gates, Pacing, ReplayClock, ReplayOptions};
use redline::report::ReplayReport;
use redline::Config;

const FRAMES: usize = 12;

/// A fresh multi-camera bag in `dir`, or `None` (SKIPPED) without the Python environment.
fn make_bag(dir: &Path, storage: &str, cameras: usize) -> Option<PathBuf> {
    let python = common::repo().join(".venv/bin/python");
    if !python.is_file() {
        let why = format!(
            "{} is absent (scripts/python-env.sh makes it)",
            python.display()
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and {why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    }
    common::shared("data/bags/vtest_jpeg_mcap")?;
    let out = dir.join(format!("bag_{storage}_{cameras}"));
    let status = Command::new(python)
        .arg(common::repo().join("tools/make_multicam_bag.py"))
        .arg(&out)
        .args(["--storage", storage])
        .args(["--frames", &FRAMES.to_string()])
        .args(["--cameras", &cameras.to_string()])
        .env("REDLINE_SHARED", common::shared_root())
        .status()
        .expect("run tools/make_multicam_bag.py");
    assert!(status.success(), "make_multicam_bag.py failed: {status}");
    Some(out)
}

fn config() -> Config {
    let mut c = Config::load(&Config::default_path()).unwrap();
    c.pipeline.lock_memory = false;
    c
}

fn replay(bag: &Path, config: Config, faults: &[&str], out: &Path) -> ReplayReport {
    let costs = costs_from_config(&config, None);
    let opts = ReplayOptions {
        bag: bag.to_path_buf(),
        config,
        config_origin: "test".into(),
        out_dir: out.to_path_buf(),
        cameras: Vec::new(),
        clock: ReplayClock::Virtual(Box::new(costs)),
        pacing: Pacing::Recorded,
        faults: faults
            .iter()
            .map(|f| FaultSpec::parse(f).unwrap())
            .collect(),
        gates: Gates::default(),
        progress: false,
    };
    run(&opts).unwrap().report
}

/// Every camera answered, and the accounting balances per camera and overall.
fn assert_every_camera_balanced(r: &ReplayReport, names: &[&str]) {
    let got: Vec<&str> = r.cameras.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(got, names);
    for c in &r.cameras {
        let f = &c.frames;
        assert_eq!(f.received, FRAMES as u64, "{}: {f:?}", c.name);
        assert!(f.balanced, "{}: {f:?}", c.name);
        assert_eq!(f.received, f.published + f.dropped_total() + f.in_flight);
        assert!(f.published > 0, "{} published nothing: {f:?}", c.name);
    }
    let sum = |pick: fn(&redline::report::FrameCounts) -> u64| -> u64 {
        r.cameras.iter().map(|c| pick(&c.frames)).sum()
    };
    assert_eq!(sum(|f| f.received), r.frames.received);
    assert_eq!(sum(|f| f.published), r.frames.published);
    assert_eq!(sum(|f| f.dropped_total()), r.frames.dropped_total());
    assert!(r.frames.balanced);
}

/// The topics of the output recording.
fn output_topics(out: &Path) -> Vec<String> {
    let bag = Bag::open(&out.join("output.mcap")).unwrap();
    let mut topics: Vec<String> = bag.topics().iter().map(|t| t.name.clone()).collect();
    topics.sort();
    topics
}

#[test]
fn an_mcap_with_raw_and_compressed_cameras_answers_every_camera() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bag) = make_bag(dir.path(), "mcap", 3) else {
        return;
    };
    let out = dir.path().join("out");
    let r = replay(&bag, config(), &[], &out);
    assert_every_camera_balanced(&r, &["front", "left", "cam2"]);
    // The JSON has the cameras section with each camera's frames and tails.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let cameras = json["cameras"].as_array().unwrap();
    assert_eq!(cameras.len(), 3);
    for c in cameras {
        for key in ["received", "published", "dropped", "in_flight", "balanced"] {
            assert!(!c["frames"][key].is_null(), "{key} missing in {c}");
        }
        assert!(c["latency_ms"]["end_to_end"]["p99"].is_number(), "{c}");
    }
    // The left camera is the raw one.
    assert_eq!(r.cameras[1].topic, "/camera/left/image_raw");
    let topics = output_topics(&out);
    for name in ["front", "left", "cam2"] {
        let t = format!("/{name}/redline/detections");
        assert!(topics.contains(&t), "{t} not in {topics:?}");
        let a = format!("/{name}/redline/alarm");
        assert!(topics.contains(&a), "{a} not in {topics:?}");
    }
    // stdout and HTML name each camera.
    let summary = redline::report::render_summary(&r);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for name in ["front", "left", "cam2"] {
        assert!(
            summary.lines().any(|l| l.trim_start().starts_with(name)),
            "{name}: {summary}"
        );
        assert!(html.contains(&format!("<td>{name}</td>")), "{name} in HTML");
    }
}

#[test]
fn a_sqlite3_recording_replays_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bag) = make_bag(dir.path(), "sqlite3", 2) else {
        return;
    };
    let r = replay(&bag, config(), &[], &dir.path().join("out"));
    assert_every_camera_balanced(&r, &["front", "left"]);
}

#[test]
fn a_silence_on_one_camera_is_that_cameras_alarm_only() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bag) = make_bag(dir.path(), "mcap", 2) else {
        return;
    };
    let mut config = config();
    config.monitor.sensor_timeout_ms = 300.0;
    let r = replay(
        &bag,
        config,
        &["sensor:silence=600ms,at=300ms,camera=left"],
        &dir.path().join("out"),
    );
    let stale: Vec<&str> = r
        .alarms
        .iter()
        .filter(|a| a.to == "STALE")
        .map(|a| a.monitor.as_str())
        .collect();
    assert_eq!(stale, vec!["left"], "{:?}", r.alarms);
    // The front camera got all its frames; left lost those recorded in the silence.
    assert_eq!(r.cameras[0].frames.received, FRAMES as u64);
    assert!(r.cameras[1].frames.received < FRAMES as u64);
    assert!(r.cameras[1].frames.received >= FRAMES as u64 - 7);
}

#[test]
fn a_fault_naming_an_unknown_camera_is_refused_with_the_cameras_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bag) = make_bag(dir.path(), "mcap", 2) else {
        return;
    };
    let opts = ReplayOptions {
        bag,
        config: config(),
        config_origin: "test".into(),
        out_dir: dir.path().join("out"),
        cameras: Vec::new(),
        clock: ReplayClock::Wall,
        pacing: Pacing::MaxSpeed,
        faults: vec![FaultSpec::parse("sensor:silence=1s,at=0s,camera=rear").unwrap()],
        gates: Gates::default(),
        progress: false,
    };
    let err = run(&opts).unwrap_err().to_string();
    assert_eq!(
        err,
        "--fault sensor:silence=1s,at=0ns,camera=rear: no camera named \"rear\" in this replay (cameras: front, left)"
    );
}
