//! Reading messages of one topic from MCAP files (chunked or not; zstd, lz4 or uncompressed)
//! over a memory map of each file, with redline's own record walker ([`super::mcap_records`])
//! and capped decompression ([`super::inflate`]) rather than the `mcap` crate's reader, whose
//! chunk decompression allocates whatever a chunk header claims.
//!
//! Messages come in file order; rosbag2 writes them in log-time order, and a small reorder
//! window (bounded in messages and bytes) repairs local disorder. The stream stops at the first
//! damaged record and reports it with the file, the number of messages read before it and the
//! last log time. Nothing is lost silently: a chunk yielding fewer messages of the topic than
//! its message index lists, or a file yielding fewer than its statistics count, is an error.
#![deny(clippy::arithmetic_side_effects)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};

use super::error::BagError;
use super::files::open_no_follow;
use super::inflate::Inflater;
use super::limits::{BagLimits, REORDER_BYTES, REORDER_WINDOW};
use super::mcap_records::{self as rec, op, McapProblem, Place, Record, Records, MAGIC};
use super::metadata::TopicInfo;
use super::BagMessage;

/// Most distinct channels tracked per file.
const MAX_CHANNELS: usize = 8192;
/// Most topic names kept for an error message.
const NAMES_IN_ERRORS: usize = 32;

