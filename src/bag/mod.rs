//! rosbag2 recordings: reading directories (metadata.yaml versions 5–9, one or several MCAP or
//! sqlite3 files) and bare `.mcap` / `.db3` files, picking the image topic to replay, and
//! writing MCAP recordings (profile `ros2`) with a version-5 metadata.yaml.
//!
//! ```no_run
//! use redline::bag::Bag;
//! let bag = Bag::open("recording/".as_ref())?;
//! let topic = bag.choose_image_topic("")?; // the only image topic, or the configured one
//! for message in bag.messages(&topic.name) {
//!     let message = message?; // CDR bytes and the recording time
//!     # let _ = message;
//! }
//! # Ok::<(), redline::bag::BagError>(())
//! ```
//!
//! No-panic rule: this module reads untrusted files, so `unwrap`, `expect`, `panic!` and
//! unchecked indexing are denied here and in every submodule; the readers also deny unchecked
//! arithmetic.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod error;
mod files;
mod inflate;
mod limits;
mod mcap_reader;
mod mcap_records;
mod metadata;
pub mod msg_definitions;
mod sqlite_reader;
pub mod writer;

use std::path::{Path, PathBuf};

pub use error::BagError;
pub use files::MAX_METADATA_BYTES;
pub use limits::{BagLimits, CHUNK_SLACK_BYTES, MESSAGE_HEADER_BYTES, REORDER_BYTES};
pub use mcap_records::{McapProblem, Place};
pub use metadata::{BagMetadata, TopicInfo};
pub use msg_definitions::RosType;
pub use writer::{BagWriteError, BagWriter, Durability, TopicId};

use files::BagDir;

/// ROS type names of the image messages redline replays.
pub const IMAGE_TYPE: &str = "sensor_msgs/msg/Image";
pub const COMPRESSED_IMAGE_TYPE: &str = "sensor_msgs/msg/CompressedImage";

/// One recorded message: its recording time and its CDR bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagMessage {
    pub log_time_ns: u64,
    pub data: Vec<u8>,
}

/// How the bag stores its messages.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    Mcap,
    Sqlite3,
}

/// An opened recording.
#[derive(Clone, Debug)]
pub struct Bag {
    path: PathBuf,
    storage: Storage,
    files: Vec<PathBuf>,
    topics: Vec<TopicInfo>,
    metadata_version: Option<u64>,
    limits: BagLimits,
}

impl Bag {
    /// Open a rosbag2 directory or a bare `.mcap` / `.db3` file with the default limits
    /// (images up to 3840 × 2160).
    pub fn open(path: &Path) -> Result<Self, BagError> {
        Self::open_with_limits(path, BagLimits::default())
    }

