//! The hostile recordings of `../shared/fuzz-findings/` (one test per table row) and the rule
//! behind each applied to other bytes: a damaged chunk, a chunk size or message count that lies,
//! a decompression bomb, a topic the data lacks, a file listed twice or lying outside the bag —
//! each is an error naming the file (and the record), never an abort, an allocation of what the
//! file claims, or a clean pass over lost frames.

mod common;

use std::path::{Path, PathBuf};

use common::findings::{
    bag_dir, chunk_uncompressed_size_at, finding, jpeg_camera_file, mcap_records,
};
use redline::bag::{Bag, BagError, BagLimits, BagMessage};

const CAMERA: &str = "/camera/front/image_raw";

/// Every message of `topic`, and the error that ended the stream, if any.
fn read(bag: &Bag, topic: &str) -> (Vec<BagMessage>, Option<BagError>) {
    let mut ok = Vec::new();
    for m in bag.messages(topic) {
        match m {
            Ok(m) => ok.push(m),
            Err(e) => return (ok, Some(e)),
        }
    }
    (ok, None)
}

/// Peak resident memory of this process so far, bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn damaged_chunks_are_errors_naming_file_and_record() {
    for name in ["crash.mcap", "crash_lz4_2.mcap", "crash_zstd.mcap"] {
        let Some(file) = finding(&format!("mcap-chunk-alloc-abort/{name}")) else {
            return;
        };
        let bag = match Bag::open(&file) {
            Ok(bag) => bag,
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains(name) && text.contains("offset"), "{text}");
                continue;
            }
        };
        for topic in bag.topics() {
            let (_, err) = read(&bag, &topic.name);
            let text = err.expect("a damaged chunk is an error").to_string();
            assert!(
                text.contains(name) && text.contains("chunk at file offset"),
                "{name}: {text}"
            );
        }
    }
}

#[test]
fn every_single_byte_damage_is_an_error_or_changes_nothing() {
    let Some(file) = finding("out-equals-bag-clobbers-metadata/cam.mcap") else {
        return;
    };
    let original = std::fs::read(&file).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("cam.mcap");
    std::fs::write(&path, &original).unwrap();
    let clean = Bag::open(&path).unwrap();
    let topics: Vec<String> = clean.topics().iter().map(|t| t.name.clone()).collect();
    let expected: Vec<Vec<BagMessage>> = topics
        .iter()
        .map(|t| {
            let (m, e) = read(&clean, t);
            assert!(e.is_none(), "{e:?}");
            m
        })
        .collect();
    assert_eq!(expected[0].len(), 3);
    let mut errors = 0;
    for at in 0..original.len() {
        // Every byte inverted; a single low bit on every fourth (to keep the test short).
        let flips: &[u8] = if at % 4 == 0 { &[0xFF, 0x01] } else { &[0xFF] };
        for &flip in flips {
            let mut damaged = original.clone();
            damaged[at] ^= flip;
            std::fs::write(&path, &damaged).unwrap();
            let Ok(bag) = Bag::open(&path) else {
                errors += 1;
                continue;
            };
            for (topic, want) in topics.iter().zip(&expected) {
                let (got, err) = read(&bag, topic);
                match err {
                    Some(e) => {
                        errors += 1;
                        assert!(e.to_string().contains("cam.mcap"), "byte {at}: {e}");
                        assert!(got.len() <= want.len(), "byte {at}");
                    }
                    None => assert_eq!(
                        &got, want,
                        "byte {at} ^ {flip:#x}: no error, yet the messages of {topic} changed"
                    ),
                }
            }
        }
    }
    assert!(
        errors > original.len(),
        "most damage is detected ({errors})"
    );
}

