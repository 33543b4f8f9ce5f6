//! The replay's detection sink: serialises each published frame's `Detection2DArray` into a
//! pooled buffer and hands it to the output writer thread, so the publish stage does no file
//! I/O and no allocation. It also remembers how many detections each frame had, for the report.

use crossbeam::channel::Sender;

use crate::error::{FrameError, Stage};
use crate::frame::{Detection, Lease, Pool};
use crate::msgs::write_detection2d_array;
use crate::pipeline::{FrameHeader, FrameMeta};
use crate::stages::DetectionSink;

use super::output::{OutputChannel, OutputRecord};

/// `DetectionSink` for replay.
pub struct ReplaySink {
    buffers: Pool<Vec<u8>>,
    records: Sender<OutputRecord>,
    class_names: Vec<String>,
    /// `(frame seq, detections)` for every published frame (capacity reserved up front; frames
    /// beyond it are counted in the report's per-camera totals only).
    counts: Vec<(u64, u32)>,
    /// Published frames whose record could not be queued for the output file.
    output_overflow: u64,
}

impl ReplaySink {
    /// `expected_frames` reserves room for the per-frame counts; `buffers` serialised messages
    /// may be in flight to the writer at once.
    pub fn new(
        records: Sender<OutputRecord>,
        class_names: Vec<String>,
        expected_frames: usize,
        buffers: usize,
    ) -> Self {
        Self {
            buffers: Pool::at_least_one(buffers, |_| Vec::with_capacity(64 * 1024)),
            records,
            class_names,
            counts: Vec::with_capacity(expected_frames),
            output_overflow: 0,
        }
    }

    /// Detections per published frame and the output overflow count; drops the sender, so
    /// the output writer can finish.
    pub fn into_results(self) -> (Vec<(u64, u32)>, u64) {
        (self.counts, self.output_overflow)
    }
}

impl DetectionSink for ReplaySink {
    fn send(
        &mut self,
        meta: &FrameMeta,
        header: &FrameHeader,
        detections: &[Detection],
    ) -> Result<(), FrameError> {
        let mut buf: Lease<Vec<u8>> = self
            .buffers
            .try_lease()
            .ok_or(FrameError::PoolExhausted(Stage::Publish))?;
        write_detection2d_array(
            &mut buf,
            header.stamp,
            header.frame_id.as_str(),
            detections,
            &self.class_names,
        );
        if self.counts.len() < self.counts.capacity() {
            self.counts.push((meta.seq, detections.len() as u32));
        }
        let record = OutputRecord {
            channel: OutputChannel::Detections(meta.camera.index()),
            log_time_ns: header.stamp.as_nanos().max(0) as u64,
            bytes: buf,
        };
        if self.records.try_send(record).is_err() {
            self.output_overflow += 1;
        }
        Ok(())
    }
}