    /// Open a rosbag2 directory or a bare `.mcap` / `.db3` file; no message or chunk beyond
    /// `limits` is ever allocated or inflated. A directory's data files must be regular files
    /// inside it, each listed once.
    pub fn open_with_limits(path: &Path, limits: BagLimits) -> Result<Self, BagError> {
        if let Err(source) = std::fs::metadata(path) {
            return Err(if source.kind() == std::io::ErrorKind::NotFound {
                BagError::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                BagError::Open {
                    path: path.to_path_buf(),
                    source,
                }
            });
        }
        if path.is_dir() {
            let dir = BagDir::new(path)?;
            if path.join("metadata.yaml").exists() {
                let meta = BagMetadata::read(path)?;
                let storage = match meta.storage.as_str() {
                    "mcap" => Storage::Mcap,
                    "sqlite3" => Storage::Sqlite3,
                    other => {
                        return Err(BagError::UnsupportedStorage {
                            path: path.to_path_buf(),
                            storage: other.chars().take(64).collect(),
                        })
                    }
                };
                let files = dir.listed(&meta.files)?;
                let topics = if meta.topics.is_empty() {
                    read_topics(storage, &files, limits)?
                } else {
                    meta.topics
                };
                return Ok(Self {
                    path: path.to_path_buf(),
                    storage,
                    files,
                    topics,
                    metadata_version: Some(meta.version),
                    limits,
                });
            }
            // No metadata.yaml: every data file in the directory, in name order.
            let mut files: Vec<PathBuf> = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|source| BagError::Open {
                path: path.to_path_buf(),
                source,
            })? {
                let entry = entry.map_err(|source| BagError::Open {
                    path: path.to_path_buf(),
                    source,
                })?;
                let p = entry.path();
                if storage_of(&p).is_some() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    files.push(dir.inside(&p, &name)?);
                }
            }
            files.sort();
            files.dedup();
            let storage =
                files
                    .first()
                    .and_then(|f| storage_of(f))
                    .ok_or_else(|| BagError::NotABag {
                        path: path.to_path_buf(),
                    })?;
            files.retain(|f| storage_of(f) == Some(storage));
            let topics = read_topics(storage, &files, limits)?;
            return Ok(Self {
                path: path.to_path_buf(),
                storage,
                files,
                topics,
                metadata_version: None,
                limits,
            });
        }
        let storage = storage_of(path).ok_or_else(|| BagError::NotABag {
            path: path.to_path_buf(),
        })?;
        files::regular_file(path)?;
        let files = vec![path.to_path_buf()];
        let topics = read_topics(storage, &files, limits)?;
        Ok(Self {
            path: path.to_path_buf(),
            storage,
            files,
            topics,
            metadata_version: None,
            limits,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn storage(&self) -> Storage {
        self.storage
    }
    /// The data files read, resolved (inside the bag directory).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
    pub fn topics(&self) -> &[TopicInfo] {
        &self.topics
    }
    /// The `metadata.yaml` version, when the bag has one.
    pub fn metadata_version(&self) -> Option<u64> {
        self.metadata_version
    }
    /// The limits the bag is read with.
    pub fn limits(&self) -> BagLimits {
        self.limits
    }

    /// The topic to replay: `configured` if set (it must exist and be an image topic), else
    /// the only image topic in the bag.
    pub fn choose_image_topic(&self, configured: &str) -> Result<TopicInfo, BagError> {
        let images: Vec<&TopicInfo> = self
            .topics
            .iter()
            .filter(|t| t.type_name == IMAGE_TYPE || t.type_name == COMPRESSED_IMAGE_TYPE)
            .collect();
        let names = |ts: &[&TopicInfo]| ts.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        if !configured.is_empty() {
            return images
                .iter()
                .find(|t| t.name == configured)
                .map(|t| (*t).clone())
                .ok_or_else(|| BagError::TopicNotFound {
                    path: self.path.clone(),
                    topic: configured.to_string(),
                    candidates: names(&images),
                });
        }
        match images.as_slice() {
            [only] => Ok((*only).clone()),
            [] => Err(BagError::NoImageTopic {
                path: self.path.clone(),
                topics: self.topics.iter().map(|t| t.name.clone()).collect(),
            }),
            many => Err(BagError::AmbiguousImageTopic {
                path: self.path.clone(),
                candidates: names(many),
            }),
        }
    }

    /// The messages of `topic`, in recording-time order. A damaged file yields the messages
    /// before the damage, then one error, then ends. When fewer messages are read than the
    /// bag's metadata (or the file's own statistics) count, the last item is an error: frames
    /// were lost. More than counted is fine: a count is only ever a hint.
    pub fn messages(
        &self,
        topic: &str,
    ) -> Box<dyn Iterator<Item = Result<BagMessage, BagError>> + Send> {
        let inner: Box<dyn Iterator<Item = Result<BagMessage, BagError>> + Send> =
            match self.storage {
                Storage::Mcap => Box::new(mcap_reader::McapTopicStream::new(
                    self.files.clone(),
                    topic,
                    self.limits,
                )),
                Storage::Sqlite3 => Box::new(sqlite_reader::SqliteTopicStream::new(
                    self.files.clone(),
                    topic,
                    self.limits,
                )),
            };
        let claimed = self
            .topics
            .iter()
            .find(|t| t.name == topic)
            .and_then(|t| t.message_count);
        Box::new(CountCheck {
            inner,
            path: self.path.clone(),
            topic: topic.to_string(),
            claim_source: if self.metadata_version.is_some() {
                "metadata.yaml"
            } else {
                "the file's own index"
            },
            claimed,
            read: 0,
            failed: false,
            done: false,
        })
    }
}

/// Ends a message stream with an error when fewer messages came than were claimed.
struct CountCheck {
    inner: Box<dyn Iterator<Item = Result<BagMessage, BagError>> + Send>,
    path: PathBuf,
    topic: String,
    claim_source: &'static str,
    claimed: Option<u64>,
    read: u64,
    failed: bool,
    done: bool,
}

impl Iterator for CountCheck {
    type Item = Result<BagMessage, BagError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.inner.next() {
            Some(Ok(m)) => {
                self.read = self.read.saturating_add(1);
                Some(Ok(m))
            }
            Some(Err(e)) => {
                self.failed = true;
                Some(Err(e))
            }
            None => {
                self.done = true;
                match self.claimed {
                    Some(claimed) if !self.failed && self.read < claimed => {
                        Some(Err(BagError::MissingMessages {
                            path: self.path.clone(),
                            topic: self.topic.clone(),
                            claim_source: self.claim_source,
                            claimed,
                            read: self.read,
                        }))
                    }
                    _ => None,
                }
            }
        }
    }
}

fn storage_of(path: &Path) -> Option<Storage> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("mcap") => Some(Storage::Mcap),
        Some("db3") => Some(Storage::Sqlite3),
        _ => None,
    }
}

fn read_topics(
    storage: Storage,
    files: &[PathBuf],
    limits: BagLimits,
) -> Result<Vec<TopicInfo>, BagError> {
    let mut all: Vec<TopicInfo> = Vec::new();
    for f in files {
        let topics = match storage {
            Storage::Mcap => mcap_reader::topics(f, limits)?,
            Storage::Sqlite3 => sqlite_reader::topics(f)?,
        };
        for t in topics {
            match all.iter_mut().find(|a| a.name == t.name) {
                Some(a) => {
                    a.message_count = match (a.message_count, t.message_count) {
                        (Some(x), Some(y)) => Some(x.saturating_add(y)),
                        _ => None,
                    }
                }
                None => all.push(t),
            }
        }
    }
    Ok(all)
}
