//! rosbag2 MCAP output: one `.mcap` file (profile `ros2`, schemas `ros2msg` with full
//! definitions, messages `cdr`, chunked + zstd) plus a version-5 `metadata.yaml` next to it, so
//! that `ros2 bag play` (Humble and Jazzy) and Foxglove open the directory. Both files are
//! written under temporary names and renamed when finished ([`crate::atomic_file`]): never
//! through an existing symlink, never half-written under their final names.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::msg_definitions::RosType;
use crate::atomic_file::{write_atomic, AtomicFile};

/// Why the bag could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BagWriteError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: MCAP: {source}")]
    Mcap {
        path: PathBuf,
        source: mcap::McapError,
    },
    #[error("{path}: metadata.yaml: {source}")]
    Yaml {
        path: PathBuf,
        source: serde_norway::Error,
    },
    #[error("{path}: unknown topic id {id}")]
    UnknownTopic { path: PathBuf, id: usize },
    #[error("{path}: the output file was already handed over")]
    NoFile { path: PathBuf },
}

/// A topic added to a [`BagWriter`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TopicId(usize);

/// Publisher durability recorded in `offered_qos_profiles` (what `ros2 bag play` republishes
/// with).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Durability {
    Volatile,
    /// Latched: late subscribers get the last message (alarms).
    TransientLocal,
}

struct Topic {
    name: String,
    ros_type: RosType,
    qos: String,
    channel_id: u16,
    count: u64,
}

/// Writes one rosbag2 directory. Call [`BagWriter::finish`] to complete it.
pub struct BagWriter {
    dir: PathBuf,
    mcap_path: PathBuf,
    file_name: String,
    mcap: mcap::Writer<BufWriter<File>>,
    pending: AtomicFile,
    schemas: Vec<(RosType, u16)>,
    topics: Vec<Topic>,
    first_ns: Option<u64>,
    last_ns: u64,
}

impl BagWriter {
    /// Create `dir` (and parents) and the MCAP file `<dir name>_0.mcap` inside it.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self, BagWriteError> {
        let stem = dir
            .as_ref()
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("redline")
            .to_string();
        Self::create_file(dir, &format!("{stem}_0.mcap"))
    }

    /// Like [`BagWriter::create`], with the MCAP file named `file_name` inside `dir`.
    pub fn create_file(dir: impl AsRef<Path>, file_name: &str) -> Result<Self, BagWriteError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| BagWriteError::Io {
            path: dir.clone(),
            source,
        })?;
        let mcap_path = dir.join(file_name);
        let io_err = |source| BagWriteError::Io {
            path: mcap_path.clone(),
            source,
        };
        let mut pending = AtomicFile::create(&dir, file_name).map_err(io_err)?;
        let file = pending.take_file().ok_or(BagWriteError::NoFile {
            path: mcap_path.clone(),
        })?;
        let mcap = mcap::WriteOptions::new()
            .profile("ros2")
            .library("redline")
            .compression(Some(mcap::Compression::Zstd))
            .use_chunks(true)
            .create(BufWriter::new(file))
            .map_err(|source| BagWriteError::Mcap {
                path: mcap_path.clone(),
                source,
            })?;
        Ok(Self {
            dir,
            mcap_path,
            file_name: file_name.to_string(),
            mcap,
            pending,
            schemas: Vec::new(),
            topics: Vec::new(),
            first_ns: None,
            last_ns: 0,
        })
    }

    /// The MCAP file being written.
    pub fn mcap_path(&self) -> &Path {
        &self.mcap_path
    }

    /// Add a topic (schema and channel) carrying `ros_type`.
    pub fn add_topic(
        &mut self,
        name: &str,
        ros_type: RosType,
        durability: Durability,
    ) -> Result<TopicId, BagWriteError> {
        let schema_id = match self.schemas.iter().find(|(t, _)| *t == ros_type) {
            Some((_, id)) => *id,
            None => {
                let id = self
                    .mcap
                    .add_schema(ros_type.name(), "ros2msg", ros_type.definition().as_bytes())
                    .map_err(|source| self.mcap_error(source))?;
                self.schemas.push((ros_type, id));
                id
            }
        };
        let qos = qos_yaml(durability);
        let metadata = BTreeMap::from([("offered_qos_profiles".to_string(), qos.clone())]);
        let channel_id = self
            .mcap
            .add_channel(schema_id, name, "cdr", &metadata)
            .map_err(|source| self.mcap_error(source))?;
        self.topics.push(Topic {
            name: name.to_string(),
            ros_type,
            qos,
            channel_id,
            count: 0,
        });
        Ok(TopicId(self.topics.len() - 1))
    }

    /// Append one CDR message, received (logged) at `log_time_ns` since the epoch.
    pub fn write(
        &mut self,
        topic: TopicId,
        log_time_ns: u64,
        cdr: &[u8],
    ) -> Result<(), BagWriteError> {
        let Some(entry) = self.topics.get_mut(topic.0) else {
            return Err(BagWriteError::UnknownTopic {
                path: self.mcap_path.clone(),
                id: topic.0,
            });
        };
        let header = mcap::records::MessageHeader {
            channel_id: entry.channel_id,
            sequence: u32::try_from(entry.count).unwrap_or(u32::MAX),
            log_time: log_time_ns,
            publish_time: log_time_ns,
        };
        entry.count += 1;
        self.first_ns = Some(self.first_ns.map_or(log_time_ns, |t| t.min(log_time_ns)));
        self.last_ns = self.last_ns.max(log_time_ns);
        self.mcap
            .write_to_known_channel(&header, cdr)
            .map_err(|source| self.mcap_error(source))
    }

    /// Messages written so far on `topic`.
    pub fn count(&self, topic: TopicId) -> u64 {
        self.topics.get(topic.0).map_or(0, |t| t.count)
    }

    /// Finish the MCAP file (summary, index), rename it into place and write `metadata.yaml`.
    /// Returns the directory.
    pub fn finish(mut self) -> Result<PathBuf, BagWriteError> {
        self.mcap
            .finish()
            .map_err(|source| self.mcap_error(source))?;
        let yaml_path = self.dir.join("metadata.yaml");
        let yaml =
            serde_norway::to_string(&self.metadata()).map_err(|source| BagWriteError::Yaml {
                path: yaml_path.clone(),
                source,
            })?;
        let Self {
            dir,
            mcap_path,
            mcap,
            pending,
            ..
        } = self;
        let io_err = |source| BagWriteError::Io {
            path: mcap_path.clone(),
            source,
        };
        let file = mcap
            .into_inner()
            .into_inner()
            .map_err(|e| io_err(e.into_error()))?;
        pending.commit_file(file).map_err(io_err)?;
        write_atomic(&dir, "metadata.yaml", yaml.as_bytes()).map_err(|source| {
            BagWriteError::Io {
                path: yaml_path,
                source,
            }
        })?;
        Ok(dir)
    }

    fn mcap_error(&self, source: mcap::McapError) -> BagWriteError {
        BagWriteError::Mcap {
            path: self.mcap_path.clone(),
            source,
        }
    }

    fn metadata(&self) -> MetadataFile<'_> {
        let start = self.first_ns.unwrap_or(0);
        let duration = self.last_ns.saturating_sub(start);
        let message_count = self.topics.iter().map(|t| t.count).sum();
        MetadataFile {
            rosbag2_bagfile_information: BagInfo {
                version: 5,
                storage_identifier: "mcap",
                duration: Nanoseconds {
                    nanoseconds: duration,
                },
                starting_time: SinceEpoch {
                    nanoseconds_since_epoch: start,
                },
                message_count,
                topics_with_message_count: self
                    .topics
                    .iter()
                    .map(|t| TopicWithCount {
                        topic_metadata: TopicMetadata {
                            name: &t.name,
                            r#type: t.ros_type.name(),
                            serialization_format: "cdr",
                            offered_qos_profiles: &t.qos,
                        },
                        message_count: t.count,
                    })
                    .collect(),
                compression_format: "",
                compression_mode: "",
                relative_file_paths: vec![&self.file_name],
                files: vec![FileInfo {
                    path: &self.file_name,
                    starting_time: SinceEpoch {
                        nanoseconds_since_epoch: start,
                    },
                    duration: Nanoseconds {
                        nanoseconds: duration,
                    },
                    message_count,
                }],
            },
        }
    }
}

