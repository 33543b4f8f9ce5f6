//! rosbag2 reading (MCAP, sqlite3; metadata.yaml v5–v9) and MCAP writing.

pub mod msg_definitions;
pub mod writer;

pub use msg_definitions::RosType;
pub use writer::{BagWriteError, BagWriter, Durability, TopicId};
