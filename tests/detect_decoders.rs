//! Decoders on hand-built output tensors with known boxes: grid math, thresholds, NMS
//! (per-class and agnostic), top-k, inverse letterbox, the non-finite policy, and decoding one
//! row (frame) of a batch at a time.

mod common;

use common::decoding::{params, spec};
use redline::config::ModelFamily;
use redline::detect::{iou, Decoder};
use redline::error::{BadInputKind, FrameError};
use redline::frame::LetterboxTransform;
use redline::infer::OutputBuffers;

fn close(a: [f32; 4], b: [f32; 4]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-3)
}

/// YOLOX on a 64×64 input: 8² + 4² + 2² = 84 anchors, 2 classes.
fn yolox_outputs(rows: &[(usize, [f32; 7])]) -> OutputBuffers {
    let mut out = OutputBuffers::new(&[spec(&[1, 84, 7])], 1);
    let data = out.get_mut(0);
    for (a, r) in rows {
        data[a * 7..a * 7 + 7].copy_from_slice(r);
    }
    out
}

#[test]
fn yolox_grid_stride_and_score_product() {
    let p = params(ModelFamily::Yolox, 2, 84, 64, 64);
    let mut dec = Decoder::new(p);
    let mut dets = dec.new_detections();
    // Anchor 9 = stride 8, cell (1, 1). Anchor 64 + 5 = stride 16, cell (1, 1).
    // Anchor 80 + 3 = stride 32, cell (1, 1).
    let ln2 = 2f32.ln();
    let out = yolox_outputs(&[
        (9, [0.5, 0.5, 0.0, ln2, 0.9, 0.1, 0.8]),
        (69, [0.0, 0.0, 0.0, 0.0, 0.5, 0.9, 0.0]),
        (83, [0.5, 0.5, 0.0, 0.0, 0.8, 0.5, 0.3]), // 0.4 class 0, 0.24 class 1 (below)
    ]);
    let t = LetterboxTransform::identity(64, 64);
    let stats = dec.decode(&out, 0, &t, &mut dets).unwrap();
    assert_eq!(stats.non_finite, 0);
    assert_eq!(dets.len(), 3, "{dets:?}");
    // best first: 0.72 (anchor 9, class 1), 0.45 (anchor 69, class 0), 0.4 (anchor 83, class 0)
    assert_eq!(dets[0].class_id, 1);
    assert!((dets[0].score - 0.72).abs() < 1e-6);
    // centre (1.5, 1.5) × 8 = (12, 12); w = 8, h = 16
    assert!(close(dets[0].bbox, [8.0, 4.0, 16.0, 20.0]), "{:?}", dets[0]);
    assert!(close(dets[1].bbox, [8.0, 8.0, 24.0, 24.0]), "{:?}", dets[1]);
    // centre (1.5, 1.5) × 32 = 48, w = h = 32 → clamped to the 64×64 image
    assert!(
        close(dets[2].bbox, [32.0, 32.0, 64.0, 64.0]),
        "{:?}",
        dets[2]
    );
}

#[test]
fn inverse_letterbox_maps_to_source_pixels() {
    let p = params(ModelFamily::Yolox, 2, 84, 64, 64);
    let mut dec = Decoder::new(p);
    let mut dets = dec.new_detections();
    let out = yolox_outputs(&[(9, [0.5, 0.5, 0.0, 0.0, 0.9, 0.9, 0.0])]);
    // Source 128×64 letterboxed top-left at scale 0.5, then offset 0 x, 16 y.
    let t = LetterboxTransform {
        scale_x: 0.5,
        scale_y: 0.5,
        offset_x: 0.0,
        offset_y: 16.0,
        src_width: 128,
        src_height: 64,
    };
    dec.decode(&out, 0, &t, &mut dets).unwrap();
    assert_eq!(dets.len(), 1);
    // network box [8, 8, 16, 16] → source [16, -16, 32, 0] → clamped y
    assert!(close(dets[0].bbox, [16.0, 0.0, 32.0, 0.0]), "{:?}", dets[0]);
}

