//! The node's real per-frame path allocates nothing in steady state: CDR ingest of a raw
//! `sensor_msgs/Image`, the fused preprocessing into a pooled engine input, an engine (its
//! outputs canned, since tract allocates inside its own run), the real SSD decoder with NMS,
//! and a sink that serialises `vision_msgs/Detection2DArray` — counted by a global allocator
//! over thousands of frames after warm-up.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::perception::{image_cdr, CannedSsd, CountingSink, Message};
use redline::config::ImageTransport;
use redline::deadline::{Clock, SystemClock};
use redline::frame::{Pool, Stamp};
use redline::infer::load_engine;
use redline::pipeline::{Pipeline, PipelineSettings};
use redline::stages;
use redline::Config;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

#[test]
fn real_stages_allocate_nothing_per_frame() {
    let mut config = Config::load(&Config::default_path()).unwrap();
    config.input.transport = ImageTransport::Raw;
    config.pipeline.lock_memory = false;
    config.deadline.budget_ms = 10_000.0;
    config.deadline.max_age_ms = 20_000.0;
    let real = load_engine(&config.model).unwrap();
    let contract = real.contract().clone();
    let engine = Box::new(CannedSsd::five_people(contract, 1));
    let sink = CountingSink::new(config.model.class_names.clone());
    let (frames, detections) = (sink.frames.clone(), sink.detections.clone());
    let stage_set = stages::build::<Message, _>(&config, engine, sink);
    let clock = Arc::new(SystemClock::new());
    let pipeline = Pipeline::start(
        &PipelineSettings::from_config(&config),
        clock.clone(),
        stage_set,
    )
    .unwrap();
    let template = image_cdr(640, 480);
    let messages: Pool<Vec<u8>> = Pool::new(4, |_| template.clone()).unwrap();

    let mut submitted = 0u64;
    let mut run = |n: u64| {
        for _ in 0..n {
            let mut m = messages.try_lease().unwrap();
            let Stamp { sec, nanosec } = clock.ros_now();
            m[4..8].copy_from_slice(&sec.to_le_bytes());
            m[8..12].copy_from_slice(&nanosec.to_le_bytes());
            pipeline.submit(Message(m));
            submitted += 1;
            common::settle::wait_until_settled(submitted, || pipeline.accounting());
        }
    };
    run(50); // warm-up
    common::settle::idle_then(|| run(1)); // and each stage thread's blocking context
    assert!(
        common::alloc::threads_named("redline-") >= 5,
        "the stage threads to be counted are not named redline-…"
    );
    // Counted: this thread (feeding, waiting) and the pipeline's threads (`redline-…`).
    let ((), allocations) = common::alloc::on_this_and_named_threads("redline-", || run(1000));
    let (summary, _) = pipeline.shutdown().unwrap();
    assert_eq!(
        summary.accounting.published, 1051,
        "{:?}",
        summary.accounting
    );
    assert_eq!(frames.load(Ordering::SeqCst), 1051);
    // NMS keeps some of the five overlapping boxes on every frame.
    let per_frame = detections.load(Ordering::SeqCst) / 1051;
    assert!(
        (1..=5).contains(&per_frame),
        "{per_frame} detections per frame"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations during 1000 steady-state frames"
    );
}
