//! Reading the shared rosbag2 recordings, written by independent writers (`rosbags`,
//! `mcap-ros2-support`): frame counts, stamps, topics and pixels; several image topics; and
//! damaged bags, which yield what precedes the damage and then an error naming the file.

mod common;

use std::path::Path;

use redline::bag::{Bag, BagError, Storage, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE};
use redline::msgs::{CompressedImageMsg, ImageMsg};

const START_NS: i64 = 1_700_000_000_000_000_000;

fn read_all(bag: &Bag, topic: &str) -> Vec<redline::bag::BagMessage> {
    bag.messages(topic).collect::<Result<Vec<_>, _>>().unwrap()
}

#[test]
fn jpeg_mcap_bag_has_150_frames_at_10_hz() {
    let Some(dir) = common::shared("data/bags/vtest_jpeg_mcap") else {
        return;
    };
    let bag = Bag::open(&dir).unwrap();
    assert_eq!(bag.storage(), Storage::Mcap);
    assert_eq!(bag.metadata_version(), Some(8));
    let topic = bag.choose_image_topic("").unwrap();
    assert_eq!(topic.name, "/camera/front/image_raw/compressed");
    assert_eq!(topic.type_name, COMPRESSED_IMAGE_TYPE);
    let messages = read_all(&bag, &topic.name);
    assert_eq!(messages.len(), 150);
    for (i, m) in messages.iter().enumerate() {
        let msg = CompressedImageMsg::parse(&m.data).unwrap();
        assert_eq!(msg.header.frame_id, "camera_front");
        assert_eq!(
            msg.header.stamp.as_nanos(),
            START_NS + i as i64 * 100_000_000,
            "frame {i}"
        );
        assert!(msg.format.contains("jpeg"), "{}", msg.format);
        assert_eq!(&msg.data[..2], &[0xFF, 0xD8]);
    }
    assert!(messages
        .windows(2)
        .all(|w| w[0].log_time_ns <= w[1].log_time_ns));
}

/// Pixel (x, y) of a raw image as (r, g, b).
fn rgb_at(msg: &ImageMsg<'_>, x: usize, y: usize) -> [u8; 3] {
    let p = &msg.data[y * msg.step as usize + x * 3..][..3];
    match msg.encoding {
        "rgb8" => [p[0], p[1], p[2]],
        "bgr8" => [p[2], p[1], p[0]],
        other => panic!("unexpected encoding {other}"),
    }
}

#[test]
fn raw_bags_from_two_writers_agree_pixel_for_pixel() {
    let (Some(sqlite), Some(zstd)) = (
        common::shared("data/bags/vtest_bgr8_sqlite"),
        common::shared("data/bags/vtest_rgb8_mcap_zstd"),
    ) else {
        return;
    };
    let a = Bag::open(&sqlite).unwrap();
    let b = Bag::open(&zstd).unwrap();
    assert_eq!(a.storage(), Storage::Sqlite3);
    assert_eq!(b.metadata_version(), Some(5));
    let ta = a.choose_image_topic("").unwrap();
    let tb = b.choose_image_topic("/camera/front/image_raw").unwrap();
    assert_eq!(ta.type_name, IMAGE_TYPE);
    let ma = read_all(&a, &ta.name);
    let mb = read_all(&b, &tb.name);
    assert_eq!((ma.len(), mb.len()), (20, 20));
    for (i, (x, y)) in ma.iter().zip(&mb).enumerate() {
        let (x, y) = (
            ImageMsg::parse(&x.data).unwrap(),
            ImageMsg::parse(&y.data).unwrap(),
        );
        assert_eq!((x.encoding, y.encoding), ("bgr8", "rgb8"));
        assert_eq!((x.width, x.height), (768, 576));
        assert_eq!((y.width, y.height, y.step), (768, 576, 768 * 3));
        assert_eq!(x.data.len(), 768 * 576 * 3);
        assert_eq!(x.header.stamp, y.header.stamp, "frame {i}");
        assert_eq!(x.header.stamp.as_nanos(), START_NS + i as i64 * 100_000_000);
        // The two writers decoded the source video independently: the same frame, within a
        // few levels of each other, in the right channel order.
        let mut diff = 0u64;
        let mut n = 0u64;
        for py in (0..576).step_by(37) {
            for px in (0..768).step_by(41) {
                let (p, q) = (rgb_at(&x, px, py), rgb_at(&y, px, py));
                diff += p
                    .iter()
                    .zip(q)
                    .map(|(a, b)| a.abs_diff(b) as u64)
                    .sum::<u64>();
                n += 3;
            }
        }
        let mean = diff as f64 / n as f64;
        assert!(mean < 12.0, "frame {i}: mean abs difference {mean}");
    }
}

