//! The hostile inputs in `../shared/fuzz-findings/` and helpers to rebuild bags from them in a
//! temporary directory (the folders hold no symlinks: the shared camera file is copied in, and
//! `$SHARED` in a metadata file is replaced by the shared folder's path).

use std::path::{Path, PathBuf};

/// A file or folder of the findings, or `None` after a loud SKIPPED line.
pub fn finding(rel: &str) -> Option<PathBuf> {
    super::shared(&format!("fuzz-findings/{rel}"))
}

/// The shared JPEG camera recording (150 frames) that several findings need beside them.
pub fn jpeg_camera_file() -> Option<PathBuf> {
    super::shared("data/bags/vtest_jpeg_mcap/vtest_jpeg_mcap.mcap")
}

/// A bag directory `dir` with `metadata` (its `$SHARED` replaced) and `files` copied in as
/// (name, source) pairs.
pub fn bag_dir(dir: &Path, metadata: &Path, files: &[(&str, &Path)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(metadata).unwrap();
    let shared = super::shared_root();
    let text = text.replace("$SHARED", &shared.display().to_string());
    std::fs::write(dir.join("metadata.yaml"), text).unwrap();
    for (name, source) in files {
        std::fs::copy(source, dir.join(name)).unwrap();
    }
    dir.to_path_buf()
}

/// The records of an MCAP file as (offset, opcode, body length), walked from the magic to the
/// footer (test-side, independent of the reader under test).
pub fn mcap_records(bytes: &[u8]) -> Vec<(usize, u8, usize)> {
    let mut out = Vec::new();
    let mut i = 8;
    while i + 9 <= bytes.len().saturating_sub(8) {
        let op = bytes[i];
        let len = u64::from_le_bytes(bytes[i + 1..i + 9].try_into().unwrap()) as usize;
        out.push((i, op, len));
        if op == 0x02 {
            break;
        }
        i += 9 + len;
    }
    out
}

/// Offset of a chunk record's `uncompressed_size` field (after start and end times).
pub fn chunk_uncompressed_size_at(chunk_offset: usize) -> usize {
    chunk_offset + 9 + 16
}

/// The redline binary built for these tests.
pub fn redline_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redline"))
}

/// Run `redline ARGS…`; returns (success, stdout, stderr).
pub fn run_redline(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(redline_bin())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
