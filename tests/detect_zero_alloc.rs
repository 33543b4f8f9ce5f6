//! Proof that decoding allocates nothing per frame: a counting global allocator counts this
//! thread's allocations while `Decoder::decode` runs on a dense YOLOX-sized output (many
//! candidates, NMS, top-k) and on one row of a batched SSD output, after the buffers were made
//! at start-up.

mod common;

use common::decoding::spec;
use redline::config::ModelFamily;
use redline::detect::{DecodeParams, Decoder};
use redline::frame::LetterboxTransform;
use redline::infer::OutputBuffers;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

fn armed<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let (out, n) = common::alloc::on_this_thread(f);
    (out, n as usize)
}

fn params(family: ModelFamily, classes: usize, anchors: usize, size: u32) -> DecodeParams {
    common::decoding::params(family, classes, anchors, size, size)
}

#[test]
fn decode_allocates_nothing_per_frame() {
    // YOLOX 416: 3549 anchors × 85; every anchor a strong candidate in several classes,
    // some NaN rows.
    let mut out = OutputBuffers::new(&[spec(&[1, 3549, 85])], 1);
    for (a, row) in out.get_mut(0).chunks_exact_mut(85).enumerate() {
        row[0] = (a % 7) as f32 * 0.1;
        row[1] = (a % 5) as f32 * 0.1;
        row[2] = 0.5;
        row[3] = 0.5;
        row[4] = 0.95;
        for (c, v) in row[5..].iter_mut().enumerate() {
            *v = if (a + c) % 9 == 0 { 0.9 } else { 0.1 };
        }
        if a % 101 == 0 {
            row[2] = f32::NAN;
        }
    }
    let mut dec = Decoder::new(params(ModelFamily::Yolox, 80, 3549, 416));
    let mut dets = dec.new_detections();
    let t = LetterboxTransform::identity(416, 416);
    dec.decode(&out, 0, &t, &mut dets).unwrap();
    let (stats, allocs) = armed(|| dec.decode(&out, 0, &t, &mut dets).unwrap());
    assert!(stats.candidates > 1000, "{stats:?}");
    assert!(stats.non_finite > 0);
    assert_eq!(dets.len(), 100);
    assert_eq!(allocs, 0, "YOLOX decode allocated {allocs} times");

    // A batch of 4 frames: decoding its last row allocates nothing either.
    let mut out = OutputBuffers::new(&[spec(&[1, 1917, 4]), spec(&[1, 1917, 2])], 4);
    for b in out.get_mut(0).chunks_exact_mut(4) {
        b.copy_from_slice(&[0.1, 0.1, 0.4, 0.3]);
    }
    for s in out.get_mut(1).chunks_exact_mut(2) {
        s.copy_from_slice(&[0.1, 0.9]);
    }
    let mut dec = Decoder::new(params(ModelFamily::Ssd, 2, 1917, 300));
    let mut dets = dec.new_detections();
    let t = LetterboxTransform::identity(300, 300);
    dec.decode(&out, 3, &t, &mut dets).unwrap();
    let (stats, allocs) = armed(|| dec.decode(&out, 3, &t, &mut dets).unwrap());
    assert_eq!(stats.candidates, 1917);
    assert_eq!(dets.len(), 1, "identical boxes collapse to one");
    assert_eq!(allocs, 0, "SSD decode allocated {allocs} times");
}
