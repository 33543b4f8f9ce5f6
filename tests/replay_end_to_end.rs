//! `redline replay` end to end on real bags through the real pipeline and the tract backend:
//! faults prove the safety behaviour (an engine stall → misses attributed to infer, ERROR,
//! recovery to OK; sensor silence → STALE; a stamp jump → counted skew/stale drops), accounting
//! balances, nothing is published after its deadline, a truncated bag gives a partial report
//! and an error, and the configured topic is the one replayed.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use redline::replay::{run, FaultSpec, Gates, Pacing, ReplayOptions};
use redline::report::ReplayReport;
use redline::Config;

fn sample_bag() -> PathBuf {
    common::repo().join("data/sample")
}

/// The default config with budgets loose enough for an unoptimised build of our own code.
fn test_config() -> Config {
    let mut c = Config::load(&Config::default_path()).unwrap();
    c.deadline.budget_ms = 400.0;
    c.pipeline.lock_memory = false;
    c.monitor.warn_consecutive_misses = 2;
    c.monitor.error_consecutive_misses = 3;
    c.monitor.window_frames = 10;
    c.monitor.warn_miss_ratio = 0.3;
    c.monitor.error_miss_ratio = 0.6;
    c.monitor.recover_after_on_time = 3;
    c.monitor.sensor_timeout_ms = 600.0;
    c.monitor.output_timeout_ms = 5000.0;
    c
}

/// Replays run one at a time: they are timing tests on a machine with few cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn replay(bag: &Path, config: Config, faults: &[&str], out: &Path) -> ReplayReport {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let opts = ReplayOptions {
        bag: bag.to_path_buf(),
        config,
        config_origin: "test".into(),
        out_dir: out.to_path_buf(),
        cameras: Vec::new(),
        pacing: Pacing::Recorded,
        faults: faults
            .iter()
            .map(|f| FaultSpec::parse(f).unwrap())
            .collect(),
        gates: Gates::default(),
        progress: false,
    };
    let outcome = run(&opts).unwrap();
    assert!(outcome.files.json.is_file() && outcome.files.html.is_file());
    outcome.report
}

fn assert_accounting_and_no_late_results(r: &ReplayReport) {
    let f = &r.frames;
    assert!(f.balanced, "{f:?}");
    assert_eq!(
        f.received,
        f.published + f.dropped_total() + f.in_flight,
        "{f:?}"
    );
    assert_eq!(f.in_flight, 0);
    assert!(
        r.latency_ms.end_to_end.max <= r.deadline.budget_ms,
        "published after the deadline: max {} > budget {}",
        r.latency_ms.end_to_end.max,
        r.deadline.budget_ms
    );
}

#[test]
fn clean_replay_publishes_every_frame_on_time_and_writes_a_recording() {
    let out = tempfile::tempdir().unwrap();
    let r = replay(&sample_bag(), test_config(), &[], out.path());
    assert_accounting_and_no_late_results(&r);
    assert_eq!(r.frames.received, 45);
    assert!(r.frames.published >= 40, "{:?}", r.frames);
    assert_eq!(r.final_level, "OK");
    assert!(
        r.timeline.iter().any(|f| f.detections > 0),
        "the sample has pedestrians"
    );
    assert!(out.path().join("output.mcap").is_file());
    assert!(out.path().join("metadata.yaml").is_file());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["frames"]["received"], 45);
    assert!(
        json["latency_ms"]["stages"]["3.infer"]["p99"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn engine_stall_escalates_to_error_at_infer_and_recovers() {
    let out = tempfile::tempdir().unwrap();
    let r = replay(
        &sample_bag(),
        test_config(),
        &["infer:delay=900ms,frames=8..12"],
        out.path(),
    );
    assert_accounting_and_no_late_results(&r);
    let misses_at_infer: u64 = r
        .frames
        .dropped_detail
        .iter()
        .filter(|(k, _)| k.ends_with(":infer"))
        .map(|(_, n)| n)
        .sum();
    assert!(misses_at_infer >= 2, "{:?}", r.frames.dropped_detail);
    let error = r
        .alarms
        .iter()
        .find(|a| a.to == "ERROR")
        .unwrap_or_else(|| panic!("no ERROR: {:?}", r.alarms));
    assert_eq!(error.stage.as_deref(), Some("infer"), "{:?}", r.alarms);
    assert_eq!(r.final_level, "OK", "did not recover: {:?}", r.alarms);
    assert_eq!(r.alarms.last().map(|a| a.to.as_str()), Some("OK"));
}

#[test]
fn sensor_silence_goes_stale_and_stamp_jumps_are_counted() {
    let out = tempfile::tempdir().unwrap();
    let r = replay(
        &sample_bag(),
        test_config(),
        &[
            "sensor:silence=1500ms,at=1s",
            "stamp:jump=-3s,frame=35",
            "stamp:jump=-30s,frame=38",
        ],
        out.path(),
    );
    assert_accounting_and_no_late_results(&r);
    assert_eq!(r.frames.received, 45 - 15, "15 frames fall in the silence");
    assert!(
        r.alarms
            .iter()
            .any(|a| a.to == "STALE" && a.cause == "sensor_silence"),
        "{:?}",
        r.alarms
    );
    assert_eq!(
        r.frames.dropped.get("stale_on_arrival"),
        Some(&1),
        "{:?}",
        r.frames.dropped
    );
    assert_eq!(
        r.frames.dropped.get("clock_skew"),
        Some(&1),
        "{:?}",
        r.frames.dropped
    );
}

#[test]
fn truncated_bag_gives_a_partial_report_and_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("cut");
    std::fs::create_dir(&bag).unwrap();
    for name in ["metadata.yaml", "sample.mcap"] {
        std::fs::copy(sample_bag().join(name), bag.join(name)).unwrap();
    }
    let file = bag.join("sample.mcap");
    common::truncate_to_half(&file);
    let r = replay(&bag, test_config(), &[], &tmp.path().join("out"));
    assert_accounting_and_no_late_results(&r);
    assert!(
        r.frames.received > 5 && r.frames.received < 45,
        "{:?}",
        r.frames
    );
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].contains("sample.mcap"), "{}", r.errors[0]);
    assert!(!r.passed());
}

#[test]
fn raw_sqlite_bag_replays_with_the_topic_it_has() {
    let Some(bag) = common::shared("data/bags/vtest_bgr8_sqlite") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let r = replay(&bag, test_config(), &[], out.path());
    assert_accounting_and_no_late_results(&r);
    assert_eq!(r.topic, "/camera/front/image_raw");
    assert_eq!(r.frames.received, 20);
    assert!(
        r.notes.iter().any(|n| n.contains("not in the bag")),
        "{:?}",
        r.notes
    );
}
