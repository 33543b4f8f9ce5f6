//! Output files written the safe way: to a fresh temporary name in the target directory
//! (created with `O_CREAT | O_EXCL | O_NOFOLLOW`, so an existing file or symlink of that name is
//! never opened), synced, then renamed over the final name. `rename` replaces a symlink at the
//! final name instead of following it, and a reader never sees a half-written file. A pending
//! file that is dropped without [`AtomicFile::commit`] is removed.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary names made by this process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A file being written under a temporary name.
#[derive(Debug)]
pub struct AtomicFile {
    temp: PathBuf,
    target: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// Start writing `dir/name` (the directory must exist).
    pub fn create(dir: &Path, name: &str) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let target = dir.join(name);
        let temp = dir.join(format!(
            ".{name}.{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)?;
        Ok(Self {
            temp,
            target,
            file: Some(file),
        })
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The open temporary file (`None` only after [`AtomicFile::take_file`]).
    pub fn file(&mut self) -> Option<&mut File> {
        self.file.as_mut()
    }

    /// Hand the open file to a writer that owns it (give it back to [`AtomicFile::commit_file`]).
    pub fn take_file(&mut self) -> Option<File> {
        self.file.take()
    }

    /// Sync `file` (the one taken) and rename it to the final name.
    pub fn commit_file(mut self, file: File) -> io::Result<PathBuf> {
        self.file = Some(file);
        self.commit()
    }

    /// Sync the file and rename it to the final name.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        std::fs::rename(&self.temp, &self.target)?;
        // Renamed: nothing to clean up.
        self.temp = PathBuf::new();
        Ok(self.target.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Write `bytes` to `dir/name` atomically; returns the final path.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let mut out = AtomicFile::create(dir, name)?;
    if let Some(file) = out.file() {
        file.write_all(bytes)?;
    }
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_at_the_final_name_is_replaced_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim.txt");
        std::fs::write(&victim, "keep me").unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("report.json")).unwrap();
        let path = write_atomic(&out, "report.json", b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        assert!(!std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
        // No temporary file is left behind, and an abandoned one is removed.
        let pending = AtomicFile::create(&out, "x.bin").unwrap();
        drop(pending);
        let names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
    }

    #[test]
    fn a_directory_at_the_final_name_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("report.html")).unwrap();
        assert!(write_atomic(tmp.path(), "report.html", b"x").is_err());
    }
}
