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
            t_ms: 500.0,
            from: "OK".into(),
            to: "ERROR".into(),
            cause: "consecutive_misses".into(),
            stage: Some("infer".into()),
        }],
        final_level: "ERROR".into(),
        timeline: vec![
            FrameRecord {
                t_ms: 0.0,
                latency_ms: Some(40.0),
                outcome: "published".into(),
                detections: 2,
            },
            FrameRecord {
                t_ms: 100.0,
                latency_ms: None,
                outcome: "missed_at:infer".into(),
                detections: 0,
            },
        ],
        gates: vec![GateResult {
            name: "miss_ratio".into(),
            limit: 0.1,
            actual: 0.2,
            passed: false,
        }],
        ..Default::default()
    }
}

#[test]
fn miss_ratio_counts_only_deadline_drops() {
    assert!((sample().frames.miss_ratio() - 0.2).abs() < 1e-12);
    assert_eq!(sample().frames.dropped_total(), 3);
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
    assert!(s.contains("FAIL"), "{s}");
    assert!(!sample().passed());
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
