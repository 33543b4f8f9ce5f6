//! MCAP bytes (plain, zstd- or lz4-chunked, with or without a summary) → `Bag::open` as a bare
//! file → every topic's messages. Nothing may panic, hang or allocate past the limits; no
//! message larger than the message limit comes out, and a stream ends after its first error.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::read_bag_file("fuzz.mcap", data));
