//! Real recorded messages (the shared bags, written by `rosbags` / `mcap-ros2-support`, not by
//! us) decode with our readers and re-encode with our writers to identical bytes.

mod common;

use std::path::PathBuf;

use redline::msgs::{write_compressed_image, write_image, CompressedImageMsg, ImageMsg};

fn bag_dir(name: &str) -> Option<PathBuf> {
    let dir = common::shared_root().join("data/bags").join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is missing (set REDLINE_SHARED)", dir.display());
        None
    }
}

fn first_mcap_payloads(dir: &std::path::Path, n: usize) -> Vec<Vec<u8>> {
    let file = std::fs::read_dir(dir)
        .expect("bag dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "mcap"))
        .expect(".mcap file");
    let bytes = std::fs::read(&file).expect("read mcap");
    mcap::MessageStream::new(&bytes)
        .expect("MCAP")
        .take(n)
        .map(|m| m.expect("record").data.into_owned())
        .collect()
}

fn reencode_image(raw: &[u8], out: &mut Vec<u8>) {
    let msg = ImageMsg::parse(raw).expect("Image decodes");
    assert_eq!(msg.data.len(), msg.step as usize * msg.height as usize);
    write_image(
        out,
        msg.header.stamp,
        msg.header.frame_id,
        msg.height,
        msg.width,
        msg.encoding,
        msg.step,
        msg.data,
    );
}

#[test]
fn recorded_compressed_images_reencode_identically() {
    let Some(dir) = bag_dir("vtest_jpeg_mcap") else {
        return;
    };
    let mut out = Vec::new();
    let payloads = first_mcap_payloads(&dir, 5);
    assert_eq!(payloads.len(), 5);
    for raw in &payloads {
        let msg = CompressedImageMsg::parse(raw).expect("CompressedImage decodes");
        write_compressed_image(
            &mut out,
            msg.header.stamp,
            msg.header.frame_id,
            msg.format,
            msg.data,
        );
        assert_eq!(&out, raw);
    }
}

#[test]
fn recorded_raw_images_reencode_identically() {
    let Some(dir) = bag_dir("vtest_rgb8_mcap_zstd") else {
        return;
    };
    let mut out = Vec::new();
    let payloads = first_mcap_payloads(&dir, 3);
    assert_eq!(payloads.len(), 3);
    for raw in &payloads {
        reencode_image(raw, &mut out);
        assert_eq!(&out, raw);
    }
}

#[test]
fn recorded_sqlite_images_reencode_identically() {
    let Some(dir) = bag_dir("vtest_bgr8_sqlite") else {
        return;
    };
    let db = std::fs::read_dir(&dir)
        .expect("bag dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "db3"))
        .expect(".db3 file");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open db3");
    let mut stmt = conn
        .prepare("SELECT data FROM messages ORDER BY timestamp LIMIT 3")
        .expect("query");
    let rows: Vec<Vec<u8>> = stmt
        .query_map([], |row| row.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("blobs");
    assert_eq!(rows.len(), 3);
    let mut out = Vec::new();
    for raw in &rows {
        reencode_image(raw, &mut out);
        assert_eq!(&out, raw);
    }
}
