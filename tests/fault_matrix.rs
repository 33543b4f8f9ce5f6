//! The fault matrix: each timing fault replayed through the real stages on the bundled sample
//! (45 JPEG frames at 10 Hz, SSDLite on tract) with the virtual clock, so the outcome is the
//! same on every machine however busy; for each row, the drops (reason and stage) and the
//! monitor transitions the report must show. Also: the virtual clock is deterministic (same
//! bag, config and seed → the same `report.json`, byte for byte) and its seed matters.
//!
//! Stage costs are the shipped `virtual_clock` defaults (infer 15 ms + 30 ms per row ±10 %,
//! preprocess 3 ms ±10 %), against the shipped 100 ms budget.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use redline::replay::virtual_costs::costs_from_config;
use redline::replay::{run, FaultSpec, Gates, Pacing, ReplayClock, ReplayOptions};
use redline::report::ReplayReport;
use redline::Config;

fn sample_bag() -> PathBuf {
    common::repo().join("data/sample")
}

fn config() -> Config {
    let mut c = Config::load(&Config::default_path()).unwrap();
    c.pipeline.lock_memory = false;
    c
}

fn replay_with(config: Config, pacing: Pacing, faults: &[&str]) -> ReplayReport {
    let dir = tempfile::tempdir().unwrap();
    let costs = costs_from_config(&config, None);
    let opts = ReplayOptions {
        bag: sample_bag(),
        config,
        config_origin: "test".into(),
        out_dir: dir.path().to_path_buf(),
        cameras: Vec::new(),
        clock: ReplayClock::Virtual(Box::new(costs)),
        pacing,
        faults: faults
            .iter()
            .map(|f| FaultSpec::parse(f).unwrap())
            .collect(),
        gates: Gates::default(),
        progress: false,
    };
    let r = run(&opts).unwrap().report;
    assert!(r.frames.balanced, "{:?}", r.frames);
    assert_eq!(r.frames.in_flight, 0);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r
}

fn replay(faults: &[&str]) -> ReplayReport {
    replay_with(config(), Pacing::Recorded, faults)
}

/// `(from, to, cause, stage)` of every alarm transition.
fn transitions(r: &ReplayReport) -> Vec<(String, String, String, Option<String>)> {
    r.alarms
        .iter()
        .map(|a| {
            (
                a.from.clone(),
                a.to.clone(),
                a.cause.clone(),
                a.stage.clone(),
            )
        })
        .collect()
}

/// The levels the monitor went through, in order, starting at OK.
fn levels(r: &ReplayReport) -> Vec<String> {
    std::iter::once("OK".to_string())
        .chain(r.alarms.iter().map(|a| a.to.clone()))
        .collect()
}

fn dropped(r: &ReplayReport, detail: &str) -> u64 {
    r.frames.dropped_detail.get(detail).copied().unwrap_or(0)
}

/// Nothing was published after its deadline.
fn assert_never_late(r: &ReplayReport) {
    for f in &r.timeline {
        if let Some(ms) = f.latency_ms {
            assert!(
                ms <= r.deadline.budget_ms,
                "frame {:?} published at {ms} ms",
                f.seq
            );
        }
    }
}

#[test]
fn clean_run_drops_nothing_and_stays_ok() {
    let r = replay(&[]);
    assert_eq!(r.frames.received, 45);
    assert_eq!(r.frames.published, 45, "{:?}", r.frames);
    assert!(r.alarms.is_empty(), "{:?}", r.alarms);
    assert_eq!(r.final_level, "OK");
    assert_never_late(&r);
}

#[test]
fn an_engine_stall_shorter_than_the_budget_costs_nothing() {
    // 45 ms + 40 ms fits the 100 ms budget with preprocessing and decode.
    let r = replay(&["infer:delay=40ms,frames=10..20"]);
    assert_eq!(r.frames.published, 45, "{:?}", r.frames);
    assert!(r.alarms.is_empty(), "{:?}", r.alarms);
    assert_never_late(&r);
}

#[test]
fn an_engine_stall_longer_than_the_budget_drops_at_infer_escalates_and_recovers() {
    let r = replay(&["infer:delay=300ms,frames=10..20"]);
    // Every loss is at infer (missed there or predicted to miss there) or a frame superseded
    // while the engine was stalled.
    for (detail, n) in &r.frames.dropped_detail {
        assert!(
            detail.ends_with(":infer") || detail == "superseded",
            "{detail}: {n}"
        );
    }
    assert!(dropped(&r, "missed_at:infer") >= 1, "{:?}", r.frames);
    assert_eq!(
        levels(&r),
        ["OK", "WARN", "ERROR", "WARN", "OK"],
        "{:?}",
        transitions(&r)
    );
    let error = r.alarms.iter().find(|a| a.to == "ERROR").unwrap();
    assert_eq!(error.stage.as_deref(), Some("infer"), "{error:?}");
    assert_eq!(r.final_level, "OK");
    assert_never_late(&r);
}

#[test]
fn engine_errors_drop_exactly_those_frames() {
    let r = replay(&["infer:error,frames=10..13"]);
    assert_eq!(
        r.frames.dropped.get("engine_error"),
        Some(&3),
        "{:?}",
        r.frames
    );
    assert_eq!(r.frames.published, 42);
    for seq in 10..13 {
        let f = r.timeline.iter().find(|f| f.seq == Some(seq)).unwrap();
        assert!(f.outcome.starts_with("engine_error"), "{f:?}");
    }
    // Every escalation names infer (recovery names no stage).
    for a in r.alarms.iter().filter(|a| a.cause != "recovered") {
        assert_eq!(a.stage.as_deref(), Some("infer"), "{a:?}");
    }
    assert!(
        r.alarms.iter().any(|a| a.to != "OK"),
        "three engine errors raised nothing"
    );
    assert_eq!(r.final_level, "OK");
}

