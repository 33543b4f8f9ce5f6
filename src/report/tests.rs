use std::collections::BTreeMap;

use super::*;

fn sample() -> ReplayReport {
    let mut frames = FrameCounts {
        received: 10,
        published: 7,
        in_flight: 0,
        balanced: true,
        ..Default::default()
    };
    frames.dropped.insert("missed_at".into(), 2);
    frames.dropped.insert("superseded".into(), 1);
    frames.dropped_detail.insert("missed_at:infer".into(), 2);
    frames.dropped_detail.insert("superseded".into(), 1);
    ReplayReport {
        bag: "bags/<drive>".into(),
        topic: "/cam".into(),
        model: "m.onnx".into(),
        backend: "tract".into(),
        pacing: "recorded".into(),
        frames,
        deadline: DeadlineSection { budget_ms: 100.0 },
        alarms: vec![AlarmEntry {
            monitor: "camera".into(),
            t_ms: 500.0,
            from: "OK".into(),
            to: "ERROR".into(),
            cause: "consecutive_misses".into(),
            stage: Some("infer".into()),
        }],
        final_level: "ERROR".into(),
        timeline: vec![
            FrameRecord {
                camera: "camera".into(),
                seq: Some(0),
                t_ms: 0.0,
                latency_ms: Some(40.0),
                outcome: "published".into(),
                detections: 2,
            },
            FrameRecord {
                camera: "camera".into(),
                seq: Some(1),
                t_ms: 100.0,
                latency_ms: None,
                outcome: "missed_at:infer".into(),
                detections: 0,
            },
        ],
        gates: vec![GateResult::at_most("miss_ratio", 0.1, Some(0.2))],
        ..Default::default()
    }
    .judged()
}

/// A run of 45 frames that published nothing: every frame missed at infer, which took 147 ms
/// against a 100 ms budget, and the monitor ended at ERROR.
fn nothing_published() -> ReplayReport {
    let mut frames = FrameCounts {
        received: 45,
        balanced: true,
        ..Default::default()
    };
    frames.dropped.insert("missed_at".into(), 5);
    frames.dropped.insert("predicted_miss".into(), 40);
    frames.dropped_detail.insert("missed_at:infer".into(), 5);
    frames
        .dropped_detail
        .insert("predicted_miss:infer".into(), 40);
    let ran = |ms: f64| Percentiles::from_ms(5, [ms, ms, ms, ms, ms]);
    let mut stages = BTreeMap::new();
    stages.insert("1.ingest".into(), ran(0.05));
    stages.insert("2.preprocess".into(), ran(3.2));
    stages.insert("3.infer".into(), ran(147.0));
    stages.insert("4.decode".into(), Percentiles::from_ms(0, [0.0; 5]));
    stages.insert("5.publish".into(), Percentiles::from_ms(0, [0.0; 5]));
    ReplayReport {
        bag: "data/sample".into(),
        frames,
        latency_ms: LatencySection {
            end_to_end: Percentiles::from_ms(0, [0.0; 5]),
            stages,
        },
        deadline: DeadlineSection { budget_ms: 100.0 },
        alarms: vec![AlarmEntry {
            t_ms: 500.0,
            monitor: "camera".into(),
            from: "WARN".into(),
            to: "ERROR".into(),
            cause: "consecutive_misses".into(),
            stage: Some("infer".into()),
        }],
        final_level: "ERROR".into(),
        ..Default::default()
    }
}

#[test]
fn miss_ratio_counts_only_deadline_drops() {
    assert!((sample().frames.miss_ratio().unwrap() - 0.2).abs() < 1e-12);
    assert_eq!(sample().frames.dropped_total(), 3);
    assert_eq!(
        FrameCounts::default().miss_ratio(),
        None,
        "no frame, no ratio"
    );
}

#[test]
fn json_has_the_documented_keys() {
    let v: serde_json::Value = serde_json::to_value(sample()).unwrap();
    assert_eq!(v["frames"]["received"], 10);
    assert_eq!(v["frames"]["dropped"]["missed_at"], 2);
    assert_eq!(v["deadline"]["budget_ms"], 100.0);
    assert_eq!(v["alarms"][0]["stage"], "infer");
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_ms"]["end_to_end"].get(key).is_some(), "{key}");
    }
    assert!(v.get("errors").is_some());
}

