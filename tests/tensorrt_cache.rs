//! TensorRT engine cache and start-up probing, without a GPU or TensorRT: cache keys,
//! atomic writes, stale / corrupt detection, version refusal and a panic-free `describe`.
#![cfg(feature = "tensorrt")]

use std::fs;

use redline::infer::tensorrt::{
    check_version, describe, write_atomically, CacheState, EngineCache, EngineCacheKey, TrtLibrary,
    TrtVersion,
};

fn key() -> EngineCacheKey {
    EngineCacheKey {
        onnx_sha256: "ab".repeat(32),
        tensorrt_version: "10.3.0".into(),
        gpu_name: "Orin".into(),
        compute_capability: (8, 7),
        precision: "fp16".into(),
        input_shape: vec![1, 3, 640, 640],
        batch_range: [1, 1, 1],
    }
}

#[test]
fn every_key_field_changes_the_engine_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = EngineCache::new(dir.path(), "models/yolox.onnx".as_ref());
    let base = cache.engine_path(&key());
    assert!(base
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("yolox-"));
    let variants: [fn(&mut EngineCacheKey); 8] = [
        |k| k.onnx_sha256 = "cd".repeat(32),
        |k| k.tensorrt_version = "10.4.0".into(),
        |k| k.gpu_name = "RTX 4090".into(),
        |k| k.compute_capability = (8, 9),
        |k| k.precision = "fp32".into(),
        |k| k.input_shape = vec![1, 3, 416, 416],
        |k| k.batch_range = [1, 8, 8],
        |k| k.batch_range = [1, 4, 8],
    ];
    for change in variants {
        let mut k = key();
        change(&mut k);
        assert_ne!(cache.engine_path(&k), base, "{k:?}");
        assert!(!k.differences(&key()).is_empty());
    }
    assert_eq!(
        cache.engine_path(&key()),
        base,
        "the key digest is deterministic"
    );
}

#[test]
fn stored_engine_is_fresh_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let cache = EngineCache::new(dir.path().join("cache"), "m.onnx".as_ref());
    assert_eq!(cache.lookup(&key()), CacheState::Missing { stale: vec![] });
    let path = cache.store(&key(), b"serialized plan").unwrap();
    assert_eq!(cache.lookup(&key()), CacheState::Fresh(path.clone()));
    assert_eq!(fs::read(&path).unwrap(), b"serialized plan");
    let names: Vec<String> = fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "engine + sidecar only: {names:?}");
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

#[test]
fn truncated_or_edited_engine_is_corrupt_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let cache = EngineCache::new(dir.path(), "m.onnx".as_ref());
    let path = cache.store(&key(), &[7u8; 4096]).unwrap();
    fs::write(&path, [7u8; 100]).unwrap();
    match cache.lookup(&key()) {
        CacheState::Corrupt { reason, .. } => assert!(reason.contains("bytes"), "{reason}"),
        other => panic!("expected corrupt, got {other:?}"),
    }
    fs::write(&path, [8u8; 4096]).unwrap();
    match cache.lookup(&key()) {
        CacheState::Corrupt { reason, .. } => assert!(reason.contains("checksum"), "{reason}"),
        other => panic!("expected corrupt, got {other:?}"),
    }
    fs::remove_file(path.with_extension("engine.json")).unwrap();
    assert!(matches!(cache.lookup(&key()), CacheState::Corrupt { .. }));
}

#[test]
fn engine_for_an_older_tensorrt_is_reported_stale_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cache = EngineCache::new(dir.path(), "m.onnx".as_ref());
    let old = cache.store(&key(), b"old plan").unwrap();
    let mut upgraded = key();
    upgraded.tensorrt_version = "10.4.0".into();
    match cache.lookup(&upgraded) {
        CacheState::Missing { stale } => {
            assert_eq!(stale.len(), 1);
            assert_eq!(stale[0].0, old);
            assert!(
                stale[0].1.contains("TensorRT 10.3.0 → 10.4.0"),
                "{}",
                stale[0].1
            );
        }
        other => panic!("expected stale, got {other:?}"),
    }
    let text = cache.lookup(&upgraded).describe();
    assert!(
        text.starts_with("stale") && text.contains("redline engine build"),
        "{text}"
    );
}

#[test]
fn atomic_write_replaces_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    write_atomically(&path, &[1u8; 10_000]).unwrap();
    write_atomically(&path, b"short").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"short");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    // A target in a missing directory fails cleanly and leaves nothing behind.
    assert!(write_atomically(&dir.path().join("no/such/f.bin"), b"x").is_err());
}

#[test]
fn only_the_shims_major_is_accepted() {
    assert!(check_version(TrtVersion::from_encoded(100_300), 10).is_ok());
    let err = check_version(TrtVersion::from_encoded(110_100), 10)
        .unwrap_err()
        .to_string();
    assert!(err.contains("11.1.0") && err.contains("ILogger"), "{err}");
}

#[test]
fn probing_without_gpu_or_tensorrt_reports_instead_of_panicking() {
    let config = redline::Config::load(&redline::Config::default_path()).expect("default config");
    let text = describe(&config).to_string();
    eprintln!("{text}");
    assert!(text.starts_with("backend: tensorrt"));
    for part in ["shim:", "gpu:", "tensorrt:", "engine cache:"] {
        assert!(text.contains(part), "{part} missing in {text}");
    }
    if !redline::preprocess::cuda::GpuContext::driver_present() {
        assert!(text.contains("gpu: unavailable"), "{text}");
        assert!(text.contains("engine cache: unknown"), "{text}");
    }
    if let Err(e) = TrtLibrary::load() {
        let msg = e.to_string();
        assert!(
            msg.contains("shim") || msg.contains("nvinfer") || msg.contains("TensorRT"),
            "{msg}"
        );
    }
}