#[test]
fn bare_mcap_file_and_bare_db3_open_without_metadata() {
    let (Some(mcap), Some(db3)) = (
        common::shared("data/bags/vtest_rgb8_mcap_zstd/vtest_rgb8_mcap_zstd_0.mcap"),
        common::shared("data/bags/vtest_bgr8_sqlite/vtest_bgr8_sqlite.db3"),
    ) else {
        return;
    };
    for path in [mcap, db3] {
        let bag = Bag::open(&path).unwrap();
        assert_eq!(bag.metadata_version(), None);
        let topic = bag.choose_image_topic("").unwrap();
        assert_eq!(topic.message_count, Some(20), "{}", path.display());
        assert_eq!(read_all(&bag, &topic.name).len(), 20);
    }
}

#[test]
fn configured_topic_must_exist_and_errors_list_candidates() {
    let Some(dir) = common::shared("data/bags/vtest_jpeg_mcap") else {
        return;
    };
    let bag = Bag::open(&dir).unwrap();
    let err = bag.choose_image_topic("/camera/rear").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BagError::TopicNotFound { .. }));
    assert!(
        text.contains("/camera/rear") && text.contains("/camera/front/image_raw/compressed"),
        "{text}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn truncated_mcap_yields_the_frames_before_the_damage_then_an_error() {
    let Some(dir) = common::shared("data/bags/vtest_jpeg_mcap") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let bag_dir = tmp.path().join("cut");
    copy_dir(&dir, &bag_dir);
    let file = bag_dir.join("vtest_jpeg_mcap.mcap");
    common::truncate_to_half(&file);
    let bag = Bag::open(&bag_dir).unwrap();
    let mut ok = 0;
    let mut errors = Vec::new();
    for m in bag.messages("/camera/front/image_raw/compressed") {
        match m {
            Ok(m) => {
                assert!(CompressedImageMsg::parse(&m.data).is_ok());
                ok += 1;
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert!(ok > 10 && ok < 150, "read {ok}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("vtest_jpeg_mcap.mcap") && errors[0].contains("after message #"),
        "{}",
        errors[0]
    );
}

#[test]
fn garbage_files_are_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let mcap = tmp.path().join("x.mcap");
    std::fs::write(&mcap, b"\x89MCAP0\r\nthis is not really an mcap file").unwrap();
    match Bag::open(&mcap) {
        Ok(bag) => assert!(bag.messages("/a").any(|m| m.is_err())),
        Err(e) => assert!(e.to_string().contains("x.mcap"), "{e}"),
    }
    let db3 = tmp.path().join("y.db3");
    std::fs::write(&db3, vec![0x42u8; 4096]).unwrap();
    let err = Bag::open(&db3).unwrap_err();
    assert!(err.to_string().contains("y.db3"), "{err}");
    let err = Bag::open(tmp.path().join("nothing-here").as_path()).unwrap_err();
    assert!(matches!(err, BagError::NotFound { .. }), "{err}");
    let not_a_bag = tmp.path().join("notes.txt");
    std::fs::write(&not_a_bag, "hello").unwrap();
    let err = Bag::open(&not_a_bag).unwrap_err();
    assert!(matches!(err, BagError::NotABag { .. }), "{err}");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(
        empty.join("metadata.yaml"),
        "rosbag2_bagfile_information: {version: 5}",
    )
    .unwrap();
    assert!(Bag::open(&empty)
        .unwrap_err()
        .to_string()
        .contains("metadata.yaml"));
}