#[test]
fn a_chunk_whose_size_lies_is_an_error_after_the_frames_before_it() {
    let (Some(dir), Some(meta)) = (
        common::shared("data/bags/vtest_rgb8_mcap_zstd"),
        finding("mcap-chunk-size-zero-silent-loss/metadata.yaml"),
    ) else {
        return;
    };
    let source = dir.join("vtest_rgb8_mcap_zstd_0.mcap");
    let original = std::fs::read(&source).unwrap();
    let chunks: Vec<usize> = mcap_records(&original)
        .into_iter()
        .filter(|r| r.1 == 0x06)
        .map(|r| r.0)
        .collect();
    assert_eq!(chunks.len(), 20);
    let middle = chunks[chunks.len() / 2];
    let at = chunk_uncompressed_size_at(middle);
    let claimed = u64::from_le_bytes(original[at..at + 8].try_into().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    // The finding (size 0, as make.py builds it), then the same lie in other amounts.
    for lie in [0, 1, claimed - 1, claimed + 1, claimed * 2, u64::MAX] {
        let mut bytes = original.clone();
        bytes[at..at + 8].copy_from_slice(&lie.to_le_bytes());
        let bag_path = tmp.path().join(format!("lie_{lie}"));
        bag_dir(&bag_path, &meta, &[]);
        std::fs::write(bag_path.join("vtest_rgb8_mcap_zstd_0.mcap"), &bytes).unwrap();
        let bag = Bag::open(&bag_path).unwrap();
        let (got, err) = read(&bag, CAMERA);
        let err = err.unwrap_or_else(|| panic!("size {lie}: {} frames and no error", got.len()));
        assert_eq!(
            got.len(),
            chunks.len() / 2,
            "size {lie}: the frames before it"
        );
        let text = err.to_string();
        assert!(
            text.contains("vtest_rgb8_mcap_zstd_0.mcap")
                && text.contains(&format!("chunk at file offset {middle}")),
            "size {lie}: {text}"
        );
    }
}

#[test]
fn decompression_bombs_are_refused_before_inflating() {
    let rss_before = peak_rss();
    for name in [
        "bomb_zstd_1g.mcap",
        "bomb_lz4_1g.mcap",
        "bomb_zstd_1g_claim_small.mcap",
    ] {
        let Some(file) = finding(&format!("mcap-zstd-lz4-bomb/{name}")) else {
            return;
        };
        let started = std::time::Instant::now();
        let err = match Bag::open(&file) {
            Err(e) => e,
            Ok(bag) => {
                let topic = bag.topics()[0].name.clone();
                read(&bag, &topic).1.expect("a bomb is an error")
            }
        };
        let text = err.to_string();
        assert!(
            text.contains(name) && text.contains("chunk at file offset"),
            "{text}"
        );
        assert!(
            text.contains("more than the limit") || text.contains("inflates past"),
            "{text}"
        );
        assert!(
            started.elapsed().as_secs() < 10,
            "{name} took {:?}",
            started.elapsed()
        );
    }
    // 1 GiB each: had any been inflated, the peak would have grown by about that much.
    let grown = peak_rss().saturating_sub(rss_before);
    assert!(grown < 256 << 20, "peak RSS grew by {grown} bytes");
}

#[test]
fn chunk_limits_follow_the_configured_image_size() {
    let Some(file) = finding("out-equals-bag-clobbers-metadata/cam.mcap") else {
        return;
    };
    // cam.mcap's largest chunk inflates to 507 bytes: limits smaller than that refuse it.
    let tiny = BagLimits {
        max_message_bytes: 100,
        max_chunk_bytes: 300,
    };
    let bag = Bag::open_with_limits(&file, tiny);
    let err = match bag {
        Err(e) => e,
        Ok(bag) => read(&bag, CAMERA).1.expect("over the limit"),
    };
    assert!(
        err.to_string().contains("more than the limit of 300 bytes"),
        "{err}"
    );
}

/// The shared JPEG camera bag with `metadata` from a finding, in `dir`.
fn jpeg_bag(dir: &Path, metadata: &Path) -> Option<PathBuf> {
    let camera = jpeg_camera_file()?;
    Some(bag_dir(dir, metadata, &[("vtest_jpeg_mcap.mcap", &camera)]))
}

#[test]
fn message_counts_are_hints_never_allocations() {
    let tmp = tempfile::tempdir().unwrap();
    for (case, claimed) in [("huge_count", 1u64 << 40), ("max_count", u64::MAX)] {
        let Some(meta) = finding(&format!("replay-message-count-alloc/{case}/metadata.yaml"))
        else {
            return;
        };
        let Some(dir) = jpeg_bag(&tmp.path().join(case), &meta) else {
            return;
        };
        let bag = Bag::open(&dir).unwrap();
        let topic = bag.choose_image_topic("").unwrap();
        assert_eq!(topic.message_count, Some(claimed));
        let (got, err) = read(&bag, &topic.name);
        assert_eq!(got.len(), 150);
        let text = err.expect("fewer frames than claimed").to_string();
        assert!(
            text.contains(&format!("counts {claimed} messages")) && text.contains("only 150"),
            "{text}"
        );
    }
}

#[test]
fn an_mcap_statistics_count_is_a_hint_too() {
    let Some(camera) = jpeg_camera_file() else {
        return;
    };
    let mut bytes = std::fs::read(&camera).unwrap();
    let (stats, _, len) = mcap_records(&bytes)
        .into_iter()
        .find(|r| r.1 == 0x0B)
        .expect("the bag has statistics");
    // channel_message_counts: after 8+2+4+4+4+4+8+8 bytes, a u32 byte length, then (u16, u64).
    let map = stats + 9 + 42;
    let map_len = u32::from_le_bytes(bytes[map..map + 4].try_into().unwrap()) as usize;
    assert!(map_len >= 10 && map + 4 + map_len <= stats + 9 + len);
    bytes[map + 6..map + 14].copy_from_slice(&u64::MAX.to_le_bytes());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("stats.mcap");
    std::fs::write(&path, &bytes).unwrap();
    let bag = Bag::open(&path).unwrap();
    let topic = bag.choose_image_topic("").unwrap();
    assert_eq!(topic.message_count, Some(u64::MAX));
    let (got, err) = read(&bag, &topic.name);
    assert_eq!(got.len(), 150);
    assert!(err
        .expect("statistics claim more")
        .to_string()
        .contains("statistics count"));
}

#[test]
fn a_topic_the_data_files_lack_is_an_error() {
    let Some(src) = finding("metadata-topic-mismatch-silent-pass") else {
        return;
    };
    let bag = Bag::open(&src).unwrap();
    let topic = bag.choose_image_topic("").unwrap();
    assert_eq!(topic.name, "/camera/renamed");
    let (got, err) = read(&bag, &topic.name);
    assert!(got.is_empty());
    let text = err.expect("nothing to replay is an error").to_string();
    assert!(
        text.contains("/camera/renamed") && text.contains(CAMERA) && text.contains("cam.mcap"),
        "{text}"
    );
}

#[test]
fn a_file_listed_twice_is_refused() {
    let Some(src) = finding("metadata-duplicate-file-duplicates-frames") else {
        return;
    };
    let err = Bag::open(&src).unwrap_err();
    assert!(matches!(err, BagError::DuplicateFile { .. }), "{err}");
    assert!(err.to_string().contains("cam.mcap"), "{err}");
}

#[test]
fn a_bag_reads_only_files_inside_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (Some(abs), Some(passwd), Some(rel), Some(link), Some(camera)) = (
        finding("path-traversal-relative-file-paths/trav_abs/metadata.yaml"),
        finding("path-traversal-relative-file-paths/trav_passwd/metadata.yaml"),
        finding("path-traversal-relative-file-paths/trav_rel/metadata.yaml"),
        finding("path-traversal-relative-file-paths/trav_symlink/metadata.yaml"),
        jpeg_camera_file(),
    ) else {
        return;
    };
    // trav_rel names ../../shared/…: put a real file where that resolves, so only the rule
    // (not a missing file) can refuse it.
    let outside = tmp.path().join("shared/data/bags/vtest_jpeg_mcap");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(&camera, outside.join("vtest_jpeg_mcap.mcap")).unwrap();
    let cases = [
        ("trav_abs", abs, "an absolute path"),
        ("trav_passwd", passwd, "`..`"),
        ("trav_rel", rel, "`..`"),
        ("trav_symlink", link, "symlink leading outside"),
    ];
    for (name, meta, why) in cases {
        let dir = bag_dir(&tmp.path().join("bags").join(name), &meta, &[]);
        if name == "trav_symlink" {
            std::os::unix::fs::symlink(&camera, dir.join("vtest_jpeg_mcap.mcap")).unwrap();
        }
        let err = Bag::open(&dir).unwrap_err();
        assert!(
            matches!(err, BagError::FileOutsideBag { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(why), "{name}: {err}");
    }
    // A FIFO inside the bag would block the reader forever: not a regular file.
    let dir = tmp.path().join("fifo");
    std::fs::create_dir(&dir).unwrap();
    let fifo = dir.join("x.mcap");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = Bag::open(&dir).unwrap_err();
    assert!(matches!(err, BagError::NotARegularFile { .. }), "{err}");
    assert!(matches!(
        Bag::open(&fifo).unwrap_err(),
        BagError::NotARegularFile { .. }
    ));
}

#[test]
fn negative_sqlite_timestamps_are_errors_not_clamps() {
    let Some(db3) = finding("logtime-gap-hang/neg_timestamp.db3") else {
        return;
    };
    let bag = Bag::open(&db3).unwrap();
    let (got, err) = read(&bag, CAMERA);
    assert!(got.is_empty());
    let text = err.expect("negative timestamp").to_string();
    assert!(
        text.contains("negative timestamp") && text.contains("neg_timestamp.db3"),
        "{text}"
    );
}

#[test]
fn sqlite_blobs_are_checked_before_they_are_fetched() {
    let Some(db3) = common::shared("data/bags/vtest_bgr8_sqlite/vtest_bgr8_sqlite.db3") else {
        return;
    };
    // Each frame is 768×576 bgr8 (1.3 MB): a 100×100 image limit refuses the first BLOB.
    let limits = BagLimits::for_images(redline::frame::ImageLimits {
        max_width: 100,
        max_height: 100,
    });
    let bag = Bag::open_with_limits(&db3, limits).unwrap();
    let topic = bag.choose_image_topic("").unwrap();
    let (got, err) = read(&bag, &topic.name);
    assert!(got.is_empty());
    let text = err.expect("over the limit").to_string();
    assert!(
        text.contains("message row id") && text.contains("more than the limit"),
        "{text}"
    );
}