#[test]
fn a_burst_faster_than_the_camera_drops_the_stale_frames_at_ingest() {
    // `sensor:burst=8,at=1s` holds the frames recorded from 1 s back and delivers the eight
    // at once, as a transport that stalled and then flushed its queue would: 700 ms without a
    // frame (longer than the 500 ms sensor timeout: STALE), then frames older than
    // `deadline.max_age_ms` (stale on arrival, never processed: consecutive misses at ingest,
    // ERROR), then on-time frames again (recovery).
    let r = replay(&["sensor:burst=8,at=1s"]);
    let stale = r
        .frames
        .dropped
        .get("stale_on_arrival")
        .copied()
        .unwrap_or(0);
    let superseded = r.frames.dropped.get("superseded").copied().unwrap_or(0);
    assert!(stale >= 5, "{:?}", r.frames);
    assert_eq!(
        r.frames.dropped_total(),
        stale + superseded,
        "{:?}",
        r.frames
    );
    assert_eq!(
        transitions(&r),
        [
            ("OK", "STALE", "sensor_silence", None),
            ("STALE", "WARN", "sensor_resumed", None),
            ("WARN", "ERROR", "consecutive_misses", Some("ingest")),
            ("ERROR", "WARN", "recovered", None),
            ("WARN", "OK", "recovered", None),
        ]
        .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.map(String::from)))
    );
    assert_never_late(&r);
}

#[test]
fn a_stamp_jumping_back_is_stale_on_arrival() {
    let r = replay(&["stamp:jump=-3s,frame=10"]);
    assert_eq!(
        r.frames.dropped.get("stale_on_arrival"),
        Some(&1),
        "{:?}",
        r.frames
    );
    assert_eq!(r.frames.published, 44);
    let f = r.timeline.iter().find(|f| f.seq == Some(10)).unwrap();
    assert_eq!(f.outcome, "stale_on_arrival", "{f:?}");
    assert!(
        levels(&r).iter().all(|l| l == "OK" || l == "WARN"),
        "{:?}",
        r.alarms
    );
}

#[test]
fn a_stamp_in_the_future_is_clock_skew() {
    let r = replay(&["stamp:jump=3s,frame=10"]);
    assert_eq!(
        r.frames.dropped.get("clock_skew"),
        Some(&1),
        "{:?}",
        r.frames
    );
    let f = r.timeline.iter().find(|f| f.seq == Some(10)).unwrap();
    assert_eq!(f.outcome, "clock_skew", "{f:?}");
    assert_eq!(r.frames.published, 44);
}

#[test]
fn sensor_silence_goes_stale_and_comes_back() {
    let r = replay(&["sensor:silence=1500ms,at=1s"]);
    assert_eq!(r.frames.received, 45 - 15, "{:?}", r.frames);
    assert_eq!(r.frames.published, 30);
    let t = transitions(&r);
    assert_eq!(
        t.first().map(|x| (x.1.as_str(), x.2.as_str())),
        Some(("STALE", "sensor_silence")),
        "{t:?}"
    );
    assert_eq!(r.final_level, "OK", "{t:?}");
}

#[test]
fn a_stall_that_silences_the_output_is_an_output_silence_error() {
    let mut config = config();
    config.monitor.output_timeout_ms = 1000.0;
    let r = replay_with(
        config,
        Pacing::Recorded,
        &["infer:delay=1500ms,frames=10..11"],
    );
    let error = r.alarms.iter().find(|a| a.to == "ERROR").expect("ERROR");
    assert_eq!(error.cause, "output_silence", "{:?}", r.alarms);
    assert_eq!(r.final_level, "OK", "{:?}", r.alarms);
    assert_never_late(&r);
}

#[test]
fn one_slow_frame_never_escalates_past_warn() {
    let r = replay_with(
        config(),
        Pacing::Rate(0.5),
        &["infer:delay=60ms,frames=10..11"],
    );
    assert!(
        levels(&r).iter().all(|l| l == "OK" || l == "WARN"),
        "{:?}",
        r.alarms
    );
    assert!(r.frames.dropped_total() <= 1, "{:?}", r.frames);
}

/// `redline replay --clock virtual` through the binary, run in `dir` into `dir/out` (the same
/// relative name each time: the report names its output directory).
fn replay_cli(dir: &Path, seed: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_redline"))
        .arg("replay")
        .arg(sample_bag())
        .args(["--clock", "virtual", "--seed", seed, "--out", "out"])
        .args(["--fault", "infer:delay=300ms,frames=10..20"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        status.status.success() || status.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn the_same_bag_config_and_seed_give_the_same_report_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    replay_cli(&a, "7");
    replay_cli(&b, "7");
    replay_cli(&c, "8");
    let read = |d: &Path| std::fs::read(d.join("out/report.json")).unwrap();
    assert!(read(&a) == read(&b), "two runs with seed 7 differ");
    assert!(read(&a) != read(&c), "seeds 7 and 8 gave the same report");
    let json: serde_json::Value = serde_json::from_slice(&read(&a)).unwrap();
    assert_eq!(json["clock"], "virtual");
}
