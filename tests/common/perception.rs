//! The node's real stages around a canned engine, for the zero-allocation tests and the soak:
//! an SSD engine with canned outputs (batching or not), a sink that serialises every answer as
//! `vision_msgs/Detection2DArray` and counts it, pooled CDR messages and a hand-written
//! `sensor_msgs/Image`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use redline::error::FrameError;
use redline::frame::{Detection, Lease};
use redline::infer::{Engine, InputTensor, ModelContract, OutputBuffers};
use redline::pipeline::{FrameHeader, FrameMeta};
use redline::stages::{Detection2DArrayEncoder, DetectionSink};

/// The SSD model's contract with canned outputs (five confident, overlapping people) copied
/// into every row a run takes; one run takes up to `max_batch` rows.
pub struct CannedSsd {
    contract: ModelContract,
    max_batch: usize,
    boxes: Vec<f32>,
    scores: Vec<f32>,
}

impl CannedSsd {
    /// Five overlapping people in every row, for the SSD `contract` (one row: its anchors).
    pub fn five_people(contract: ModelContract, max_batch: usize) -> Self {
        let anchors = contract.anchors;
        let mut boxes = vec![0.0f32; anchors * 4];
        let mut scores = vec![0.0f32; anchors * 2];
        for i in 0..5 {
            let o = i as f32 * 0.05;
            boxes[i * 4..i * 4 + 4].copy_from_slice(&[0.1 + o, 0.1 + o, 0.6 + o, 0.3 + o]);
            scores[i * 2 + 1] = 0.9 - i as f32 * 0.01;
        }
        Self {
            contract,
            max_batch,
            boxes,
            scores,
        }
    }
}

impl Engine for CannedSsd {
    fn contract(&self) -> &ModelContract {
        &self.contract
    }
    fn max_batch(&self) -> usize {
        self.max_batch
    }
    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        assert!((1..=self.max_batch).contains(&frames.len()) && input.rows() == self.max_batch);
        for row in 0..frames.len() {
            outputs.row_mut(0, row).copy_from_slice(&self.boxes);
            outputs.row_mut(1, row).copy_from_slice(&self.scores);
        }
        Ok(())
    }
}

/// Serialises every answer into one reused buffer; counts answers, detections and the highest
/// camera index answered (shared counters, read by the test).
pub struct CountingSink {
    encoder: Detection2DArrayEncoder,
    pub frames: Arc<AtomicU64>,
    pub detections: Arc<AtomicU64>,
    pub highest_camera: Arc<AtomicU64>,
}

impl CountingSink {
    pub fn new(class_names: Vec<String>) -> Self {
        Self {
            encoder: Detection2DArrayEncoder::new(class_names),
            frames: Arc::default(),
            detections: Arc::default(),
            highest_camera: Arc::default(),
        }
    }
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
        self.highest_camera
            .fetch_max(meta.camera.index() as u64, Ordering::SeqCst);
        self.frames.fetch_add(1, Ordering::SeqCst);
        self.detections
            .fetch_add(detections.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

/// A pooled CDR message (so feeding frames allocates nothing either).
pub struct Message(pub Lease<Vec<u8>>);
impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `sensor_msgs/Image` rgb8 in CDR, written by hand (field by field, aligned).
pub fn image_cdr(width: u32, height: u32) -> Vec<u8> {
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
