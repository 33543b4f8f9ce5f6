//! Clean shutdown: submitters on other threads racing with `shutdown` — every accepted message
//! is accounted for, every refused one is handed back, every thread joins, every buffer returns.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[path = "pipeline_support.rs"]
mod support;

use redline::deadline::SystemClock;
use redline::frame::Lease;
use redline::pipeline::{CameraId, FnStage, FrameMeta, Pipeline, StageSet, Submitted};
use support::*;

#[test]
fn shutdown_racing_with_submitters_loses_nothing() {
    let clock = Arc::new(SystemClock::new());
    let ingest = TestIngest::new(3);
    let frames = ingest.frames.clone();
    let stages = StageSet::single(
        ingest,
        FnStage(|f: Lease<Vec<u8>>, _: &FrameMeta| {
            spin_for(20);
            Ok(frame_id(&f))
        }),
        FnStage(|id: u64, _: &FrameMeta| {
            spin_for(30);
            Ok(id)
        }),
        FnStage(|id: u64, _: &FrameMeta| Ok(id)),
        FnStage(|_id: u64, _: &FrameMeta| Ok(())),
    );
    let pipeline = Pipeline::start(&settings(10_000.0), clock.clone(), stages).unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let feeders: Vec<_> = (0..3)
        .map(|t| {
            let submitter = pipeline.submitter(CameraId(0));
            let (accepted, refused, stop, clock) = (
                Arc::clone(&accepted),
                Arc::clone(&refused),
                Arc::clone(&stop),
                Arc::clone(&clock),
            );
            std::thread::spawn(move || {
                let mut id = t * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    match submitter.submit(message_now(&*clock, id)) {
                        Submitted::Closed(message) => {
                            assert_eq!(message.id, id, "the refused message is handed back");
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    id += 1;
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let (summary, _) = pipeline.shutdown().unwrap();
    // Keep feeding a little after shutdown, then stop.
    std::thread::sleep(std::time::Duration::from_millis(5));
    stop.store(true, Ordering::SeqCst);
    for f in feeders {
        f.join().unwrap();
    }
    let a = summary.accounting;
    assert_eq!(a.received, accepted.load(Ordering::SeqCst), "{a:?}");
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "submits after shutdown are refused"
    );
    assert!(a.published > 0);
    assert_eq!(a.in_flight, 0);
    assert!(a.balances(), "{a:?}");
    assert_eq!(frames.available(), frames.capacity());
    assert_eq!(
        summary.rt.threads.len(),
        5,
        "every stage thread reported its grants"
    );
}

#[test]
fn dropping_a_pipeline_without_shutdown_stops_its_threads() {
    let clock = Arc::new(SystemClock::new());
    let ingest = TestIngest::new(2);
    let frames = ingest.frames.clone();
    let stages = StageSet::single(
        ingest,
        FnStage(|f: Lease<Vec<u8>>, _: &FrameMeta| Ok(frame_id(&f))),
        FnStage(|id: u64, _: &FrameMeta| Ok(id)),
        FnStage(|id: u64, _: &FrameMeta| Ok(id)),
        FnStage(|_id: u64, _: &FrameMeta| Ok(())),
    );
    let pipeline = Pipeline::start(&settings(10_000.0), clock.clone(), stages).unwrap();
    let submitter = pipeline.submitter(CameraId(0));
    submitter.submit(message_now(&*clock, 1));
    drop(pipeline);
    assert!(matches!(
        submitter.submit(message_now(&*clock, 2)),
        Submitted::Closed(_)
    ));
    // The drained threads release their pool buffers; the frame pool is shared with them
    // through the ingest stage, which the exiting ingest thread drops.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while frames.available() < frames.capacity() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(frames.available(), frames.capacity());
}
