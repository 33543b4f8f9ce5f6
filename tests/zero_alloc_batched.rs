//! The batched path allocates nothing in steady state: three cameras (raw `sensor_msgs/Image`)
//! share one engine that takes up to four rows per run; each camera's frames go through CDR
//! ingest and the camera's preprocessing, the batch former puts the ready frames of several
//! cameras into one run (the fused pass writing each into its row of the pooled batch input),
//! the real SSD decoder decodes each row and a sink serialises `vision_msgs/Detection2DArray`
//! per camera — counted by a global allocator over a thousand rounds after warm-up, with
//! batches of every size from one to three.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use redline::config::{CameraConfig, CamerasConfig, ImageTransport};
use redline::deadline::{Clock, SystemClock};
use redline::error::FrameError;
use redline::frame::{Detection, Lease, Pool, Stamp};
use redline::infer::{load_engine, Engine, InputTensor, ModelContract, OutputBuffers};
use redline::pipeline::{CameraId, FrameHeader, FrameMeta, Pipeline, PipelineSettings};
use redline::stages::{self, Detection2DArrayEncoder, DetectionSink};
use redline::Config;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

const CAMERAS: usize = 3;
const MAX_BATCH: usize = 4;

/// The SSD model's contract, batching up to [`MAX_BATCH`] rows, with canned outputs (five
/// confident, overlapping people) copied into every row it runs.
struct CannedBatchingSsd {
    contract: ModelContract,
    boxes: Vec<f32>,
    scores: Vec<f32>,
}

impl Engine for CannedBatchingSsd {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }
    fn max_batch(&self) -> usize {
        MAX_BATCH
    }
    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        assert!((1..=MAX_BATCH).contains(&frames.len()) && input.rows() == MAX_BATCH);
        for row in 0..frames.len() {
            outputs.row_mut(0, row).copy_from_slice(&self.boxes);
            outputs.row_mut(1, row).copy_from_slice(&self.scores);
        }
        Ok(())
    }
}

/// Serialises every frame into one reused buffer and counts detections.
struct CountingSink {
    encoder: Detection2DArrayEncoder,
    frames: Arc<AtomicU64>,
    detections: Arc<AtomicU64>,
}

impl DetectionSink for CountingSink {
    fn send(
        &mut self,
        meta: &FrameMeta,
        header: &FrameHeader,
        detections: &[Detection],
    ) -> Result<(), FrameError> {
        let bytes = self.encoder.encode(header, detections);
        assert!(bytes.len() > 4, "encoded Detection2DArray");
        assert!(meta.camera.index() < CAMERAS);
        self.frames.fetch_add(1, Ordering::SeqCst);
        self.detections
            .fetch_add(detections.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

/// A pooled CDR message (so feeding frames allocates nothing either).
struct Message(Lease<Vec<u8>>);
impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `sensor_msgs/Image` rgb8 in CDR, written by hand (field by field, aligned).
fn image_cdr(width: u32, height: u32) -> Vec<u8> {
    let mut b = vec![0x00, 0x01, 0x00, 0x00];
    let align = |b: &mut Vec<u8>| {
        while (b.len() - 4) % 4 != 0 {
            b.push(0);
        }
    };
    let string = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u32 + 1).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
        b.push(0);
    };
    b.extend_from_slice(&0i32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    string(&mut b, "camera_front");
    align(&mut b);
    b.extend_from_slice(&height.to_le_bytes());
    b.extend_from_slice(&width.to_le_bytes());
    string(&mut b, "rgb8");
    b.push(0); // is_bigendian
    align(&mut b);
    b.extend_from_slice(&(width * 3).to_le_bytes());
    let n = (width * height * 3) as usize;
    b.extend_from_slice(&(n as u32).to_le_bytes());
    b.extend((0..n).map(|i| (i % 251) as u8));
    b
}

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
    let anchors = contract.anchors;
    let mut boxes = vec![0.0f32; anchors * 4];
    let mut scores = vec![0.0f32; anchors * 2];
    for i in 0..5 {
        let o = i as f32 * 0.05;
        boxes[i * 4..i * 4 + 4].copy_from_slice(&[0.1 + o, 0.1 + o, 0.6 + o, 0.3 + o]);
        scores[i * 2 + 1] = 0.9 - i as f32 * 0.01;
    }
    let engine = Box::new(CannedBatchingSsd {
        contract,
        boxes,
        scores,
    });
    let frames = Arc::new(AtomicU64::new(0));
    let detections = Arc::new(AtomicU64::new(0));
    let sink = CountingSink {
        encoder: Detection2DArrayEncoder::new(config.model.class_names.clone()),
        frames: frames.clone(),
        detections: detections.clone(),
    };
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
