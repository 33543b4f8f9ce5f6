//! The replay's output recording: a writer thread that owns the MCAP bag writer and receives
//! serialised messages (detections from the publish stage; diagnostics and alarm transitions
//! from the replay driver) over a bounded channel, so no stage ever waits for the disk.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crossbeam::channel::{self, Receiver, Sender};

use crate::bag::{BagWriteError, BagWriter, Durability, RosType};
use crate::frame::Lease;

/// Topics of the output recording.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OutputChannel {
    /// A camera's detections (camera index).
    Detections(usize),
    Diagnostics,
    /// A camera's latched alarm (camera index), or the aggregate alarm (`None`).
    Alarm(Option<usize>),
}

/// One serialised message for the output recording.
pub struct OutputRecord {
    pub channel: OutputChannel,
    pub log_time_ns: u64,
    pub bytes: Lease<Vec<u8>>,
}

/// Why the output recording failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Bag(#[from] BagWriteError),
    #[error("cannot start the output writer thread: {0}")]
    Spawn(std::io::Error),
    #[error("the output writer thread panicked; the recording is incomplete")]
    WriterPanicked,
}

/// Records queued between the stages and the writer thread.
pub const OUTPUT_QUEUE: usize = 256;

/// The running writer thread.
pub struct OutputWriter {
    records: Sender<OutputRecord>,
    thread: JoinHandle<Result<OutputSummary, BagWriteError>>,
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputSummary {
    pub path: PathBuf,
    pub detections: u64,
    pub diagnostics: u64,
    pub alarms: u64,
}

/// Topic names for the output recording.
#[derive(Clone, Debug)]
pub struct OutputTopics {
    /// Each camera's detections topic (camera index order).
    pub detections: Vec<String>,
    pub diagnostics: String,
    /// Each camera's alarm topic (empty with a single camera, whose alarm is the aggregate).
    pub camera_alarms: Vec<String>,
    /// The aggregate alarm (the worst level of every monitor).
    pub alarm: String,
}

impl OutputWriter {
    /// Create the recording in `dir` and start the writer thread.
    pub fn start(dir: &Path, topics: &OutputTopics) -> Result<Self, OutputError> {
        let mut writer = BagWriter::create_file(dir, "output.mcap")?;
        let mut detections = Vec::with_capacity(topics.detections.len());
        for name in &topics.detections {
            detections.push(writer.add_topic(
                name,
                RosType::Detection2DArray,
                Durability::Volatile,
            )?);
        }
        let diagnostics = writer.add_topic(
            &topics.diagnostics,
            RosType::DiagnosticArray,
            Durability::Volatile,
        )?;
        let mut camera_alarms = Vec::with_capacity(topics.camera_alarms.len());
        for name in &topics.camera_alarms {
            camera_alarms.push(writer.add_topic(
                name,
                RosType::DiagnosticStatus,
                Durability::TransientLocal,
            )?);
        }
        let alarm = writer.add_topic(
            &topics.alarm,
            RosType::DiagnosticStatus,
            Durability::TransientLocal,
        )?;
        let (tx, rx): (Sender<OutputRecord>, Receiver<OutputRecord>) =
            channel::bounded(OUTPUT_QUEUE);
        let thread = std::thread::Builder::new()
            .name("redline-output".into())
            .spawn(move || {
                let mut summary = OutputSummary::default();
                for record in rx {
                    let (topic, count) = match record.channel {
                        OutputChannel::Detections(c) => match detections.get(c) {
                            Some(t) => (*t, &mut summary.detections),
                            None => continue,
                        },
                        OutputChannel::Diagnostics => (diagnostics, &mut summary.diagnostics),
                        OutputChannel::Alarm(Some(c)) => match camera_alarms.get(c) {
                            Some(t) => (*t, &mut summary.alarms),
                            None => continue,
                        },
                        OutputChannel::Alarm(None) => (alarm, &mut summary.alarms),
                    };
                    writer.write(topic, record.log_time_ns, &record.bytes)?;
                    *count += 1;
                }
                summary.path = writer.finish()?;
                Ok(summary)
            })
            .map_err(OutputError::Spawn)?;
        Ok(Self {
            records: tx,
            thread,
        })
    }

    /// A sender for records (the sink and the driver each hold one).
    pub fn sender(&self) -> Sender<OutputRecord> {
        self.records.clone()
    }

    /// Close the queue, wait for the writer and finish the file. Every other sender must have
    /// been dropped (the pipeline shut down) for this to return.
    pub fn finish(self) -> Result<OutputSummary, OutputError> {
        drop(self.records);
        match self.thread.join() {
            Ok(result) => result.map_err(OutputError::Bag),
            Err(_) => Err(OutputError::WriterPanicked),
        }
    }
}
