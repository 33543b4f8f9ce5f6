//! Writes the seed corpora of the fuzz targets (`fuzz/`) into a directory, one folder per
//! target: small valid inputs of every shape each reader takes (MCAP plain / zstd / lz4, with
//! and without a summary; a rosbag2 sqlite file; metadata and config YAML; fault specs; JPEG and
//! PNG in several colour types; CDR images in every encoding), plus the shared bags, photos and
//! hostile findings where they are small. Run by `scripts/fuzz.sh`:
//!
//! ```sh
//! cargo run --example fuzz_seeds -- fuzz/corpus [SHARED_DIR]
//! ```

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, RgbImage};
use redline::bag::{BagWriter, Durability, RosType};
use redline::frame::Stamp;
use redline::msgs::{write_compressed_image, write_image};

/// Seeds larger than this are left out (they slow every run of the target).
const MAX_SEED: u64 = 256 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: fuzz_seeds OUT_DIR [SHARED_DIR]")?,
    );
    let shared = args.next().map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("REDLINE_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
    });
    let seeds = Seeds { out };
    images(&seeds)?;
    cdr(&seeds)?;
    mcap(&seeds)?;
    sqlite(&seeds)?;
    yaml(&seeds, &shared)?;
    faults(&seeds)?;
    from_shared(&seeds, &shared)?;
    println!("seeds written to {}", seeds.out.display());
    Ok(())
}

struct Seeds {
    out: PathBuf,
}

