//! The batched path allocates nothing in steady state: three cameras (raw `sensor_msgs/Image`)
//! share one engine that takes up to four rows per run; each camera's frames go through CDR
//! ingest and the camera's preprocessing, the batch former puts the ready frames of several
//! cameras into one run (the fused pass writing each into its row of the pooled batch input),
//! the real SSD decoder decodes each row and a sink serialises `vision_msgs/Detection2DArray`
//! per camera — counted by a global allocator over a thousand rounds after warm-up, with
//! batches of every size from one to three.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::perception::{image_cdr, CannedSsd, CountingSink, Message};
use redline::config::{CameraConfig, CamerasConfig, ImageTransport};
use redline::deadline::{Clock, SystemClock};
use redline::frame::{Pool, Stamp};
use redline::infer::load_engine;
use redline::pipeline::{CameraId, Pipeline, PipelineSettings};
use redline::stages;
use redline::Config;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

const CAMERAS: usize = 3;
const MAX_BATCH: usize = 4;

#[test]
fn batches_across_cameras_allocate_nothing_per_frame() {
    let mut config = Config::load(&Config::default_path()).unwrap();
    config.cameras = CamerasConfig {
        list: (0..CAMERAS)
            .map(|i| CameraConfig {
                name: format!("cam{i}"),
                topic: format!("/cam{i}/image_raw"),
                transport: ImageTransport::Raw,
                budget_ms: None,
                criticality: i as i32,
            })
            .collect(),
        from_input: false,
    };
    config.model.max_batch = MAX_BATCH;
    config.pipeline.lock_memory = false;
    config.deadline.budget_ms = 10_000.0;
    config.deadline.max_age_ms = 20_000.0;
    let real = load_engine(&config.model).unwrap();
    let contract = real.contract().clone();
    let engine = Box::new(CannedSsd::five_people(contract, MAX_BATCH));
    let sink = CountingSink::new(config.model.class_names.clone());
    let (frames, detections) = (sink.frames.clone(), sink.detections.clone());
    let highest_camera = sink.highest_camera.clone();
    let stage_set = stages::build::<Message, _>(&config, engine, sink);
    let clock = Arc::new(SystemClock::new());
    let pipeline = Pipeline::start(
        &PipelineSettings::from_config(&config),
        clock.clone(),
        stage_set,
    )
    .unwrap();
    let template = image_cdr(640, 480);
    let messages: Pool<Vec<u8>> = Pool::new(4 * CAMERAS, |_| template.clone()).unwrap();

    // Round k submits one frame to each of the first 1 + k % CAMERAS cameras at once, then
    // waits for them to leave the pipeline: the former sees 1, 2 or 3 ready frames.
    let mut submitted = 0u64;
    let mut round = 0usize;
    let mut run = |rounds: usize| {
        for _ in 0..rounds {
            for camera in 0..1 + round % CAMERAS {
                let mut m = messages.try_lease().unwrap();
                let Stamp { sec, nanosec } = clock.ros_now();
                m[4..8].copy_from_slice(&sec.to_le_bytes());
                m[8..12].copy_from_slice(&nanosec.to_le_bytes());
                pipeline.submit_to(CameraId::at(camera), Message(m));
                submitted += 1;
            }
            round += 1;
            common::settle::wait_until_settled(submitted, || pipeline.accounting());
        }
    };
    run(60); // warm-up
    common::settle::idle_then(|| run(3)); // and each stage thread's blocking context
                                          // Counted: this thread (feeding, waiting) and the pipeline's threads (`redline-…`).
    let ((), allocations) = common::alloc::on_this_and_named_threads("redline-", || run(900));
    let (summary, _) = pipeline.shutdown().unwrap();
    assert_eq!(
        summary.accounting.published, submitted,
        "{:?}",
        summary.accounting
    );
    assert_eq!(frames.load(Ordering::SeqCst), submitted);
    assert_eq!(highest_camera.load(Ordering::SeqCst), CAMERAS as u64 - 1);
    for c in &summary.cameras {
        assert!(
            c.accounting.published >= 300,
            "{}: {:?}",
            c.name,
            c.accounting
        );
    }
    // Batches of several sizes ran (the counted rounds follow the warm-up's pattern, so they
    // are in these counts many times over: 900 of the 963 rounds were counted).
    let sizes: Vec<usize> = (1..=MAX_BATCH)
        .filter(|b| summary.former.runs_of(*b) > 100)
        .collect();
    assert!(
        sizes.len() >= 2 && sizes.iter().any(|b| *b >= 2),
        "batch sizes seen: {sizes:?} ({:?})",
        summary.former.report().runs_by_size
    );
    assert!(detections.load(Ordering::SeqCst) >= submitted);
    assert_eq!(
        allocations, 0,
        "{allocations} heap allocations during 900 steady-state rounds (1800 frames) in batches of {sizes:?}"
    );
}