/// One rosbag2 (Humble format) QoS profile list as YAML text: reliable, keep-last 10,
/// default (infinite) deadline, lifespan and lease.
fn qos_yaml(durability: Durability) -> String {
    let durability = match durability {
        Durability::TransientLocal => 1,
        Durability::Volatile => 2,
    };
    let infinite = "\n    sec: 9223372036\n    nsec: 854775807";
    format!(
        "- history: 1\n  depth: 10\n  reliability: 1\n  durability: {durability}\n  \
         deadline:{infinite}\n  lifespan:{infinite}\n  liveliness: 1\n  \
         liveliness_lease_duration:{infinite}\n  avoid_ros_namespace_conventions: false\n"
    )
}

#[derive(Serialize)]
struct MetadataFile<'a> {
    rosbag2_bagfile_information: BagInfo<'a>,
}

#[derive(Serialize)]
struct BagInfo<'a> {
    version: u32,
    storage_identifier: &'a str,
    duration: Nanoseconds,
    starting_time: SinceEpoch,
    message_count: u64,
    topics_with_message_count: Vec<TopicWithCount<'a>>,
    compression_format: &'a str,
    compression_mode: &'a str,
    relative_file_paths: Vec<&'a str>,
    files: Vec<FileInfo<'a>>,
}

#[derive(Serialize)]
struct Nanoseconds {
    nanoseconds: u64,
}

#[derive(Serialize)]
struct SinceEpoch {
    nanoseconds_since_epoch: u64,
}

#[derive(Serialize)]
struct TopicWithCount<'a> {
    topic_metadata: TopicMetadata<'a>,
    message_count: u64,
}

#[derive(Serialize)]
struct TopicMetadata<'a> {
    name: &'a str,
    r#type: &'a str,
    serialization_format: &'a str,
    offered_qos_profiles: &'a str,
}

#[derive(Serialize)]
struct FileInfo<'a> {
    path: &'a str,
    starting_time: SinceEpoch,
    duration: Nanoseconds,
    message_count: u64,
}
