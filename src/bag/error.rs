//! Errors reading a rosbag2 recording: each names the file and where in it things went wrong.

use std::path::PathBuf;

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
    #[error("{path}: MCAP error after message #{messages_read} (last log time {last_log_time_ns} ns): {source}")]
    Mcap {
        path: PathBuf,
        messages_read: u64,
        last_log_time_ns: u64,
        #[source]
        source: mcap::McapError,
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