#[test]
fn html_is_self_contained_and_escapes_text() {
    let html = render_html(&sample());
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("bags/&lt;drive&gt;"));
    assert!(!html.contains("<drive>"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("FAIL"));
    assert!(html.contains("missed_at:infer"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
}

#[test]
fn summary_shows_accounting_alarms_and_failed_gates() {
    let s = render_summary(&sample());
    assert!(
        s.contains("10 received = 7 published + 3 dropped + 0 in flight [balanced]"),
        "{s}"
    );
    assert!(
        s.contains("OK    -> ERROR  consecutive_misses (stage infer)"),
        "{s}"
    );
    assert!(s.contains("miss_ratio 0.2 > 0.1: FAIL"), "{s}");
    assert!(
        s.contains("verdict: FAIL\n  - gate miss_ratio 0.2 > 0.1: FAIL"),
        "{s}"
    );
    assert!(!sample().passed());
}

#[test]
fn nothing_published_fails_with_the_reason_and_never_shows_pass() {
    let r = nothing_published().judged();
    assert!(!r.passed());
    assert_eq!(r.verdict.badge, "FAIL");
    assert!(
        r.verdict
            .reasons
            .contains(&"nothing was published (0 of 45 frames)".to_string()),
        "{:?}",
        r.verdict.reasons
    );
    let html = render_html(&r);
    assert!(
        !html.contains("PASS"),
        "a PASS on a run that published nothing"
    );
    assert!(html.contains("<span class=\"verdict fail\">FAIL</span>"));
    assert!(html.contains("nothing was published (0 of 45 frames)"));
    // Even with a gate that would pass on its own numbers.
    let mut gated = nothing_published();
    gated.gates = vec![GateResult::at_most("miss_ratio", 1.0, Some(1.0))];
    let gated = gated.judged();
    assert!(!gated.passed());
    assert!(!render_html(&gated).contains("PASS"));
}

#[test]
fn most_frames_missing_is_explained_by_the_stage_over_budget() {
    let r = nothing_published().judged();
    assert_eq!(
        r.verdict.explanation.as_deref(),
        Some(
            "every frame missed: infer p50 147 ms > budget 100 ms; raise deadline.budget_ms or \
             use a faster backend (TensorRT on a GPU) or a smaller model"
        )
    );
    let s = render_summary(&r);
    assert!(
        s.contains("why: every frame missed: infer p50 147 ms"),
        "{s}"
    );
    assert!(render_html(&r).contains("every frame missed: infer p50 147 ms"));
    // A run where few frames missed has nothing to explain.
    assert_eq!(sample().verdict.explanation, None);
}

#[test]
fn a_gate_over_no_data_fails() {
    let gate = GateResult::at_most("p99_ms", 80.0, None);
    assert!(!gate.passed);
    assert_eq!(gate.describe(), "p99_ms: no data — fail");
    let mut r = nothing_published();
    r.gates = vec![GateResult::at_most(
        "p99_ms",
        80.0,
        r.latency_ms.end_to_end.p99,
    )];
    let r = r.judged();
    assert!(r
        .verdict
        .reasons
        .contains(&"gate p99_ms: no data — fail".into()));
    assert!(render_summary(&r).contains("p99_ms: no data — fail"));
    let passing = GateResult::at_most("p99_ms", 80.0, Some(63.25));
    assert!(passing.passed);
    assert_eq!(passing.describe(), "p99_ms 63.25 ≤ 80: pass");
}

#[test]
fn empty_statistics_are_a_dash_for_people_and_null_in_json() {
    let r = nothing_published().judged();
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert!(v["latency_ms"]["end_to_end"]["p99"].is_null(), "{v}");
    assert!(v["latency_ms"]["stages"]["4.decode"]["p50"].is_null());
    assert_eq!(v["latency_ms"]["stages"]["3.infer"]["p50"], 147.0);
    assert_eq!(v["latency_ms"]["end_to_end"]["count"], 0);
    let s = render_summary(&r);
    let e2e = s.lines().find(|l| l.starts_with("end to end")).unwrap();
    assert_eq!(e2e.matches('—').count(), 5, "{e2e}");
    assert!(!e2e.contains("0.00"), "{e2e}");
    let html = render_html(&r);
    assert!(
        !html.contains("0.00 ms"),
        "an empty statistic shown as 0.00 ms"
    );
    assert!(html.contains("<td>end to end</td><td>0</td><td>—</td>"));
    // No frame at all: the miss ratio is unknown, not 0 %.
    let empty = ReplayReport::default().judged();
    assert!(render_summary(&empty).contains("deadline miss ratio —"));
    assert_eq!(
        empty.verdict.reasons,
        vec!["no frame was received".to_string()]
    );
}

/// The sample without its gate, ending at `level`.
fn ungated(level: &str) -> ReplayReport {
    let mut r = sample();
    r.gates.clear();
    r.final_level = level.into();
    r.judged()
}

#[test]
fn without_gates_the_badge_is_the_final_level_and_miss_ratio() {
    let ok = ungated("OK");
    assert!(ok.passed(), "{:?}", ok.verdict);
    assert_eq!(ok.verdict.badge, "OK · 20.0 % missed");
    assert!(render_html(&ok).contains("<span class=\"verdict pass\">OK · 20.0 % missed</span>"));
    let warn = ungated("WARN");
    assert!(warn.passed());
    assert!(render_html(&warn).contains("verdict warn"));
    let error = ungated("ERROR");
    assert!(!error.passed());
    assert_eq!(error.verdict.badge, "ERROR · 20.0 % missed");
    assert_eq!(
        error.verdict.reasons,
        vec!["final level ERROR (consecutive_misses at infer)".to_string()]
    );
}

#[test]
fn an_interrupted_run_says_so_and_does_not_pass() {
    let mut r = ungated("OK");
    r.interrupted = true;
    r.interrupted_by = Some("SIGINT".into());
    let r = r.judged();
    assert!(!r.passed());
    assert_eq!(r.verdict.badge, "INTERRUPTED");
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["interrupted"], true);
    assert!(render_summary(&r).contains("INTERRUPTED by SIGINT: stopped reading after 10 frames"));
}

#[test]
fn summary_says_when_the_input_ended_mid_recovery() {
    let mut r = sample();
    assert!(s_line(&r).ends_with("final level ERROR"), "{}", s_line(&r));
    r.final_level = "WARN".into();
    r.final_recovery = Some("recovering: 7/10 on-time frames to OK when the input ended".into());
    assert!(
        s_line(&r).ends_with(
            "final level WARN (recovering: 7/10 on-time frames to OK when the input ended)"
        ),
        "{}",
        s_line(&r)
    );
}

/// The summary's throughput line (it ends with the final level).
fn s_line(r: &ReplayReport) -> String {
    render_summary(r)
        .lines()
        .find(|l| l.starts_with("throughput"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn writes_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(&sample(), &dir.path().join("out")).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(files.json).unwrap()).unwrap();
    assert_eq!(json["frames"]["published"], 7);
    assert!(std::fs::read_to_string(files.html)
        .unwrap()
        .contains("</html>"));
}

#[test]
fn misses_on_arrival_or_with_cheap_stages_are_explained_too() {
    // Most frames already too old when they arrived: the stamps, not a stage.
    let mut stale = nothing_published();
    stale.frames.dropped.clear();
    stale.frames.dropped.insert("stale_on_arrival".into(), 45);
    let why = Verdict::of(&stale).explanation.unwrap();
    assert_eq!(
        why,
        "every frame missed: 45 frames were older than the budget 100 ms when they arrived \
         (stale_on_arrival); check the camera's stamps and clock, or raise deadline.budget_ms"
    );
    // Cheap stages but most frames missed at infer: a stall, named with its drop reason.
    let mut stalled = nothing_published();
    stalled
        .latency_ms
        .stages
        .insert("3.infer".into(), Percentiles::from_ms(5, [30.0; 5]));
    let why = Verdict::of(&stalled).explanation.unwrap();
    assert!(
        why.starts_with("every frame missed: most as predicted_miss:infer (40)"),
        "{why}"
    );
}

/// The sample as a two-camera run that batched.
fn two_cameras() -> ReplayReport {
    let mut r = sample();
    for (name, published) in [("front", 5), ("left", 2)] {
        let mut frames = r.frames.clone();
        frames.published = published;
        r.cameras.push(CameraReport {
            name: name.into(),
            topic: format!("/{name}/image_raw"),
            budget_ms: 100.0,
            criticality: if name == "front" { 10 } else { 1 },
            frames,
            latency_ms: r.latency_ms.clone(),
            final_level: "OK".into(),
        });
    }
    r.batching = BatchingReport {
        policy: "edf".into(),
        max_batch: 4,
        runs: 5,
        mean_batch: 1.4,
        runs_by_size: BTreeMap::from([(1, 3), (2, 2)]),
        holds: 2,
        hold_ms: Percentiles::from_ms(2, [1.5, 3.0, 3.0, 3.0, 3.0]),
        hold_histogram: vec![
            ("≤1 ms".into(), 0),
            ("≤2 ms".into(), 1),
            ("≤5 ms".into(), 1),
        ],
        probes: 0,
    };
    r.judged()
}

#[test]
fn html_shows_each_camera_and_the_batching_histograms() {
    let html = render_html(&two_cameras());
    assert!(html.contains("<h2>Cameras</h2>"), "no camera table");
    for camera in ["front", "left", "/front/image_raw", "/left/image_raw"] {
        assert!(html.contains(camera), "{camera} missing");
    }
    assert!(html.contains("<h2>Batching</h2>"));
    assert!(html.contains("aria-label=\"batch sizes\""));
    assert!(html.contains(">2 rows<"), "batch-size bar");
    assert!(html.contains("aria-label=\"hold times\""));
    assert!(html.contains(">≤2 ms<"), "hold-time bucket");
    // One camera, one row per run: neither section.
    let single = render_html(&sample());
    assert!(!single.contains("<h2>Cameras</h2>"));
    assert!(!single.contains("<h2>Batching</h2>"));
}
