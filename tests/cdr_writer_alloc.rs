//! Steady state: once the reused buffer has grown, the CDR writers allocate nothing (counted by
//! a global allocator; this file holds one test so nothing else allocates concurrently).

mod common;

use redline::frame::{Detection, Stamp};
use redline::msgs::{
    write_compressed_image, write_detection2d_array, write_diagnostic_array,
    write_diagnostic_status, DiagnosticStatusView,
};

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

#[test]
fn writers_allocate_nothing_once_the_buffer_has_grown() {
    let detections: Vec<Detection> = (0..100)
        .map(|i| Detection {
            class_id: i % 90, // some ids have no name: formatted on the stack
            score: 0.5,
            bbox: [1.0, 2.0, 30.0, 40.0],
        })
        .collect();
    let names = ["person", "car"];
    let values = [("miss_ratio", "0.01")];
    let status = DiagnosticStatusView {
        level: 1,
        name: "redline: deadline",
        message: "misses",
        hardware_id: "redline",
        values: &values,
    };
    let jpeg = vec![0xffu8; 4096];
    let stamp = Stamp::new(1, 2);
    let mut buf = Vec::with_capacity(64 * 1024);

    let before = common::alloc::total();
    for n in 0..100 {
        write_detection2d_array(&mut buf, stamp, "cam", &detections[..n], &names);
        write_diagnostic_array(&mut buf, stamp, "cam", &[status, status]);
        write_diagnostic_status(&mut buf, &status);
        write_compressed_image(&mut buf, stamp, "cam", "jpeg", &jpeg);
    }
    let after = common::alloc::total();
    assert_eq!(after - before, 0, "allocations in steady state");
    assert!(!buf.is_empty());
}
