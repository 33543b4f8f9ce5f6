//! The TensorRT engine cache: a serialized engine is only valid for the exact ONNX file,
//! TensorRT version, GPU model + compute capability, precision, input shape and batch range it
//! was built for. The key is hashed into the file name; a JSON sidecar holds the key and the engine's
//! own SHA-256 so a truncated, foreign or outdated file is detected instead of deserialized.
//! Files are written atomically (temp file in the same directory, fsync, rename).

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Precision;

/// Everything an engine depends on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineCacheKey {
    pub onnx_sha256: String,
    pub tensorrt_version: String,
    pub gpu_name: String,
    pub compute_capability: (i32, i32),
    pub precision: String,
    /// Input tensor shape of one row, e.g. `[1, 3, 640, 640]`.
    pub input_shape: Vec<i64>,
    /// The optimisation profile's batch range `[min, opt, max]` (`model.max_batch`); sidecars
    /// written before batching existed read as `[1, 1, 1]`, which is what they were built for.
    #[serde(default = "one_row")]
    pub batch_range: [i64; 3],
}

fn one_row() -> [i64; 3] {
    [1, 1, 1]
}

/// The sidecar stored next to each engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CacheRecord {
    key: EngineCacheKey,
    engine_sha256: String,
    engine_bytes: u64,
}

/// What the cache holds for a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheState {
    /// A verified engine for exactly this key.
    Fresh(PathBuf),
    /// Nothing for this key. `stale` lists engines of the same model built for another key,
    /// with the fields that differ (e.g. "TensorRT 10.3.0 → 10.4.0").
    Missing { stale: Vec<(PathBuf, String)> },
    /// A file for this key exists but fails verification (truncated, edited, no sidecar).
    Corrupt { path: PathBuf, reason: String },
}

impl CacheState {
    /// One line for `redline check`.
    pub fn describe(&self) -> String {
        match self {
            CacheState::Fresh(p) => format!("fresh ({})", p.display()),
            CacheState::Missing { stale } if stale.is_empty() => {
                "missing: run `redline engine build`".to_string()
            }
            CacheState::Missing { stale } => format!(
                "stale: {} (run `redline engine build`)",
                stale
                    .iter()
                    .map(|(p, why)| format!("{} [{why}]", p.display()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            CacheState::Corrupt { path, reason } => {
                format!("corrupt: {} ({reason})", path.display())
            }
        }
    }
}

pub fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::Fp32 => "fp32",
        Precision::Fp16 => "fp16",
    }
}

/// SHA-256 of a file, streamed (hex).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl EngineCacheKey {
    /// Digest of the canonical JSON form of the key (hex, 16 chars in file names).
    pub fn digest(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&canonical))
    }

    /// Human-readable differences from another key.
    pub fn differences(&self, other: &EngineCacheKey) -> Vec<String> {
        let mut out = Vec::new();
        if self.onnx_sha256 != other.onnx_sha256 {
            out.push("ONNX file changed".to_string());
        }
        if self.tensorrt_version != other.tensorrt_version {
            out.push(format!(
                "TensorRT {} → {}",
                other.tensorrt_version, self.tensorrt_version
            ));
        }
        if self.gpu_name != other.gpu_name || self.compute_capability != other.compute_capability {
            out.push(format!(
                "GPU {} (sm {}.{}) → {} (sm {}.{})",
                other.gpu_name,
                other.compute_capability.0,
                other.compute_capability.1,
                self.gpu_name,
                self.compute_capability.0,
                self.compute_capability.1
            ));
        }
        if self.precision != other.precision {
            out.push(format!(
                "precision {} → {}",
                other.precision, self.precision
            ));
        }
        if self.input_shape != other.input_shape {
            out.push(format!(
                "input shape {:?} → {:?}",
                other.input_shape, self.input_shape
            ));
        }
        if self.batch_range != other.batch_range {
            out.push(format!(
                "batch range (min, opt, max) {:?} → {:?}",
                other.batch_range, self.batch_range
            ));
        }
        out
    }
}

/// A directory of engines for one model (file names start with the model's file stem).
#[derive(Clone, Debug)]
pub struct EngineCache {
    dir: PathBuf,
    model_stem: String,
}

impl EngineCache {
    pub fn new(dir: impl Into<PathBuf>, onnx_path: &Path) -> Self {
        let model_stem = onnx_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".to_string());
        Self {
            dir: dir.into(),
            model_stem,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/<stem>-<digest16>.engine`.
    pub fn engine_path(&self, key: &EngineCacheKey) -> PathBuf {
        let digest = key.digest();
        self.dir
            .join(format!("{}-{}.engine", self.model_stem, &digest[..16]))
    }

    fn record_path(engine: &Path) -> PathBuf {
        engine.with_extension("engine.json")
    }

    /// Looks the key up and verifies the file against its sidecar.
    pub fn lookup(&self, key: &EngineCacheKey) -> CacheState {
        let path = self.engine_path(key);
        if !path.exists() {
            return CacheState::Missing {
                stale: self.stale_for(key),
            };
        }
        match self.verify(&path, key) {
            Ok(()) => CacheState::Fresh(path),
            Err(reason) => CacheState::Corrupt { path, reason },
        }
    }

    fn read_record(path: &Path) -> Result<CacheRecord, String> {
        let text = fs::read_to_string(Self::record_path(path))
            .map_err(|e| format!("no readable sidecar: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("sidecar unreadable: {e}"))
    }

    fn verify(&self, path: &Path, key: &EngineCacheKey) -> Result<(), String> {
        let record = Self::read_record(path)?;
        if &record.key != key {
            return Err(format!(
                "sidecar key differs: {}",
                key.differences(&record.key).join(", ")
            ));
        }
        let len = fs::metadata(path).map_err(|e| e.to_string())?.len();
        if len != record.engine_bytes {
            return Err(format!(
                "engine is {len} bytes, {} recorded",
                record.engine_bytes
            ));
        }
        let sha = sha256_file(path).map_err(|e| e.to_string())?;
        if sha != record.engine_sha256 {
            return Err("engine checksum differs from the recorded one".to_string());
        }
        Ok(())
    }

    /// Other engines of this model and why they do not fit `key`.
    fn stale_for(&self, key: &EngineCacheKey) -> Vec<(PathBuf, String)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let prefix = format!("{}-", self.model_stem);
        let mut stale: Vec<(PathBuf, String)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "engine")
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            })
            .map(|p| {
                let why = match Self::read_record(&p) {
                    Ok(r) => key.differences(&r.key).join(", "),
                    Err(e) => e,
                };
                (p, why)
            })
            .collect();
        stale.sort();
        stale
    }

    /// Writes `engine` for `key` atomically (engine, then sidecar; each temp + fsync + rename).
    pub fn store(&self, key: &EngineCacheKey, engine: &[u8]) -> std::io::Result<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        let path = self.engine_path(key);
        let record = CacheRecord {
            key: key.clone(),
            engine_sha256: hex(&Sha256::digest(engine)),
            engine_bytes: engine.len() as u64,
        };
        let record_json = serde_json::to_vec_pretty(&record).map_err(std::io::Error::other)?;
        write_atomically(&path, engine)?;
        write_atomically(&Self::record_path(&path), &record_json)?;
        Ok(path)
    }
}

/// Temp file in the target's directory, fsync, rename over the target, fsync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