/// Map a file read-only (a regular file, opened without following a final symlink).
pub(crate) fn map(path: &Path) -> Result<memmap2::Mmap, BagError> {
    let file = open_no_follow(path)?;
    // SAFETY: the map is read-only and private to this reader; a recording being modified
    // while it is replayed is outside what replay supports (documented in the README).
    unsafe { memmap2::Mmap::map(&file) }.map_err(|source| BagError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Channels and schemas seen so far in one file.
#[derive(Default)]
struct Channels {
    schemas: HashMap<u16, String>,
    /// id → (topic, schema id)
    channels: HashMap<u16, (String, u16)>,
}

impl Channels {
    fn add(&mut self, r: &Record<'_>) -> Result<(), McapProblem> {
        match r.opcode {
            op::SCHEMA => {
                let s = rec::schema(r)?;
                if !self.schemas.contains_key(&s.id) {
                    self.check_room(self.schemas.len())?;
                    self.schemas.insert(s.id, s.name.to_string());
                }
            }
            op::CHANNEL => {
                let c = rec::channel(r)?;
                if !self.channels.contains_key(&c.id) {
                    self.check_room(self.channels.len())?;
                    self.channels
                        .insert(c.id, (c.topic.to_string(), c.schema_id));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_room(&self, len: usize) -> Result<(), McapProblem> {
        if len >= MAX_CHANNELS {
            Err(McapProblem::TooManyChannels {
                limit: MAX_CHANNELS,
            })
        } else {
            Ok(())
        }
    }

    fn type_of(&self, schema_id: u16) -> String {
        self.schemas.get(&schema_id).cloned().unwrap_or_default()
    }
}

/// One mapped MCAP file.
struct McapFile {
    path: PathBuf,
    map: memmap2::Mmap,
    /// Where the data section ends (the summary's start, else the file's end).
    data_end: usize,
    summary_start: Option<usize>,
}

impl McapFile {
    fn open(path: &Path) -> Result<Self, BagError> {
        let map = map(path)?;
        if map.get(..8) != Some(&MAGIC[..]) {
            return Err(BagError::McapRecord {
                path: path.to_path_buf(),
                messages_read: 0,
                last_log_time_ns: 0,
                problem: McapProblem::BadMagic,
            });
        }
        let summary_start = match rec::file_footer(&map) {
            Some(Ok(start)) if start >= 8 && start < map.len() as u64 => {
                usize::try_from(start).ok()
            }
            _ => None,
        };
        let data_end = summary_start.unwrap_or(map.len());
        Ok(Self {
            path: path.to_path_buf(),
            map,
            data_end,
            summary_start,
        })
    }

    fn error(&self, problem: McapProblem, messages_read: u64, last_log_time_ns: u64) -> BagError {
        BagError::McapRecord {
            path: self.path.clone(),
            messages_read,
            last_log_time_ns,
            problem,
        }
    }

    fn data(&self) -> Records<'_> {
        Records::new(self.map.get(8..self.data_end).unwrap_or_default(), 8, None)
    }

    /// Channels and per-channel statistics from the summary section, when the file has a
    /// readable one with channels in it.
    fn summary(&self) -> Option<(Channels, Option<HashMap<u16, u64>>)> {
        let start = self.summary_start?;
        let bytes = self.map.get(start..)?;
        let mut channels = Channels::default();
        let mut counts: Option<HashMap<u16, u64>> = None;
        for r in Records::new(bytes, start as u64, None) {
            let r = r.ok()?;
            match r.opcode {
                op::FOOTER => break,
                op::STATISTICS => {
                    let map = counts.get_or_insert_with(HashMap::new);
                    for (id, n) in rec::statistics_counts(&r).ok()? {
                        if map.len() < MAX_CHANNELS {
                            map.insert(id, n);
                        }
                    }
                }
                _ => channels.add(&r).ok()?,
            }
        }
        (!channels.channels.is_empty()).then_some((channels, counts))
    }
}

/// Topics of an MCAP file with their types and counts: from its summary when present, else
/// by reading the whole file (chunks inflated within `limits`).
pub(crate) fn topics(path: &Path, limits: BagLimits) -> Result<Vec<TopicInfo>, BagError> {
    let file = McapFile::open(path)?;
    let (channels, counts) = match file.summary() {
        Some(summary) => summary,
        None => scan(&file, limits)?,
    };
    let mut topics: Vec<TopicInfo> = Vec::new();
    let mut ids: Vec<(&u16, &(String, u16))> = channels.channels.iter().collect();
    ids.sort();
    for (id, (topic, schema)) in ids {
        let count = counts.as_ref().map(|c| c.get(id).copied().unwrap_or(0));
        match topics.iter_mut().find(|t| &t.name == topic) {
            Some(t) => {
                t.message_count = match (t.message_count, count) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    _ => None,
                }
            }
            None => topics.push(TopicInfo {
                name: topic.clone(),
                type_name: channels.type_of(*schema),
                message_count: count,
            }),
        }
    }
    Ok(topics)
}

/// Read a file without a summary: every schema, channel and message count. When the file is
/// damaged part-way, the channels found before the damage are kept (with counts unknown), so
/// that the frames before it can still be replayed; the message stream then reports the damage
/// where it is. Damage before any channel is an error here.
fn scan(
    file: &McapFile,
    limits: BagLimits,
) -> Result<(Channels, Option<HashMap<u16, u64>>), BagError> {
    let mut channels = Channels::default();
    let mut counts: HashMap<u16, u64> = HashMap::new();
    let mut read = 0u64;
    match scan_records(file, limits, &mut channels, &mut counts, &mut read) {
        Ok(()) => Ok((channels, Some(counts))),
        Err(_) if !channels.channels.is_empty() => Ok((channels, None)),
        Err(problem) => Err(file.error(problem, read, 0)),
    }
}

fn scan_records(
    file: &McapFile,
    limits: BagLimits,
    channels: &mut Channels,
    counts: &mut HashMap<u16, u64>,
    read: &mut u64,
) -> Result<(), McapProblem> {
    let mut inflater = Inflater::new();
    let mut chunk_buf = Vec::new();
    let mut records = file.data();
    for r in records.by_ref() {
        let r = r?;
        match r.opcode {
            op::DATA_END | op::FOOTER => return Ok(()),
            op::CHUNK => {
                inflate_chunk(&r, limits, &mut inflater, &mut chunk_buf)?;
                for inner in Records::new(&chunk_buf, 0, Some(r.at.offset)) {
                    note(&inner?, channels, counts, read)?;
                }
            }
            _ => note(&r, channels, counts, read)?,
        }
    }
    if file.summary_start.is_none() {
        return Err(McapProblem::NoEnd {
            at: records.place(),
        });
    }
    Ok(())
}

/// Count a message per channel, or learn a schema or channel.
fn note(
    r: &Record<'_>,
    channels: &mut Channels,
    counts: &mut HashMap<u16, u64>,
    read: &mut u64,
) -> Result<(), McapProblem> {
    if r.opcode != op::MESSAGE {
        return channels.add(r);
    }
    let m = rec::message(r)?;
    if counts.len() < MAX_CHANNELS || counts.contains_key(&m.channel_id) {
        let n = counts.entry(m.channel_id).or_default();
        *n = n.saturating_add(1);
    }
    *read = read.saturating_add(1);
    Ok(())
}

/// Check a chunk's claimed size against the limit, then inflate it into `out`.
fn inflate_chunk(
    r: &Record<'_>,
    limits: BagLimits,
    inflater: &mut Inflater,
    out: &mut Vec<u8>,
) -> Result<(), McapProblem> {
    let chunk = rec::chunk(r)?;
    if chunk.uncompressed_size > limits.max_chunk_bytes {
        return Err(McapProblem::TooLarge {
            what: "chunk",
            at: r.at,
            claimed: chunk.uncompressed_size,
            limit: limits.max_chunk_bytes,
        });
    }
    inflater.inflate(
        r.at,
        chunk.compression,
        chunk.data,
        chunk.uncompressed_size,
        out,
    )?;
    if chunk.uncompressed_crc != 0 {
        let computed = crc32fast::hash(out);
        if computed != chunk.uncompressed_crc {
            out.clear();
            return Err(McapProblem::BadCrc {
                at: r.at,
                stored: chunk.uncompressed_crc,
                computed,
            });
        }
    }
    Ok(())
}

/// The chunk being read and what is known of it.
struct ChunkCursor {
    at: Place,
    /// Next record in the inflated buffer.
    pos: usize,
    /// Messages of the topic yielded from it.
    topic_read: u64,
}

/// A chunk that has been read, waiting for its message index records.
struct ChunkCheck {
    at: Place,
    topic_read: u64,
    indexed: u64,
}

/// Counts kept while reading one file.
#[derive(Default)]
struct Tally {
    /// Messages read (any topic).
    read: u64,
    /// Messages of the topic read.
    topic_read: u64,
    last_log_time: u64,
}

/// Channels known so far and which of them carry the topic.
struct Routing {
    channels: Channels,
    ours: Vec<u16>,
}

impl Routing {
    fn new(channels: Channels, topic: &str) -> Self {
        let mut r = Self {
            channels,
            ours: Vec::new(),
        };
        r.refresh(topic);
        r
    }

    fn refresh(&mut self, topic: &str) {
        self.ours = self
            .channels
            .channels
            .iter()
            .filter(|(_, (t, _))| t == topic)
            .map(|(id, _)| *id)
            .collect();
    }

    /// Handle one record (from the data section or from a chunk): a message of the topic is
    /// copied out (checked against the message limit first).
    fn record(
        &mut self,
        r: &Record<'_>,
        topic: &str,
        tally: &mut Tally,
        limits: BagLimits,
    ) -> Result<Option<(u64, Vec<u8>)>, McapProblem> {
        match r.opcode {
            op::MESSAGE => {
                let m = rec::message(r)?;
                tally.read = tally.read.saturating_add(1);
                tally.last_log_time = m.log_time;
                if !self.ours.contains(&m.channel_id) {
                    return Ok(None);
                }
                if m.data.len() as u64 > limits.max_message_bytes {
                    return Err(McapProblem::TooLarge {
                        what: "message",
                        at: r.at,
                        claimed: m.data.len() as u64,
                        limit: limits.max_message_bytes,
                    });
                }
                tally.topic_read = tally.topic_read.saturating_add(1);
                Ok(Some((m.log_time, m.data.to_vec())))
            }
            op::SCHEMA | op::CHANNEL => {
                self.channels.add(r)?;
                self.refresh(topic);
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

/// Close a pending chunk check: fewer messages than its index lists is a loss.
fn settle(check: &mut Option<ChunkCheck>) -> Result<(), McapProblem> {
    match check.take() {
        Some(c) if c.topic_read < c.indexed => Err(McapProblem::FewerThanIndexed {
            at: c.at,
            read: c.topic_read,
            indexed: c.indexed,
        }),
        _ => Ok(()),
    }
}

/// Reading state of one file.
struct FileStream {
    file: McapFile,
    limits: BagLimits,
    /// Offset (in the data section, after the magic) of the next record.
    pos: usize,
    chunk_buf: Vec<u8>,
    chunk: Option<ChunkCursor>,
    check: Option<ChunkCheck>,
    inflater: Inflater,
    routing: Routing,
    counted: Option<u64>,
    tally: Tally,
    done: bool,
}

/// What the next record of a file gave.
enum Step {
    Message(u64, Vec<u8>),
    Continue,
    End,
}

impl FileStream {
    fn open(path: &Path, topic: &str, limits: BagLimits) -> Result<Self, BagError> {
        let file = McapFile::open(path)?;
        let (channels, counts) = file.summary().unwrap_or_default();
        let routing = Routing::new(channels, topic);
        let counted = counts.map(|c| {
            routing
                .ours
                .iter()
                .map(|id| c.get(id).copied().unwrap_or(0))
                .fold(0u64, u64::saturating_add)
        });
        Ok(Self {
            file,
            limits,
            pos: 0,
            chunk_buf: Vec::new(),
            chunk: None,
            check: None,
            inflater: Inflater::new(),
            routing,
            counted,
            tally: Tally::default(),
            done: false,
        })
    }

    fn error(&self, problem: McapProblem) -> BagError {
        self.file
            .error(problem, self.tally.read, self.tally.last_log_time)
    }

    /// Whether the file has a channel for the topic.
    fn has_topic(&self) -> bool {
        !self.routing.ours.is_empty()
    }

    fn topic_names(&self) -> impl Iterator<Item = &String> {
        self.routing.channels.channels.values().map(|(t, _)| t)
    }

    /// The next record inside the current chunk.
    fn chunk_step(&mut self, topic: &str) -> Option<Result<Step, McapProblem>> {
        let cursor = self.chunk.as_mut()?;
        let mut records = Records::new(
            self.chunk_buf.get(cursor.pos..).unwrap_or_default(),
            cursor.pos as u64,
            cursor.at.chunk,
        );
        let Some(r) = records.next() else {
            self.check = Some(ChunkCheck {
                at: Place {
                    chunk: None,
                    offset: cursor.at.chunk.unwrap_or(cursor.at.offset),
                },
                topic_read: cursor.topic_read,
                indexed: 0,
            });
            self.chunk = None;
            return Some(Ok(Step::Continue));
        };
        cursor.pos = cursor.pos.saturating_add(records.consumed());
        let got = r.and_then(|r| self.routing.record(&r, topic, &mut self.tally, self.limits));
        Some(got.map(|got| match got {
            Some((t, d)) => {
                cursor.topic_read = cursor.topic_read.saturating_add(1);
                Step::Message(t, d)
            }
            None => Step::Continue,
        }))
    }

    fn step(&mut self, topic: &str) -> Result<Step, McapProblem> {
        if let Some(step) = self.chunk_step(topic) {
            return step;
        }
        let data = self.file.map.get(8..self.file.data_end).unwrap_or_default();
        let mut records = Records::new(
            data.get(self.pos..).unwrap_or_default(),
            (self.pos as u64).saturating_add(8),
            None,
        );
        let Some(r) = records.next() else {
            settle(&mut self.check)?;
            if self.file.summary_start.is_none() {
                return Err(McapProblem::NoEnd {
                    at: records.place(),
                });
            }
            return Ok(Step::End);
        };
        let r = r?;
        self.pos = self.pos.saturating_add(records.consumed());
        if r.opcode != op::MESSAGE_INDEX {
            settle(&mut self.check)?;
        }
        match r.opcode {
            op::DATA_END | op::FOOTER => Ok(Step::End),
            op::CHUNK => {
                inflate_chunk(&r, self.limits, &mut self.inflater, &mut self.chunk_buf)?;
                self.chunk = Some(ChunkCursor {
                    at: Place {
                        chunk: Some(r.at.offset),
                        offset: 0,
                    },
                    pos: 0,
                    topic_read: 0,
                });
                Ok(Step::Continue)
            }
            op::MESSAGE_INDEX => {
                let index = rec::message_index(&r)?;
                if let Some(check) = &mut self.check {
                    if self.routing.ours.contains(&index.channel_id) {
                        check.indexed = check.indexed.saturating_add(index.entries);
                    }
                }
                Ok(Step::Continue)
            }
            _ => Ok(self
                .routing
                .record(&r, topic, &mut self.tally, self.limits)?
                .map_or(Step::Continue, |(t, d)| Step::Message(t, d))),
        }
    }

    /// The next message of the topic, or `None` at the end of the file.
    fn next_message(&mut self, topic: &str) -> Option<Result<(u64, Vec<u8>), BagError>> {
        if self.done {
            return None;
        }
        loop {
            match self.step(topic) {
                Ok(Step::Message(t, d)) => return Some(Ok((t, d))),
                Ok(Step::Continue) => {}
                Ok(Step::End) => {
                    self.done = true;
                    return match self.counted {
                        Some(counted) if self.tally.topic_read < counted => {
                            Some(Err(self.error(McapProblem::FewerThanCounted {
                                read: self.tally.topic_read,
                                counted,
                            })))
                        }
                        _ => None,
                    };
                }
                Err(problem) => {
                    self.done = true;
                    return Some(Err(self.error(problem)));
                }
            }
        }
    }
}

/// Streams the messages of one topic across the files of a bag.
pub(crate) struct McapTopicStream {
    files: Vec<PathBuf>,
    next_file: usize,
    topic: String,
    limits: BagLimits,
    current: Option<FileStream>,
    pending: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>,
    pending_bytes: u64,
    order: u64,
    failed: bool,
    deferred_error: Option<BagError>,
    /// Whether any file had a channel for the topic, and the topics the files did have.
    topic_seen: bool,
    other_topics: Vec<String>,
}

impl McapTopicStream {
    pub(crate) fn new(files: Vec<PathBuf>, topic: &str, limits: BagLimits) -> Self {
        Self {
            files,
            next_file: 0,
            topic: topic.to_string(),
            limits,
            current: None,
            pending: BinaryHeap::new(),
            pending_bytes: 0,
            order: 0,
            failed: false,
            deferred_error: None,
            topic_seen: false,
            other_topics: Vec::new(),
        }
    }

    /// The next message of the topic in file order, or an error (after which it ends).
    fn next_raw(&mut self) -> Option<Result<(u64, Vec<u8>), BagError>> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.files.get(self.next_file).cloned() else {
                    return self.missing_topic().map(Err);
                };
                self.next_file = self.next_file.saturating_add(1);
                match FileStream::open(&path, &self.topic, self.limits) {
                    Ok(f) => self.current = Some(f),
                    Err(e) => return Some(Err(e)),
                }
            }
            let file = self.current.as_mut()?;
            match file.next_message(&self.topic) {
                Some(Ok(m)) => return Some(Ok(m)),
                Some(Err(e)) => {
                    self.current = None;
                    self.next_file = self.files.len();
                    self.topic_seen = true;
                    return Some(Err(e));
                }
                None => {
                    self.topic_seen |= file.has_topic();
                    for name in file.topic_names() {
                        if self.other_topics.len() < NAMES_IN_ERRORS
                            && !self.other_topics.contains(name)
                        {
                            self.other_topics.push(name.clone());
                        }
                    }
                    self.current = None;
                }
            }
        }
    }

    /// After the last file: an error once if no file had the topic at all.
    fn missing_topic(&mut self) -> Option<BagError> {
        if self.topic_seen || self.files.is_empty() {
            return None;
        }
        self.topic_seen = true;
        let path = self.files.first()?.clone();
        Some(BagError::TopicNotInData {
            path,
            topic: self.topic.clone(),
            found: std::mem::take(&mut self.other_topics),
        })
    }
}

impl Iterator for McapTopicStream {
    type Item = Result<BagMessage, BagError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed
            && self.pending.len() < REORDER_WINDOW
            && (self.pending.is_empty() || self.pending_bytes < REORDER_BYTES)
        {
            match self.next_raw() {
                Some(Ok((log_time, data))) => {
                    self.order = self.order.saturating_add(1);
                    self.pending_bytes = self.pending_bytes.saturating_add(data.len() as u64);
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
            Some(Reverse((log_time_ns, _, data))) => {
                self.pending_bytes = self.pending_bytes.saturating_sub(data.len() as u64);
                Some(Ok(BagMessage { log_time_ns, data }))
            }
            None => self.deferred_error.take().map(Err),
        }
    }
}
