//! Steady state: once the reused buffer has grown, the CDR writers allocate nothing (counted by
//! a global allocator on the test's own thread only, so the harness cannot leak into the
//! count); and the counter itself sees the threads it measures and only those.

mod common;

use std::sync::Barrier;

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

    let ((), allocations) = common::alloc::on_this_thread(|| {
        for n in 0..100 {
            write_detection2d_array(&mut buf, stamp, "cam", &detections[..n], &names);
            write_diagnostic_array(&mut buf, stamp, "cam", &[status, status]);
            write_diagnostic_status(&mut buf, &status);
            write_compressed_image(&mut buf, stamp, "cam", "jpeg", &jpeg);
        }
    });
    assert_eq!(allocations, 0, "allocations in steady state");
    assert!(!buf.is_empty());
}

/// The counter is not blind: it counts this thread and the threads named with the prefix, and
/// ignores a thread that allocates meanwhile under another name (as libtest's threads do).
#[test]
fn the_counter_sees_measured_threads_and_ignores_others() {
    let allocate = |n: usize| {
        for i in 0..n {
            std::hint::black_box(vec![i as u8 + 1; 64]);
        }
    };
    let ((), own) = common::alloc::on_this_thread(|| allocate(3));
    assert_eq!(own, 3);

    // Threads started → measurement starts → both threads allocate → done → measurement ends →
    // release → threads exit (so neither their start-up nor their exit falls in the count).
    let [ready, start, done, release] = [(); 4].map(|()| Barrier::new(3));
    std::thread::scope(|s| {
        let spawn = |name: &str, n: usize| {
            let (ready, start, done, release) = (&ready, &start, &done, &release);
            std::thread::Builder::new()
                .name(name.into())
                .spawn_scoped(s, move || {
                    ready.wait();
                    start.wait();
                    allocate(n);
                    done.wait();
                    release.wait();
                })
                .unwrap()
        };
        let measured = spawn("alloc-probe-1", 5);
        let other = spawn("unmeasured", 7);
        ready.wait();
        let ((), counted) = common::alloc::on_this_and_named_threads("alloc-probe", || {
            start.wait();
            done.wait();
            allocate(2);
        });
        release.wait();
        measured.join().unwrap();
        other.join().unwrap();
        assert_eq!(
            counted,
            5 + 2,
            "named thread 5 + this thread 2; the other's 7 excluded"
        );
    });
}
