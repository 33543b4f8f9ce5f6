//! The replay's output recording: a writer thread that owns the MCAP bag writer and receives
//! serialised messages (detections from the publish stage; diagnostics and alarm transitions
//! from the replay driver) over a bounded channel, so no stage ever waits for the disk.
//! [`check_out_dir`] refuses an output directory that is a file, or that is or contains the
//! input recording, before anything is written.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crossbeam::channel::{self, Receiver, Sender};

use crate::bag::{BagWriteError, BagWriter, Durability, RosType};
use crate::frame::Lease;

/// Topics of the output recording.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OutputChannel {
    /// A camera's detections: camera index, the frame's pipeline sequence number and how many
    /// detections it had (collected by the writer thread for the report, so the publish stage
    /// keeps no per-frame list whose size would have to be guessed up front).
    Detections {
        camera: usize,
        seq: u64,
        count: u32,
    },
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
    #[error("--out {}: this is a file, not a directory; name a directory for the outputs (it is created when missing)", out.display())]
    OutIsAFile { out: PathBuf },
    #[error("--out {}: this directory is or contains the input {}; the outputs (output.mcap, metadata.yaml, report.json, report.html) must never overwrite a recording, so choose another directory", out.display(), input.display())]
    OutHoldsInput { out: PathBuf, input: PathBuf },
}

/// `out` must be a directory or not exist yet, and must not be or contain `input` (a bag
/// directory or file); both are compared with symlinks resolved.
pub fn check_out_dir(out: &Path, input: &Path) -> Result<(), OutputError> {
    if out.exists() && !out.is_dir() {
        return Err(OutputError::OutIsAFile {
            out: out.to_path_buf(),
        });
    }
    let Ok(input_real) = input.canonicalize() else {
        // A missing input is reported when the bag is opened.
        return Ok(());
    };
    if resolved(out).is_some_and(|out_real| input_real.starts_with(out_real)) {
        return Err(OutputError::OutHoldsInput {
            out: out.to_path_buf(),
            input: input.to_path_buf(),
        });
    }
    Ok(())
}

/// `path` with symlinks resolved as far as it exists, the missing rest appended.
fn resolved(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in missing.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        missing.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    }
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
    /// `(frame seq, detections)` of every detection message written, in arrival order.
    pub frame_detections: Vec<(u64, u32)>,
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
    /// Create the recording in `dir` (checked with [`check_out_dir`] by the caller) and start
    /// the writer thread.
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
                        OutputChannel::Detections { camera, seq, count } => {
                            match detections.get(camera) {
                                Some(t) => {
                                    summary.frame_detections.push((seq, count));
                                    (*t, &mut summary.detections)
                                }
                                None => continue,
                            }
                        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_may_not_be_a_file_or_hold_the_input() {
        let tmp = tempfile::tempdir().unwrap();
        let bag = tmp.path().join("bag");
        std::fs::create_dir(&bag).unwrap();
        std::fs::write(bag.join("a.mcap"), b"x").unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&bag, &link).unwrap();
        assert!(matches!(
            check_out_dir(&file, &bag),
            Err(OutputError::OutIsAFile { .. })
        ));
        for out in [bag.clone(), tmp.path().to_path_buf(), link, bag.join("..")] {
            let err = check_out_dir(&out, &bag).unwrap_err();
            assert!(
                matches!(err, OutputError::OutHoldsInput { .. }),
                "{}",
                out.display()
            );
            assert!(err.to_string().contains("must never overwrite"), "{err}");
        }
        assert!(matches!(
            check_out_dir(&bag, &bag.join("a.mcap")),
            Err(OutputError::OutHoldsInput { .. })
        ));
        check_out_dir(&tmp.path().join("new/deeper"), &bag).unwrap();
        check_out_dir(&bag.join("out"), &bag).unwrap();
    }
}
