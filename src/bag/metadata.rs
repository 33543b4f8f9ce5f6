//! rosbag2 `metadata.yaml` (versions 5 to 9): the storage plugin, the files in order, and the
//! topics with their types and message counts. Only what replay needs is read; everything else
//! (QoS profiles, whose shape changed in version 9, type hashes, custom data) is ignored.

use std::path::Path;

use serde_norway::Value;

use super::error::BagError;
use super::files::BagDir;

/// A topic recorded in the bag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    /// e.g. `sensor_msgs/msg/Image`.
    pub type_name: String,
    pub message_count: Option<u64>,
}

/// The parts of `metadata.yaml` redline uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagMetadata {
    pub version: u64,
    /// `mcap` or `sqlite3`.
    pub storage: String,
    /// Data files, in recording order, as written (relative to the bag directory; not yet
    /// checked: see `BagDir::listed`).
    pub files: Vec<String>,
    pub topics: Vec<TopicInfo>,
}

impl BagMetadata {
    /// Read `dir/metadata.yaml` (a regular file inside `dir`, of bounded size).
    pub fn read(dir: &Path) -> Result<Self, BagError> {
        let (path, text) = BagDir::new(dir)?.read_metadata()?;
        Self::parse(&text).map_err(|problem| BagError::Metadata { path, problem })
    }

    /// Parse metadata text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: Value =
            serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
        let info = doc
            .get("rosbag2_bagfile_information")
            .ok_or("missing `rosbag2_bagfile_information`")?;
        let version = info
            .get("version")
            .and_then(Value::as_u64)
            .ok_or("`version` missing or not a number")?;
        if !(1..=9).contains(&version) {
            return Err(format!("version {version} is not supported (1–9)"));
        }
        let storage = info
            .get("storage_identifier")
            .and_then(Value::as_str)
            .ok_or("`storage_identifier` missing")?
            .to_string();
        let files: Vec<String> = info
            .get("relative_file_paths")
            .and_then(Value::as_sequence)
            .ok_or("`relative_file_paths` missing")?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or("`relative_file_paths` holds a non-string")
            })
            .collect::<Result<_, _>>()?;
        if files.is_empty() {
            return Err("`relative_file_paths` is empty".into());
        }
        let mut topics = Vec::new();
        if let Some(list) = info
            .get("topics_with_message_count")
            .and_then(Value::as_sequence)
        {
            for entry in list {
                let meta = entry
                    .get("topic_metadata")
                    .ok_or("topic entry without `topic_metadata`")?;
                let name = meta
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("topic without `name`")?;
                let type_name = meta
                    .get("type")
                    .and_then(Value::as_str)
                    .ok_or("topic without `type`")?;
                topics.push(TopicInfo {
                    name: name.to_string(),
                    type_name: type_name.to_string(),
                    message_count: entry.get("message_count").and_then(Value::as_u64),
                });
            }
        }
        Ok(Self {
            version,
            storage,
            files,
            topics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_5_and_9_layouts() {
        let v5 = "rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: mcap\n  relative_file_paths: [a_0.mcap, a_1.mcap]\n  topics_with_message_count:\n    - topic_metadata: {name: /cam, type: sensor_msgs/msg/Image, serialization_format: cdr, offered_qos_profiles: ''}\n      message_count: 20\n";
        let m = BagMetadata::parse(v5).unwrap();
        assert_eq!(m.files, ["a_0.mcap", "a_1.mcap"]);
        assert_eq!(m.topics[0].message_count, Some(20));
        let v9 = "rosbag2_bagfile_information:\n  version: 9\n  storage_identifier: sqlite3\n  relative_file_paths: [b.db3]\n  custom_data: {}\n  ros_distro: jazzy\n  topics_with_message_count:\n    - topic_metadata:\n        name: /cam\n        type: sensor_msgs/msg/CompressedImage\n        serialization_format: cdr\n        offered_qos_profiles: []\n        type_description_hash: RIHS01_00\n      message_count: 3\n";
        let m = BagMetadata::parse(v9).unwrap();
        assert_eq!(m.storage, "sqlite3");
        assert_eq!(m.topics[0].type_name, "sensor_msgs/msg/CompressedImage");
    }

    #[test]
    fn bad_metadata_says_what_is_wrong() {
        assert!(BagMetadata::parse("a: [").unwrap_err().contains("YAML"));
        assert!(BagMetadata::parse("x: 1")
            .unwrap_err()
            .contains("rosbag2_bagfile_information"));
        let no_files = "rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: mcap\n  relative_file_paths: []\n";
        assert!(BagMetadata::parse(no_files).unwrap_err().contains("empty"));
        let v12 = "rosbag2_bagfile_information:\n  version: 12\n";
        assert!(BagMetadata::parse(v12)
            .unwrap_err()
            .contains("not supported"));
    }
}
