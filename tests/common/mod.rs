//! Helpers shared by integration tests: where the shared test data lives, damaging a copy of
//! it (truncation); the counting
//! allocator ([`alloc`]), decoder fixtures ([`decoding`]), the reference-detection check
//! ([`golden`]), finding ONNX Runtime ([`onnxruntime`]), the real stages around a canned
//! engine ([`perception`]) and waiting for a pipeline to settle
//! ([`settle`]) in submodules.
#![allow(dead_code)]

pub mod alloc;
pub mod decoding;
pub mod findings;
pub mod golden;
pub mod mcap_variants;
pub mod onnxruntime;
pub mod perception;
pub mod photos;
pub mod settle;

use std::path::PathBuf;

/// `$REDLINE_SHARED`, or `../shared` beside the crate.
pub fn shared_root() -> PathBuf {
    std::env::var_os("REDLINE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A file or directory under the shared data, or `None` after printing a loud SKIPPED line.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = shared_root().join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: shared test data {} is absent (set REDLINE_SHARED to the shared/ directory)",
            path.display()
        );
        None
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cut a file to half its length, as a recording interrupted mid-write leaves it.
pub fn truncate_to_half(file: &std::path::Path) {
    let len = std::fs::metadata(file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
}
