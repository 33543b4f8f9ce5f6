//! `metadata.yaml` text → the parser, then `Bag::open` on a directory holding it beside a small
//! valid recording (so listed paths are resolved and contained). Nothing may panic; an opened
//! bag only ever reads files inside its directory, each once.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use redline::bag::{Bag, BagMetadata};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(meta) = BagMetadata::parse(text) else {
        return;
    };
    let dir = common::scratch_dir().join("bag");
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join("metadata.yaml"), text).expect("metadata");
    let Ok(bag) = Bag::open_with_limits(&dir, common::bag_limits()) else {
        return;
    };
    let root = dir.canonicalize().expect("scratch dir");
    let mut seen = Vec::new();
    for file in bag.files() {
        assert!(file.starts_with(&root), "{} is outside {}", file.display(), root.display());
        assert!(!seen.contains(file), "{} listed twice", file.display());
        seen.push(file.clone());
    }
    assert_eq!(bag.files().len(), meta.files.len());
    for topic in bag.topics().iter().take(4) {
        for _ in bag.messages(&topic.name).take(64) {}
    }
});
