//! The node's real per-frame path allocates nothing in steady state: CDR ingest of a raw
//! `sensor_msgs/Image`, the fused preprocessing into a pooled engine input, an engine (its
//! outputs canned, since tract allocates inside its own run), the real SSD decoder with NMS,
//! and a sink that serialises `vision_msgs/Detection2DArray` — counted by a global allocator
//! over thousands of frames after warm-up.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use redline::config::ImageTransport;
use redline::deadline::{Clock, SystemClock};
use redline::error::FrameError;
use redline::frame::{Detection, Lease, Pool, Stamp};
use redline::infer::{load_engine, Engine, InputTensor, ModelContract, OutputBuffers};
use redline::pipeline::{FrameHeader, FrameMeta, Pipeline, PipelineSettings};
use redline::stages::{self, Detection2DArrayEncoder, DetectionSink};
use redline::Config;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

/// The SSD model's contract with canned outputs: five confident, overlapping people.
struct CannedSsd {
    contract: ModelContract,
    boxes: Vec<f32>,
    scores: Vec<f32>,
}

impl Engine for CannedSsd {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }
    fn run(
        &mut self,
        _frames: &[u64],
        _input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        outputs.get_mut(0).copy_from_slice(&self.boxes);
        outputs.get_mut(1).copy_from_slice(&self.scores);
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
        _meta: &FrameMeta,
        header: &FrameHeader,
        detections: &[Detection],
    ) -> Result<(), FrameError> {
        let bytes = self.encoder.encode(header, detections);
        assert!(bytes.len() > 4, "encoded Detection2DArray");
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
fn real_stages_allocate_nothing_per_frame() {
    let mut config = Config::load(&Config::default_path()).unwrap();
    config.input.transport = ImageTransport::Raw;
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
    let engine = Box::new(CannedSsd {
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
