//! Our rosbag2 MCAP output read back by independent readers: `tools/read_mcap.py` (PyPI
//! `rosbags` AnyReader and the `mcap` package with `mcap-ros2-support`, run from `.venv`, made by
//! `scripts/python-env.sh`). Checks topic names, types, counts and decoded field values.

use std::path::PathBuf;
use std::process::Command;

use redline::bag::{BagWriter, Durability, RosType};
use redline::frame::{Detection, Stamp};
use redline::msgs::{
    write_compressed_image, write_detection2d_array, write_diagnostic_array,
    write_diagnostic_status, write_image, DiagnosticStatusView,
};
use serde_json::{json, Value};

const CLASS_NAMES: [&str; 2] = ["person", "car"];

fn python() -> Option<PathBuf> {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if py.exists() {
        return Some(py);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing: run scripts/python-env.sh first",
            py.display()
        );
    }
    eprintln!(
        "SKIPPED: {} is missing (run scripts/python-env.sh)",
        py.display()
    );
    None
}

fn detection(i: u32) -> Detection {
    let x = 10.0 * i as f32;
    Detection {
        class_id: i % 2,
        score: 0.5 + 0.125 * (i % 4) as f32,
        bbox: [x, 20.0, x + 40.0, 100.0],
    }
}

/// Writes the bag; returns the directory.
fn write_bag(dir: &std::path::Path) -> PathBuf {
    let mut bag = BagWriter::create(dir).expect("create bag");
    let dets = bag
        .add_topic(
            "/redline/detections",
            RosType::Detection2DArray,
            Durability::Volatile,
        )
        .expect("topic");
    let diags = bag
        .add_topic(
            "/diagnostics",
            RosType::DiagnosticArray,
            Durability::Volatile,
        )
        .expect("topic");
    let alarm = bag
        .add_topic(
            "/redline/alarm",
            RosType::DiagnosticStatus,
            Durability::TransientLocal,
        )
        .expect("topic");
    let image = bag
        .add_topic("/camera/image", RosType::Image, Durability::Volatile)
        .expect("topic");
    let jpeg = bag
        .add_topic(
            "/camera/image/compressed",
            RosType::CompressedImage,
            Durability::Volatile,
        )
        .expect("topic");

    let base = 1_700_000_000_000_000_000u64;
    let mut buf = Vec::new();
    let all: Vec<Detection> = (0..4).map(detection).collect();
    for i in 0..5u32 {
        let stamp = Stamp::new(1_700_000_000, i * 100_000_000);
        write_detection2d_array(&mut buf, stamp, "cam", &all[..i as usize % 5], &CLASS_NAMES);
        bag.write(dets, base + u64::from(i) * 100_000_000, &buf)
            .expect("write");
    }
    for level in [0u8, 1] {
        let status = DiagnosticStatusView {
            level,
            name: "redline: deadline",
            message: if level == 0 { "ok" } else { "misses" },
            hardware_id: "redline",
            values: &[("miss_ratio", "0.02")],
        };
        write_diagnostic_array(&mut buf, Stamp::new(1_700_000_000, 0), "", &[status]);
        bag.write(diags, base + u64::from(level), &buf)
            .expect("write");
    }
    let alarm_status = DiagnosticStatusView {
        level: 2,
        name: "redline/alarm",
        message: "deadline misses",
        hardware_id: "redline",
        values: &[],
    };
    write_diagnostic_status(&mut buf, &alarm_status);
    bag.write(alarm, base + 250_000_000, &buf).expect("write");
    let pixels = vec![7u8; 4 * 3 * 3];
    write_image(
        &mut buf,
        Stamp::new(1_700_000_000, 5),
        "cam",
        3,
        4,
        "rgb8",
        12,
        &pixels,
    );
    bag.write(image, base, &buf).expect("write");
    write_compressed_image(
        &mut buf,
        Stamp::new(1_700_000_000, 6),
        "cam",
        "jpeg",
        &[1, 2, 3],
    );
    bag.write(jpeg, base + 400_000_000, &buf).expect("write");
    assert_eq!(bag.count(dets), 5);
    bag.finish().expect("finish")
}

