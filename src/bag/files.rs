//! Which files a bag may read: regular files inside its own directory, each once. A
//! `metadata.yaml` is untrusted input: a listed path with `..`, an absolute path, or a symlink
//! that resolves outside the directory is refused with a clear error, as is a file listed twice
//! (under any spelling) and anything that is not a regular file (a FIFO would hang the reader).
//! Files are opened with `O_NOFOLLOW` on their resolved path.
#![deny(clippy::arithmetic_side_effects)]

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use super::error::BagError;

/// Largest `metadata.yaml` read (real ones are a few kilobytes per file and topic).
pub const MAX_METADATA_BYTES: u64 = 16 << 20;

/// The directory a bag's files must stay in, resolved once.
pub(crate) struct BagDir {
    dir: PathBuf,
    canonical: PathBuf,
}

impl BagDir {
    pub fn new(dir: &Path) -> Result<Self, BagError> {
        let canonical = dir.canonicalize().map_err(|source| BagError::Open {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            canonical,
        })
    }

    /// Resolve the files named in `metadata.yaml` (relative to the directory), in order.
    pub fn listed(&self, names: &[String]) -> Result<Vec<PathBuf>, BagError> {
        let mut files: Vec<PathBuf> = Vec::with_capacity(names.len().min(1024));
        for name in names {
            let refuse = |reason: &'static str| BagError::FileOutsideBag {
                path: self.dir.clone(),
                file: name.clone(),
                reason,
            };
            let rel = Path::new(name);
            if name.is_empty() {
                return Err(refuse("an empty path"));
            }
            if rel.has_root() || rel.is_absolute() {
                return Err(refuse("an absolute path"));
            }
            if rel.components().any(|c| c == Component::ParentDir) {
                return Err(refuse("a path with `..`"));
            }
            let resolved = self.inside(&self.dir.join(rel), name)?;
            if files.contains(&resolved) {
                return Err(BagError::DuplicateFile {
                    path: self.dir.clone(),
                    file: name.clone(),
                });
            }
            files.push(resolved);
        }
        Ok(files)
    }

    /// `path` resolved (symlinks followed); it must be a regular file inside the directory.
    pub fn inside(&self, path: &Path, name: &str) -> Result<PathBuf, BagError> {
        let resolved = path.canonicalize().map_err(|source| BagError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        if !resolved.starts_with(&self.canonical) {
            return Err(BagError::FileOutsideBag {
                path: self.dir.clone(),
                file: name.to_string(),
                reason: "a symlink leading outside the bag directory",
            });
        }
        regular_file(&resolved)?;
        Ok(resolved)
    }

    /// `metadata.yaml` of this directory, read with a size bound.
    pub fn read_metadata(&self) -> Result<(PathBuf, String), BagError> {
        let path = self.inside(&self.dir.join("metadata.yaml"), "metadata.yaml")?;
        let file = open_no_follow(&path)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > MAX_METADATA_BYTES {
            return Err(BagError::Metadata {
                path,
                problem: format!(
                    "the file is {len} bytes; more than the {MAX_METADATA_BYTES} a metadata.yaml may have"
                ),
            });
        }
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(file, MAX_METADATA_BYTES),
            &mut text,
        )
        .map_err(|source| BagError::Open {
            path: path.clone(),
            source,
        })?;
        Ok((path, text))
    }
}

/// `path` must be a regular file (not a directory, FIFO or device).
pub(crate) fn regular_file(path: &Path) -> Result<(), BagError> {
    let meta = std::fs::metadata(path).map_err(|source| BagError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(BagError::NotARegularFile {
            path: path.to_path_buf(),
        })
    }
}

/// Open a resolved path read-only without following a symlink in its last component (one
/// swapped in after the check), and check it is still a regular file.
pub(crate) fn open_no_follow(path: &Path) -> Result<File, BagError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| BagError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let is_file = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if is_file {
        Ok(file)
    } else {
        Err(BagError::NotARegularFile {
            path: path.to_path_buf(),
        })
    }
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "test arithmetic on known fixtures"
)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_directory_each_once() {
        let tmp = tempfile::tempdir().unwrap();
        let bag = tmp.path().join("bag");
        std::fs::create_dir(&bag).unwrap();
        std::fs::write(bag.join("a.mcap"), b"x").unwrap();
        std::fs::write(tmp.path().join("outside.mcap"), b"x").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside.mcap"), bag.join("out.mcap")).unwrap();
        std::os::unix::fs::symlink(bag.join("a.mcap"), bag.join("alias.mcap")).unwrap();
        std::fs::create_dir(bag.join("sub")).unwrap();
        let dir = BagDir::new(&bag).unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            dir.listed(&names(&["a.mcap"])).unwrap(),
            [bag.canonicalize().unwrap().join("a.mcap")]
        );
        for (listed, expect) in [
            (vec!["../outside.mcap"], "`..`"),
            (vec!["/etc/passwd"], "absolute"),
            (vec!["out.mcap"], "symlink leading outside"),
            (vec!["a.mcap", "./a.mcap"], "twice"),
            (vec!["a.mcap", "alias.mcap"], "twice"),
            (vec!["sub"], "not a regular file"),
            (vec![""], "empty"),
        ] {
            let err = dir.listed(&names(&listed)).unwrap_err().to_string();
            assert!(err.contains(expect), "{listed:?}: {err}");
        }
    }
}
