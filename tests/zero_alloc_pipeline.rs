//! Proves the per-frame path allocates nothing in steady state: a counting global allocator
//! around a warmed-up pipeline run of many frames through all five stages, with pooled frame
//! and tensor buffers, deadline checks, accounting, histograms and the monitor all active.

mod common;

use std::sync::Arc;

#[path = "pipeline_support.rs"]
mod support;

use redline::deadline::SystemClock;
use redline::error::{FrameError, Stage};
use redline::frame::{Detection, Lease, Pool};
use redline::pipeline::{FnStage, FrameMeta, Pipeline, StageSet};
use support::*;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

#[test]
fn steady_state_frames_allocate_nothing() {
    let clock = Arc::new(SystemClock::new());
    let tensors: Pool<Vec<f32>> = Pool::new(3, |_| vec![0.0; 1024]).unwrap();
    let mut out_bytes: Vec<u8> = Vec::with_capacity(4096);
    let published = Counter::default();
    let published_in_sink = published.clone();
    let stages = StageSet::single(
        TestIngest::new(4),
        FnStage(move |frame: Lease<Vec<u8>>, _: &FrameMeta| {
            let mut tensor = tensors
                .try_lease()
                .ok_or(FrameError::PoolExhausted(Stage::Preprocess))?;
            for (t, p) in tensor.iter_mut().zip(frame.iter()) {
                *t = f32::from(*p) / 255.0;
            }
            Ok(tensor)
        }),
        FnStage(|tensor: Lease<Vec<f32>>, _: &FrameMeta| Ok(tensor.iter().sum::<f32>())),
        FnStage(|score: f32, _: &FrameMeta| {
            let mut dets = [Detection::default(); 8];
            dets[0].score = score;
            Ok(dets)
        }),
        FnStage(move |dets: [Detection; 8], meta: &FrameMeta| {
            out_bytes.clear();
            out_bytes.extend_from_slice(&meta.seq.to_le_bytes());
            out_bytes.extend_from_slice(&dets[0].score.to_le_bytes());
            published_in_sink.add();
            Ok(())
        }),
    );
    let pipeline = Pipeline::start(&settings(10_000.0), clock.clone(), stages).unwrap();

    let mut submitted = 0u64;
    let mut run = |frames: u64| {
        for _ in 0..frames {
            pipeline.submit(message_now(&*clock, submitted));
            submitted += 1;
            // Wait for the frame to leave the pipeline so none is superseded.
            common::settle::wait_until_settled(submitted, || pipeline.accounting());
        }
    };
    run(300); // warm-up: thread-local caches, channel wakers, tracing call sites
    common::settle::idle_then(|| run(1)); // and each stage thread's blocking context
    assert!(
        common::alloc::threads_named("redline-") >= 5,
        "the stage threads to be counted are not named redline-…"
    );
    // Counted: this thread (submit, waiting) and the pipeline's threads (`redline-…`).
    let ((), allocations) = common::alloc::on_this_and_named_threads("redline-", || run(3000));
    let snapshot = pipeline.snapshot();
    let (summary, _stages) = pipeline.shutdown().unwrap();

    assert_eq!(
        summary.accounting.published, 3301,
        "{:?}",
        summary.accounting
    );
    assert_eq!(published.get(), 3301);
    assert_eq!(snapshot.accounting.dropped.total(), 0);
    assert_eq!(summary.latency.end_to_end.count(), 3301);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations during 3000 steady-state frames"
    );
}
