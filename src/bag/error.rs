//! Errors reading a rosbag2 recording: each names the file and where in it things went wrong.

use std::path::PathBuf;

use super::mcap_records::McapProblem;

/// Why a bag (or part of it) could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BagError {
    #[error("{path}: no such file or directory (give a rosbag2 directory, .mcap or .db3 file)")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a rosbag2 recording (no metadata.yaml, .mcap or .db3 file found)")]
    NotABag { path: PathBuf },
    #[error("{path}: metadata.yaml: {problem}")]
    Metadata { path: PathBuf, problem: String },
    #[error("{path}: unsupported storage {storage:?} (redline reads mcap and sqlite3)")]
    UnsupportedStorage { path: PathBuf, storage: String },
    #[error("{path}: MCAP damaged after message #{messages_read} (last log time {last_log_time_ns} ns): {problem}")]
    McapRecord {
        path: PathBuf,
        messages_read: u64,
        last_log_time_ns: u64,
        problem: McapProblem,
    },
    #[error("{path}: metadata.yaml lists {file:?}, {reason}; a bag reads only regular files inside its own directory")]
    FileOutsideBag {
        path: PathBuf,
        file: String,
        reason: &'static str,
    },
    #[error("{path}: metadata.yaml lists {file:?} twice (a file may be listed only once, under any spelling)")]
    DuplicateFile { path: PathBuf, file: String },
    #[error("{path}: not a regular file")]
    NotARegularFile { path: PathBuf },
    #[error("{path}: {what} is {size} bytes, more than the limit of {limit} bytes (the largest image input.max_width × input.max_height allows, plus headers)")]
    TooLarge {
        path: PathBuf,
        what: String,
        size: u64,
        limit: u64,
    },
    #[error("{path}: {claim_source} counts {claimed} messages on {topic:?}, but only {read} were read: messages were lost")]
    MissingMessages {
        path: PathBuf,
        topic: String,
        claim_source: &'static str,
        claimed: u64,
        read: u64,
    },
    #[error("{path}: topic {topic:?} is listed in metadata.yaml but no data file has it; their topics: {found:?}")]
    TopicNotInData {
        path: PathBuf,
        topic: String,
        found: Vec<String>,
    },
    #[error("{path}: message row id {row} has a negative timestamp {timestamp} ns")]
    NegativeTimestamp {
        path: PathBuf,
        row: i64,
        timestamp: i64,
    },
    #[error("{path}: sqlite3 error at {what}: {source}")]
    Sqlite {
        path: PathBuf,
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: topic {topic:?} not found; image topics in this bag: {candidates:?}")]
    TopicNotFound {
        path: PathBuf,
        topic: String,
        candidates: Vec<String>,
    },
    #[error("{path}: no image topic (sensor_msgs/msg/Image or CompressedImage) in this bag; topics: {topics:?}")]
    NoImageTopic { path: PathBuf, topics: Vec<String> },
    #[error("{path}: several image topics {candidates:?}; choose one with input.topic")]
    AmbiguousImageTopic {
        path: PathBuf,
        candidates: Vec<String>,
    },
    #[error("{path}: topic {topic:?} has type {found:?}, expected {expected:?} (input.transport)")]
    WrongTopicType {
        path: PathBuf,
        topic: String,
        found: String,
        expected: String,
    },
}