#[test]
fn independent_readers_decode_our_bag() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = write_bag(&tmp.path().join("out_bag"));

    let yaml = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata.yaml");
    assert!(yaml.contains("version: 5"), "{yaml}");
    assert!(dir.join("out_bag_0.mcap").exists());

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/read_mcap.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("run read_mcap.py");
    assert!(
        out.status.success(),
        "read_mcap.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON from read_mcap.py");
    assert_eq!(
        report["metadata"],
        json!({"version": 5, "message_count": 10})
    );

    for reader in ["rosbags", "mcap"] {
        let topics = &report[reader];
        let expect = [
            ("/redline/detections", "vision_msgs/msg/Detection2DArray", 5),
            ("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray", 2),
            ("/redline/alarm", "diagnostic_msgs/msg/DiagnosticStatus", 1),
            ("/camera/image", "sensor_msgs/msg/Image", 1),
            (
                "/camera/image/compressed",
                "sensor_msgs/msg/CompressedImage",
                1,
            ),
        ];
        assert_eq!(
            topics.as_object().map(|o| o.len()),
            Some(expect.len()),
            "{reader}: {topics}"
        );
        for (name, ty, count) in expect {
            assert_eq!(topics[name]["type"], ty, "{reader} {name}");
            assert_eq!(topics[name]["count"], count, "{reader} {name}");
        }

        let dets = &topics["/redline/detections"]["messages"];
        for i in 0..5usize {
            let msg = &dets[i];
            assert_eq!(
                msg["stamp"],
                json!([1_700_000_000, i * 100_000_000]),
                "{reader}"
            );
            assert_eq!(msg["frame_id"], "cam");
            let got = msg["detections"].as_array().expect("detections");
            assert_eq!(got.len(), i % 5, "{reader} message {i}");
            for (k, d) in got.iter().enumerate() {
                let want = detection(k as u32);
                let (cx, cy, w, h) = want.center_size();
                assert_eq!(
                    d,
                    &json!([
                        CLASS_NAMES[want.class_id as usize],
                        want.score,
                        cx,
                        cy,
                        w,
                        h
                    ]),
                    "{reader} message {i} detection {k}"
                );
            }
        }
        let diag = &topics["/diagnostics"]["messages"];
        assert_eq!(
            diag[1]["status"],
            json!([[
                1,
                "redline: deadline",
                "misses",
                "redline",
                [["miss_ratio", "0.02"]]
            ]])
        );
        assert_eq!(
            topics["/redline/alarm"]["messages"][0]["status"],
            json!([2, "redline/alarm", "deadline misses", "redline", []])
        );
        assert_eq!(
            topics["/camera/image"]["messages"][0],
            json!({"stamp": [1_700_000_000, 5], "height": 3, "width": 4, "encoding": "rgb8", "len": 36})
        );
        assert_eq!(
            topics["/camera/image/compressed"]["messages"][0],
            json!({"stamp": [1_700_000_000, 6], "format": "jpeg", "len": 3})
        );
    }
}

#[test]
fn create_under_a_file_fails_naming_the_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("not_a_dir");
    std::fs::write(&file, b"x").expect("write");
    let err = BagWriter::create(file.join("bag"))
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("not_a_dir"), "{err}");
}

#[test]
fn schemas_carry_full_definitions_with_dependencies() {
    let def = RosType::Detection2DArray.definition();
    assert!(def.starts_with("std_msgs/Header header\nvision_msgs/Detection2D[] detections\n"));
    for dep in [
        "MSG: std_msgs/Header",
        "MSG: builtin_interfaces/Time",
        "MSG: vision_msgs/Detection2D",
        "MSG: vision_msgs/ObjectHypothesisWithPose",
        "MSG: geometry_msgs/PoseWithCovariance",
        "MSG: vision_msgs/BoundingBox2D",
        "MSG: vision_msgs/Point2D",
    ] {
        assert!(def.contains(&format!("\n{dep}\n")), "missing {dep}");
    }
    assert!(RosType::DiagnosticStatus
        .definition()
        .contains("MSG: diagnostic_msgs/KeyValue"));
}
