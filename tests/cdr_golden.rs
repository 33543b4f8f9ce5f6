//! Our CDR writers against golden bytes from an independent serialiser (PyPI `rosbags`,
//! tests/golden/make_golden.py): byte-for-byte encode, decode through the image readers, and
//! no reallocation once the buffer is large enough.

use redline::frame::{Detection, Stamp};
use redline::msgs::{
    write_compressed_image, write_detection2d_array, write_diagnostic_array,
    write_diagnostic_status, write_image, CompressedImageMsg, DiagnosticStatusView, ImageMsg,
};

const STAMP: Stamp = Stamp::new(1_700_000_000, 123_456_789);
const FRAME: &str = "camera_front";
const CLASS_NAMES: [&str; 3] = ["person", "bicycle", "car"];

fn golden(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn detections() -> [Detection; 3] {
    [
        Detection {
            class_id: 0,
            score: 0.75,
            bbox: [10.5, 20.25, 110.5, 220.75],
        },
        Detection {
            class_id: 2,
            score: 0.5,
            bbox: [0.0, 0.0, 640.0, 480.0],
        },
        Detection {
            class_id: 7,
            score: 0.875,
            bbox: [300.0, 100.5, 301.0, 102.5],
        },
    ]
}

fn assert_same(name: &str, ours: &[u8]) {
    let theirs = golden(name);
    if let Some(i) = ours.iter().zip(&theirs).position(|(a, b)| a != b) {
        panic!(
            "{name}: first difference at byte {i}: ours {:#04x}, golden {:#04x}",
            ours[i], theirs[i]
        );
    }
    assert_eq!(ours.len(), theirs.len(), "{name}: length differs");
}

#[test]
fn image_encodes_and_decodes_like_rosbags() {
    let pixels: Vec<u8> = (0..18).collect();
    let mut buf = Vec::new();
    write_image(&mut buf, STAMP, FRAME, 2, 3, "rgb8", 9, &pixels);
    assert_same("image_rgb8_3x2", &buf);

    let bytes = golden("image_rgb8_3x2");
    let msg = ImageMsg::parse(&bytes).expect("golden image decodes");
    assert_eq!(msg.header.stamp, STAMP);
    assert_eq!(msg.header.frame_id, FRAME);
    assert_eq!((msg.height, msg.width, msg.step), (2, 3, 9));
    assert_eq!(msg.encoding, "rgb8");
    assert_eq!(msg.is_bigendian, 0);
    assert_eq!(msg.data, &pixels[..]);
}

#[test]
fn compressed_image_encodes_and_decodes_like_rosbags() {
    let jpeg = b"\xff\xd8\xff\xe0fake\xff\xd9";
    let mut buf = Vec::new();
    write_compressed_image(&mut buf, STAMP, FRAME, "jpeg", jpeg);
    assert_same("compressed_image_jpeg", &buf);

    let bytes = golden("compressed_image_jpeg");
    let msg = CompressedImageMsg::parse(&bytes).expect("golden compressed image decodes");
    assert_eq!(msg.header.stamp, STAMP);
    assert_eq!(msg.header.frame_id, FRAME);
    assert_eq!(msg.format, "jpeg");
    assert_eq!(msg.data, jpeg);
}

#[test]
fn detection2d_arrays_match_rosbags() {
    let all = detections();
    let mut buf = Vec::new();
    for n in [0, 1, 3] {
        write_detection2d_array(&mut buf, STAMP, FRAME, &all[..n], &CLASS_NAMES);
        assert_same(&format!("detection2d_array_{n}"), &buf);
    }
}

#[test]
fn diagnostics_match_rosbags() {
    let values = [("miss_ratio", "0.000"), ("p99_ms", "12.5")];
    let statuses = [
        DiagnosticStatusView {
            level: 0,
            name: "redline: deadline",
            message: "ok",
            hardware_id: "redline",
            values: &values,
        },
        DiagnosticStatusView {
            level: 2,
            name: "redline: engine",
            message: "stalled",
            hardware_id: "gpu0",
            values: &[],
        },
    ];
    let mut buf = Vec::new();
    write_diagnostic_array(&mut buf, STAMP, FRAME, &statuses);
    assert_same("diagnostic_array", &buf);

    let alarm = DiagnosticStatusView {
        level: 2,
        name: "redline/alarm",
        message: "deadline miss ratio 0.12 > 0.05",
        hardware_id: "redline",
        values: &[("cause", "miss_ratio")],
    };
    write_diagnostic_status(&mut buf, &alarm);
    assert_same("diagnostic_status_alarm", &buf);
}

#[test]
fn rewriting_into_a_grown_buffer_does_not_reallocate() {
    let all = detections();
    let mut buf = Vec::new();
    write_detection2d_array(&mut buf, STAMP, FRAME, &all, &CLASS_NAMES);
    let (ptr, cap) = (buf.as_ptr(), buf.capacity());
    for n in [0, 1, 3, 2, 3] {
        write_detection2d_array(&mut buf, STAMP, FRAME, &all[..n], &CLASS_NAMES);
        assert_eq!(
            (buf.as_ptr(), buf.capacity()),
            (ptr, cap),
            "reallocated at n = {n}"
        );
    }
}