#[test]
fn per_class_nms_keeps_other_classes_agnostic_does_not() {
    let rows = [
        (9, [0.5, 0.5, 1.0, 1.0, 1.0, 0.9, 0.0]),
        (10, [-0.5, 0.5, 1.0, 1.0, 1.0, 0.8, 0.0]), // same box, class 0, lower
        (11, [-1.5, 0.5, 1.0, 1.0, 1.0, 0.0, 0.7]), // same box, class 1
        (20, [0.5, 0.5, 0.0, 0.0, 1.0, 0.6, 0.0]),  // far away, class 0
    ];
    let t = LetterboxTransform::identity(64, 64);
    let mut dec = Decoder::new(params(ModelFamily::Yolox, 2, 84, 64, 64));
    let mut dets = dec.new_detections();
    dec.decode(&yolox_outputs(&rows), 0, &t, &mut dets).unwrap();
    let scores: Vec<f32> = dets.iter().map(|d| d.score).collect();
    assert_eq!(scores.len(), 3, "{dets:?}");
    assert!((scores[0] - 0.9).abs() < 1e-6 && (scores[1] - 0.7).abs() < 1e-6);

    let mut p = params(ModelFamily::Yolox, 2, 84, 64, 64);
    p.class_agnostic_nms = true;
    let mut dec = Decoder::new(p);
    dec.decode(&yolox_outputs(&rows), 0, &t, &mut dets).unwrap();
    assert_eq!(dets.len(), 2, "{dets:?}");
    assert!((dets[1].score - 0.6).abs() < 1e-6);
}

#[test]
fn top_k_limits_and_keeps_best() {
    let mut p = params(ModelFamily::Yolox, 2, 84, 64, 64);
    p.top_k = 2;
    let rows: Vec<(usize, [f32; 7])> = (0..5)
        .map(|i| (i * 2, [0.5, 0.5, 0.0, 0.0, 1.0, 0.4 + 0.1 * i as f32, 0.0]))
        .collect();
    let mut dec = Decoder::new(p);
    let mut dets = dec.new_detections();
    let stats = dec
        .decode(
            &yolox_outputs(&rows),
            0,
            &LetterboxTransform::identity(64, 64),
            &mut dets,
        )
        .unwrap();
    assert_eq!(stats.candidates, 5);
    assert_eq!(dets.len(), 2);
    assert!((dets[0].score - 0.8).abs() < 1e-6 && (dets[1].score - 0.7).abs() < 1e-6);
}

#[test]
fn non_finite_anchors_are_skipped_and_all_garbage_is_an_error() {
    let t = LetterboxTransform::identity(64, 64);
    let mut dec = Decoder::new(params(ModelFamily::Yolox, 2, 84, 64, 64));
    let mut dets = dec.new_detections();
    let out = yolox_outputs(&[
        (1, [f32::NAN, 0.5, 0.0, 0.0, 1.0, 0.9, 0.0]),
        (2, [0.5, 0.5, 0.0, 0.0, 1.0, f32::INFINITY, 0.0]),
        (3, [0.5, 0.5, 0.0, 0.0, 1.0, 0.9, 0.0]),
    ]);
    let stats = dec.decode(&out, 0, &t, &mut dets).unwrap();
    assert_eq!(stats.non_finite, 2);
    assert_eq!(dets.len(), 1);
    assert!(dets.iter().all(|d| d.score.is_finite()));

    let mut out = yolox_outputs(&[]);
    out.get_mut(0).fill(f32::NAN);
    assert_eq!(
        dec.decode(&out, 0, &t, &mut dets),
        Err(FrameError::BadInput(BadInputKind::NonFiniteOutput))
    );
    assert!(dets.is_empty());
}

#[test]
fn yolov8_column_major_boxes_in_network_pixels() {
    // 32×32 input: 16 + 4 + 1 = 21 anchors, 3 classes → [1, 7, 21]
    let p = params(ModelFamily::Yolov8, 3, 21, 32, 32);
    let mut out = OutputBuffers::new(&[spec(&[1, 7, 21])], 1);
    let d = out.get_mut(0);
    let n = 21;
    let a = 4;
    for (ch, v) in [10.0, 12.0, 4.0, 8.0, 0.1, 0.2, 0.95]
        .into_iter()
        .enumerate()
    {
        d[ch * n + a] = v;
    }
    let mut dec = Decoder::new(p);
    let mut dets = dec.new_detections();
    dec.decode(&out, 0, &LetterboxTransform::identity(32, 32), &mut dets)
        .unwrap();
    assert_eq!(dets.len(), 1);
    assert_eq!(dets[0].class_id, 2);
    assert!(close(dets[0].bbox, [8.0, 8.0, 12.0, 16.0]), "{:?}", dets[0]);
}

