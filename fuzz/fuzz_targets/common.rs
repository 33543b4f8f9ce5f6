//! Helpers shared by the fuzz targets: small image limits (so a mutated header cannot make a
//! run slow), and a per-process scratch file for the readers that need a path.
#![allow(dead_code)]

use std::path::PathBuf;

use redline::bag::{Bag, BagLimits};
use redline::frame::ImageLimits;

/// Images up to 512 × 512: big enough for the seeds, small enough for fast runs.
pub const LIMITS: ImageLimits = ImageLimits {
    max_width: 512,
    max_height: 512,
};

pub fn bag_limits() -> BagLimits {
    BagLimits::for_images(LIMITS)
}

/// A scratch directory of this process (in /dev/shm when there is one).
pub fn scratch_dir() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("redline-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Write `data` to `name` in the scratch directory and return its path.
pub fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, data).expect("scratch file");
    path
}

/// Open the bare bag file `name` holding `data` and read every topic's messages (at most 8
/// topics): no message beyond the limit comes out, and a stream ends after its first error.
pub fn read_bag_file(name: &str, data: &[u8]) {
    let path = scratch_file(name, data);
    let limits = bag_limits();
    let Ok(bag) = Bag::open_with_limits(&path, limits) else {
        return;
    };
    let topics: Vec<String> = bag.topics().iter().map(|t| t.name.clone()).collect();
    for topic in topics.iter().take(8) {
        let mut failed = false;
        for message in bag.messages(topic) {
            assert!(!failed, "a stream ends after its error");
            match message {
                Ok(m) => assert!(m.data.len() as u64 <= limits.max_message_bytes),
                Err(_) => failed = true,
            }
        }
    }
}
