//! The replay's detection sink: serialises each published frame's `Detection2DArray` into a
//! pooled buffer and hands it to the output writer thread, so the publish stage does no file
//! I/O and no allocation. Each record names its frame and how many detections it had; the
//! writer thread collects those for the report (no per-frame list here, whose capacity would
//! have to be guessed from a message count).

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
    /// Published frames whose record could not be queued for the output file.
    output_overflow: u64,
    /// Wait for room in the output queue instead of counting an overflow (the simulation,
    /// whose output must not depend on how fast the disk is).
    blocking: bool,
}

impl ReplaySink {
    /// `buffers` serialised messages may be in flight to the writer at once; `blocking`: wait
    /// for room in the output queue (the simulation) instead of counting an overflow.
    pub fn new(
        records: Sender<OutputRecord>,
        class_names: Vec<String>,
        buffers: usize,
        blocking: bool,
    ) -> Self {
        Self {
            buffers: Pool::at_least_one(buffers, |_| Vec::with_capacity(64 * 1024)),
            records,
            class_names,
            output_overflow: 0,
            blocking,
        }
    }

    /// Published frames whose detections could not be queued for the output recording (their
    /// per-frame counts are missing from the report too); drops the sender, so the output
    /// writer can finish.
    pub fn into_overflow(self) -> u64 {
        self.output_overflow
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
        let record = OutputRecord {
            channel: OutputChannel::Detections {
                camera: meta.camera.index(),
                seq: meta.seq,
                count: u32::try_from(detections.len()).unwrap_or(u32::MAX),
            },
            log_time_ns: header.stamp.as_nanos().max(0) as u64,
            bytes: buf,
        };
        let queued = if self.blocking {
            self.records.send(record).is_ok()
        } else {
            self.records.try_send(record).is_ok()
        };
        if !queued {
            self.output_overflow += 1;
        }
        Ok(())
    }
}