impl Seeds {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.out.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    }

    /// Copy `file` in if it exists and is small enough.
    fn copy(&self, target: &str, file: &Path) -> std::io::Result<()> {
        match std::fs::metadata(file) {
            Ok(m) if m.is_file() && m.len() <= MAX_SEED => {
                let name = file
                    .to_string_lossy()
                    .replace(['/', '$'], "_")
                    .trim_start_matches('_')
                    .to_string();
                self.put(target, &name, &std::fs::read(file)?)
            }
            _ => Ok(()),
        }
    }
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 9 % 256) as u8,
            (y * 7 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// Small JPEG and PNG images of several colour types.
fn small_images() -> Vec<(&'static str, Vec<u8>)> {
    let rgb = DynamicImage::ImageRgb8(gradient(24, 16));
    vec![
        ("rgb.jpg", encode(&rgb, ImageFormat::Jpeg)),
        (
            "gray.jpg",
            encode(&DynamicImage::ImageLuma8(rgb.to_luma8()), ImageFormat::Jpeg),
        ),
        (
            "odd.jpg",
            encode(&DynamicImage::ImageRgb8(gradient(13, 7)), ImageFormat::Jpeg),
        ),
        ("rgb.png", encode(&rgb, ImageFormat::Png)),
        (
            "rgba.png",
            encode(&DynamicImage::ImageRgba8(rgb.to_rgba8()), ImageFormat::Png),
        ),
        (
            "gray.png",
            encode(&DynamicImage::ImageLuma8(rgb.to_luma8()), ImageFormat::Png),
        ),
        (
            "gray_alpha.png",
            encode(
                &DynamicImage::ImageLumaA8(rgb.to_luma_alpha8()),
                ImageFormat::Png,
            ),
        ),
        (
            "rgb16.png",
            encode(&DynamicImage::ImageRgb16(rgb.to_rgb16()), ImageFormat::Png),
        ),
    ]
}

fn images(seeds: &Seeds) -> std::io::Result<()> {
    for (name, bytes) in small_images() {
        seeds.put("image_decode", name, &bytes)?;
    }
    Ok(())
}

/// CDR Image (every encoding, one with padded rows) and CompressedImage messages, each behind
/// the target's selector byte (bit 0: compressed; bit 1: the second preprocessing spec).
fn cdr(seeds: &Seeds) -> std::io::Result<()> {
    let stamp = Stamp::new(1_700_000_000, 5);
    let mut buf = Vec::new();
    let (w, h) = (12u32, 8u32);
    for (encoding, bpp) in [
        ("rgb8", 3),
        ("bgr8", 3),
        ("rgba8", 4),
        ("bgra8", 4),
        ("mono8", 1),
        ("yuv422", 2),
        ("uyvy", 2),
    ] {
        for pad in [0u32, 5] {
            let step = w * bpp + pad;
            let data: Vec<u8> = (0..step * h).map(|i| (i * 37 % 251) as u8).collect();
            write_image(&mut buf, stamp, "camera_front", h, w, encoding, step, &data);
            for selector in [0u8, 2] {
                let mut seed = vec![selector];
                seed.extend_from_slice(&buf);
                seeds.put(
                    "cdr_image_pipeline",
                    &format!("{encoding}_pad{pad}_{selector}.cdr"),
                    &seed,
                )?;
            }
        }
    }
    for (name, bytes) in small_images() {
        let format = if name.ends_with("jpg") { "jpeg" } else { "png" };
        write_compressed_image(&mut buf, stamp, "camera_front", format, &bytes);
        for selector in [1u8, 3] {
            let mut seed = vec![selector];
            seed.extend_from_slice(&buf);
            seeds.put(
                "cdr_image_pipeline",
                &format!("{name}_{selector}.cdr"),
                &seed,
            )?;
        }
    }
    Ok(())
}

/// Three small frames (two JPEG, one raw) on two topics.
fn frames() -> Vec<(&'static str, RosType, Vec<u8>)> {
    let stamp = Stamp::new(1_700_000_000, 0);
    let images = small_images();
    let mut out = Vec::new();
    for (i, (name, bytes)) in images.iter().take(2).enumerate() {
        let mut buf = Vec::new();
        let format = if name.ends_with("jpg") { "jpeg" } else { "png" };
        write_compressed_image(
            &mut buf,
            stamp.offset_nanos(i as i64 * 100_000_000),
            "cam",
            format,
            bytes,
        );
        out.push((
            "/camera/front/image_raw/compressed",
            RosType::CompressedImage,
            buf,
        ));
    }
    let mut buf = Vec::new();
    write_image(
        &mut buf,
        stamp,
        "cam",
        2,
        4,
        "mono8",
        4,
        &[1, 2, 3, 4, 5, 6, 7, 8],
    );
    out.push(("/camera/left/image_raw", RosType::Image, buf));
    out
}

fn mcap(seeds: &Seeds) -> Result<(), Box<dyn std::error::Error>> {
    // redline's own writer: zstd chunks, a summary, a metadata.yaml (dropped here).
    let dir = tempdir()?;
    let mut writer = BagWriter::create_file(&dir, "own.mcap")?;
    let mut topics = Vec::new();
    for (topic, ty, _) in frames() {
        if !topics.iter().any(|(t, _)| *t == topic) {
            topics.push((topic, writer.add_topic(topic, ty, Durability::Volatile)?));
        }
    }
    for (i, (topic, _, bytes)) in frames().into_iter().enumerate() {
        let id = topics
            .iter()
            .find(|(t, _)| *t == topic)
            .map(|(_, id)| *id)
            .ok_or("topic")?;
        writer.write(
            id,
            1_700_000_000_000_000_000 + i as u64 * 100_000_000,
            &bytes,
        )?;
    }
    writer.finish()?;
    seeds.put(
        "mcap_read",
        "own_zstd_summary.mcap",
        &std::fs::read(dir.join("own.mcap"))?,
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    // The mcap crate's writer in every combination the reader must take.
    for (compression, cname) in [
        (None, "plain"),
        (Some(mcap::Compression::Zstd), "zstd"),
        (Some(mcap::Compression::Lz4), "lz4"),
    ] {
        for chunked in [true, false] {
            for summary in [true, false] {
                let mut out = Cursor::new(Vec::new());
                {
                    let mut w = mcap::WriteOptions::new()
                        .profile("ros2")
                        .compression(compression)
                        .use_chunks(chunked)
                        .chunk_size(Some(600))
                        .emit_summary_records(summary)
                        .emit_summary_offsets(summary)
                        .emit_statistics(summary)
                        .emit_chunk_indexes(summary)
                        .create(&mut out)?;
                    let mut channels = Vec::new();
                    for (topic, ty, _) in frames() {
                        if channels.iter().any(|(t, _)| *t == topic) {
                            continue;
                        }
                        let schema =
                            w.add_schema(ty.name(), "ros2msg", ty.definition().as_bytes())?;
                        let id = w.add_channel(schema, topic, "cdr", &Default::default())?;
                        channels.push((topic, id));
                    }
                    for (i, (topic, _, bytes)) in frames().into_iter().enumerate() {
                        let id = channels
                            .iter()
                            .find(|(t, _)| *t == topic)
                            .map(|(_, id)| *id)
                            .ok_or("channel")?;
                        let t = 1_700_000_000_000_000_000 + i as u64 * 100_000_000;
                        w.write_to_known_channel(
                            &mcap::records::MessageHeader {
                                channel_id: id,
                                sequence: i as u32,
                                log_time: t,
                                publish_time: t,
                            },
                            &bytes,
                        )?;
                    }
                    w.finish()?;
                }
                if !chunked && compression.is_some() {
                    continue; // the same file as plain
                }
                let name = format!(
                    "{cname}_{}_{}.mcap",
                    if chunked { "chunked" } else { "unchunked" },
                    if summary { "summary" } else { "nosummary" }
                );
                seeds.put("mcap_read", &name, out.get_ref())?;
            }
        }
    }
    Ok(())
}

fn tempdir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("redline-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A rosbag2 sqlite3 file (Humble schema: topics and messages).
fn sqlite(seeds: &Seeds) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempdir()?;
    let path = dir.join("seed.db3");
    let _ = std::fs::remove_file(&path);
    {
        let db = rusqlite::Connection::open(&path)?;
        db.execute_batch(
            "PRAGMA page_size=512; \
             CREATE TABLE schema(schema_version INTEGER PRIMARY KEY, ros_distro TEXT NOT NULL); \
             INSERT INTO schema VALUES (3, 'humble'); \
             CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, \
               serialization_format TEXT NOT NULL, offered_qos_profiles TEXT NOT NULL); \
             CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, \
               timestamp INTEGER NOT NULL, data BLOB NOT NULL); \
             CREATE INDEX timestamp_idx ON messages (timestamp ASC);",
        )?;
        let mut ids = Vec::new();
        for (topic, ty, _) in frames() {
            if ids.iter().any(|(t, _)| *t == topic) {
                continue;
            }
            db.execute(
                "INSERT INTO topics (name, type, serialization_format, offered_qos_profiles) VALUES (?1, ?2, 'cdr', '')",
                (topic, ty.name()),
            )?;
            ids.push((topic, db.last_insert_rowid()));
        }
        for (i, (topic, _, bytes)) in frames().into_iter().enumerate() {
            let id = ids
                .iter()
                .find(|(t, _)| *t == topic)
                .map(|(_, id)| *id)
                .ok_or("topic")?;
            db.execute(
                "INSERT INTO messages (topic_id, timestamp, data) VALUES (?1, ?2, ?3)",
                (
                    id,
                    1_700_000_000_000_000_000i64 + i as i64 * 100_000_000,
                    bytes,
                ),
            )?;
        }
    }
    seeds.put("sqlite_db3", "seed.db3", &std::fs::read(&path)?)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn yaml(seeds: &Seeds, shared: &Path) -> std::io::Result<()> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(repo.join("config"))? {
        seeds.copy("config_yaml", &entry?.path())?;
    }
    for rel in [
        "fuzz-findings/diag-period-panic/fz_diag.yaml",
        "fuzz-findings/config-f32-overflow/26.yaml",
        "fuzz-findings/config-f32-overflow/358.yaml",
        "fuzz-findings/config-f32-overflow/fz_scale.yaml",
    ] {
        seeds.copy("config_yaml", &shared.join(rel))?;
    }
    seeds.put(
        "metadata_yaml",
        "minimal.yaml",
        b"rosbag2_bagfile_information:\n  version: 5\n  storage_identifier: mcap\n  relative_file_paths: [a.mcap]\n  topics_with_message_count:\n    - topic_metadata: {name: /cam, type: sensor_msgs/msg/Image, serialization_format: cdr, offered_qos_profiles: ''}\n      message_count: 3\n",
    )?;
    for bag in [
        "vtest_jpeg_mcap",
        "vtest_bgr8_sqlite",
        "vtest_rgb8_mcap_zstd",
    ] {
        seeds.copy(
            "metadata_yaml",
            &shared.join("data/bags").join(bag).join("metadata.yaml"),
        )?;
    }
    for rel in [
        "mcap-chunk-size-zero-silent-loss",
        "metadata-topic-mismatch-silent-pass",
        "metadata-duplicate-file-duplicates-frames",
        "replay-message-count-alloc/huge_count",
        "path-traversal-relative-file-paths/trav_rel",
        "path-traversal-relative-file-paths/trav_abs",
    ] {
        seeds.copy(
            "metadata_yaml",
            &shared.join("fuzz-findings").join(rel).join("metadata.yaml"),
        )?;
    }
    Ok(())
}

fn faults(seeds: &Seeds) -> std::io::Result<()> {
    for (i, spec) in [
        "infer:delay=120ms,frames=20..40",
        "infer:error,frames=50..52",
        "sensor:silence=2s,at=5s",
        "sensor:burst=5,at=3s",
        "stamp:jump=-3s,frame=10",
        "infer:delay=1.594967295ms,frames=20..40",
        "stamp:jump=-118ns,frame=0",
        "sensor:silence=1.59223372036854775808s,at=5s",
        "infer:error,frames=7",
    ]
    .iter()
    .enumerate()
    {
        seeds.put("fault_spec", &format!("spec{i}.txt"), spec.as_bytes())?;
    }
    Ok(())
}

fn from_shared(seeds: &Seeds, shared: &Path) -> std::io::Result<()> {
    let f = shared.join("fuzz-findings");
    for rel in [
        "out-equals-bag-clobbers-metadata/cam.mcap",
        "mcap-chunk-alloc-abort/crash.mcap",
        "mcap-chunk-alloc-abort/crash_lz4_2.mcap",
        "mcap-chunk-alloc-abort/crash_zstd.mcap",
        "mcap-zstd-lz4-bomb/bomb_zstd_1g_claim_small.mcap",
        "mcap-zstd-lz4-bomb/bomb_zstd_1g.mcap",
        "logtime-gap-hang/logtime_gap_1e18.mcap",
    ] {
        seeds.copy("mcap_read", &f.join(rel))?;
    }
    seeds.copy("sqlite_db3", &f.join("logtime-gap-hang/neg_timestamp.db3"))?;
    for rel in [
        "jpeg-truncated-scan-accepted/vtest0_cut10_eoi.jpg",
        "jpeg-truncated-scan-accepted/vtest0_cut50_eoi.jpg",
        "jpeg-truncated-scan-accepted/jpeg_sof_3840x2160.jpg",
    ] {
        seeds.copy("image_decode", &f.join(rel))?;
    }
    for photo in ["city.jpg", "dog.jpg", "person.jpg"] {
        seeds.copy("image_decode", &shared.join("data/images").join(photo))?;
    }
    Ok(())
}
