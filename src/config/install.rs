//! Where redline's own files (the shipped `config/` and `models/`) are: the share directory of
//! an installed package, else the crate root of a cargo build. colcon (cargo-ament-build)
//! installs the binaries to `<prefix>/lib/redline/` and `config/`, `launch/`, `models/` to
//! `<prefix>/share/redline/`; a `<prefix>/bin/` install with `<prefix>/share/redline/` beside it
//! works the same way.

use std::path::{Path, PathBuf};

/// The model used when a config names none (relative to [`package_dir`]).
pub const DEFAULT_MODEL: &str = "models/pedestrian_ssdlite.onnx";

/// The installed package's share directory when the running binary belongs to one, else the
/// crate root (cargo runs, tests).
pub fn package_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| share_dir_of(&exe))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// `<prefix>/share/redline` for a binary at `<prefix>/lib/redline/<bin>` or `<prefix>/bin/<bin>`,
/// when that directory exists.
pub fn share_dir_of(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    let prefixes = [dir.parent().and_then(Path::parent), dir.parent()];
    prefixes
        .into_iter()
        .flatten()
        .map(|prefix| prefix.join("share").join("redline"))
        .find(|share| share.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_binary_finds_its_share_directory() {
        let prefix = tempfile::tempdir().unwrap();
        let share = prefix.path().join("share/redline");
        std::fs::create_dir_all(&share).unwrap();
        let lib_bin = prefix.path().join("lib/redline/redline");
        let bin = prefix.path().join("bin/redline");
        assert_eq!(share_dir_of(&lib_bin), Some(share.clone()));
        assert_eq!(share_dir_of(&bin), Some(share));
        // Not installed (a cargo build): no share directory beside it.
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(
            share_dir_of(&elsewhere.path().join("target/debug/redline")),
            None
        );
    }
}
