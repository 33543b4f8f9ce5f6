//! Reading messages of one topic from MCAP files (chunked or not; zstd, lz4 or uncompressed)
//! through the `mcap` crate, over a memory map of each file.
//!
//! Messages come in file order; rosbag2 writes them in log-time order, and a small reorder
//! window repairs local disorder. The stream stops at the first damaged record and reports it
//! with the file, the number of messages read before it and the last log time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

use super::error::BagError;
use super::metadata::TopicInfo;
use super::BagMessage;

/// Messages held back to repair out-of-order log times.
const REORDER_WINDOW: usize = 16;

/// Map a file read-only.
pub(crate) fn map(path: &Path) -> Result<memmap2::Mmap, BagError> {
    let file = std::fs::File::open(path).map_err(|source| BagError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: the map is read-only and private to this reader; a recording being modified
    // while it is replayed is outside what replay supports (documented in the README).
    unsafe { memmap2::Mmap::map(&file) }.map_err(|source| BagError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Channels (topics) of an MCAP file: from its summary when present, else by scanning it.
pub(crate) fn topics(path: &Path) -> Result<Vec<TopicInfo>, BagError> {
    let data = map(path)?;
    let err = |source, messages_read| BagError::Mcap {
        path: path.to_path_buf(),
        messages_read,
        last_log_time_ns: 0,
        source,
    };
    let mut topics: Vec<TopicInfo> = Vec::new();
    let mut add = |name: &str, schema: Option<&str>, count: Option<u64>| {
        if let Some(t) = topics.iter_mut().find(|t| t.name == name) {
            if let (Some(c), Some(n)) = (t.message_count.as_mut(), count) {
                *c += n;
            }
        } else {
            topics.push(TopicInfo {
                name: name.to_string(),
                type_name: schema.unwrap_or_default().to_string(),
                message_count: count,
            });
        }
    };
    if let Ok(Some(summary)) = mcap::Summary::read(&data) {
        for (id, channel) in &summary.channels {
            let count = summary
                .stats
                .as_ref()
                .and_then(|s| s.channel_message_counts.get(id).copied());
            add(
                &channel.topic,
                channel.schema.as_ref().map(|s| s.name.as_str()),
                count,
            );
        }
        return Ok(topics);
    }
    for (read, message) in mcap::MessageStream::new(&data)
        .map_err(|e| err(e, 0))?
        .enumerate()
    {
        let message = message.map_err(|e| err(e, read as u64))?;
        add(
            &message.channel.topic,
            message.channel.schema.as_ref().map(|s| s.name.as_str()),
            Some(1),
        );
    }
    Ok(topics)
}

/// Streams the messages of one topic across the files of a bag.
pub(crate) struct McapTopicStream {
    files: Vec<PathBuf>,
    next_file: usize,
    topic: String,
    current: Option<FileStream>,
    pending: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>,
    order: u64,
    failed: bool,
    deferred_error: Option<BagError>,
}

struct FileStream {
    path: PathBuf,
    // Field order matters: the stream borrows the map, so it is dropped first.
    stream: mcap::MessageStream<'static>,
    _map: Box<memmap2::Mmap>,
    read: u64,
    last_log_time: u64,
}

impl FileStream {
    fn open(path: &Path) -> Result<Self, BagError> {
        let map = Box::new(map(path)?);
        // SAFETY: `map` is boxed (its address is stable) and outlives `stream`, which is
        // declared before it and therefore dropped first; the slice is never handed out
        // beyond the life of `self`.
        let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) };
        let stream = mcap::MessageStream::new(bytes).map_err(|source| BagError::Mcap {
            path: path.to_path_buf(),
            messages_read: 0,
            last_log_time_ns: 0,
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            stream,
            _map: map,
            read: 0,
            last_log_time: 0,
        })
    }
}

impl McapTopicStream {
    pub(crate) fn new(files: Vec<PathBuf>, topic: &str) -> Self {
        Self {
            files,
            next_file: 0,
            topic: topic.to_string(),
            current: None,
            pending: BinaryHeap::new(),
            order: 0,
            failed: false,
            deferred_error: None,
        }
    }

    /// The next message of the topic in file order, or an error (after which it ends).
    fn next_raw(&mut self) -> Option<Result<(u64, Vec<u8>), BagError>> {
        loop {
            if self.current.is_none() {
                let path = self.files.get(self.next_file)?.clone();
                self.next_file += 1;
                match FileStream::open(&path) {
                    Ok(f) => self.current = Some(f),
                    Err(e) => return Some(Err(e)),
                }
            }
            let file = self.current.as_mut()?;
            match file.stream.next() {
                None => {
                    self.current = None;
                }
                Some(Err(source)) => {
                    let e = BagError::Mcap {
                        path: file.path.clone(),
                        messages_read: file.read,
                        last_log_time_ns: file.last_log_time,
                        source,
                    };
                    self.current = None;
                    self.next_file = self.files.len();
                    return Some(Err(e));
                }
                Some(Ok(message)) => {
                    file.read += 1;
                    file.last_log_time = message.log_time;
                    if message.channel.topic == self.topic {
                        return Some(Ok((message.log_time, message.data.into_owned())));
                    }
                }
            }
        }
    }
}

impl Iterator for McapTopicStream {
    type Item = Result<BagMessage, BagError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed && self.pending.len() < REORDER_WINDOW {
            match self.next_raw() {
                Some(Ok((log_time, data))) => {
                    self.order += 1;
                    self.pending.push(Reverse((log_time, self.order, data)));
                }
                Some(Err(e)) => {
                    self.failed = true;
                    // Deliver what was read before the damage first, then the error.
                    if self.pending.is_empty() {
                        return Some(Err(e));
                    }
                    self.deferred_error = Some(e);
                }
                None => break,
            }
        }
        match self.pending.pop() {
            Some(Reverse((log_time_ns, _, data))) => Some(Ok(BagMessage { log_time_ns, data })),
            None => self.deferred_error.take().map(Err),
        }
    }
}
