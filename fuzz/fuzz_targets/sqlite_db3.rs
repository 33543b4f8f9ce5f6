//! rosbag2 sqlite3 bytes → `Bag::open` as a bare `.db3` → every topic's messages: BLOB lengths
//! checked before fetching, negative timestamps refused. Nothing may panic; no message larger
//! than the message limit comes out; a stream ends after its first error.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::read_bag_file("fuzz.db3", data));