#[test]
fn ssd_yxyx_normalised_with_background_column() {
    let p = params(ModelFamily::Ssd, 2, 3, 300, 300);
    let mut out = OutputBuffers::new(&[spec(&[1, 3, 4]), spec(&[1, 3, 2])], 1);
    out.get_mut(0)
        .copy_from_slice(&[0.1, 0.2, 0.5, 0.6, 0.0, 0.0, 1.0, 1.0, 0.1, 0.2, 0.5, 0.6]);
    // anchor 0: person 0.9; anchor 1: background only; anchor 2: person 0.2 (below)
    out.get_mut(1)
        .copy_from_slice(&[0.1, 0.9, 0.99, 0.01, 0.8, 0.2]);
    // stretch: source 600×150 → 300×300
    let t = LetterboxTransform {
        scale_x: 0.5,
        scale_y: 2.0,
        offset_x: 0.0,
        offset_y: 0.0,
        src_width: 600,
        src_height: 150,
    };
    let mut dec = Decoder::new(p);
    let mut dets = dec.new_detections();
    dec.decode(&out, 0, &t, &mut dets).unwrap();
    assert_eq!(dets.len(), 1, "{dets:?}");
    assert_eq!(dets[0].class_id, 1);
    // x: 0.2..0.6 of 600 = 120..360; y: 0.1..0.5 of 150 = 15..75
    assert!(
        close(dets[0].bbox, [120.0, 15.0, 360.0, 75.0]),
        "{:?}",
        dets[0]
    );
}

#[test]
fn iou_of_known_boxes() {
    assert!((iou(&[0.0, 0.0, 2.0, 2.0], &[1.0, 0.0, 3.0, 2.0]) - 1.0 / 3.0).abs() < 1e-6);
    assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[2.0, 2.0, 3.0, 3.0]), 0.0);
    assert_eq!(iou(&[0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.0]), 0.0);
}

#[test]
fn decoding_garbage_sized_outputs_is_an_error_not_a_panic() {
    let mut dec = Decoder::new(params(ModelFamily::Ssd, 2, 3, 300, 300));
    let mut dets = dec.new_detections();
    let out = OutputBuffers::new(&[spec(&[1, 2, 4])], 1);
    assert_eq!(
        dec.decode(&out, 0, &LetterboxTransform::identity(10, 10), &mut dets),
        Err(FrameError::Engine)
    );
}

#[test]
fn each_row_of_a_batch_decodes_to_its_own_frame() {
    // SSD, 3 anchors, 3 rows: row r has one confident person at a box that depends on r.
    let mut dec = Decoder::new(params(ModelFamily::Ssd, 2, 3, 100, 100));
    let mut dets = dec.new_detections();
    let mut out = OutputBuffers::new(&[spec(&[1, 3, 4]), spec(&[1, 3, 2])], 3);
    assert_eq!(out.rows(), 3);
    for r in 0..3 {
        let y0 = 0.1 * r as f32;
        out.row_mut(0, r)[4..8].copy_from_slice(&[y0, 0.2, y0 + 0.3, 0.6]);
        out.row_mut(1, r)[2..4].copy_from_slice(&[0.1, 0.5 + 0.1 * r as f32]);
    }
    let t = LetterboxTransform::identity(100, 100);
    for r in 0..3 {
        dec.decode(&out, r, &t, &mut dets).unwrap();
        assert_eq!(dets.len(), 1, "row {r}: {dets:?}");
        let y0 = 10.0 * r as f32;
        assert!(
            close(dets[0].bbox, [20.0, y0, 60.0, y0 + 30.0]),
            "row {r}: {:?}",
            dets[0]
        );
        assert!((dets[0].score - (0.5 + 0.1 * r as f32)).abs() < 1e-6);
    }
    assert_eq!(
        dec.decode(&out, 3, &t, &mut dets),
        Err(FrameError::Engine),
        "a row past the batch is an error"
    );
    assert!(dets.is_empty());
}
