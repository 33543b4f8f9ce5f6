//! rosbag2 reading (MCAP, sqlite3; metadata.yaml v5–v9) and MCAP writing.
