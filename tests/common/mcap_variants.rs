//! MCAP files written by an independent writer (the `mcap` crate) in every shape the reader must
//! take: uncompressed, zstd- or lz4-chunked, unchunked, with or without a summary (and with it,
//! statistics and chunk indexes). Shared by `tests/bag_mcap_variants.rs` and the fuzz seeds
//! (`examples/fuzz_seeds.rs`).
#![allow(dead_code)]

use std::io::Cursor;

use redline::bag::RosType;
use redline::frame::Stamp;
use redline::msgs::{write_compressed_image, write_image};

/// One way of writing the file.
#[derive(Copy, Clone, Debug)]
pub struct Variant {
    pub compression: Option<mcap::Compression>,
    pub chunked: bool,
    pub summary: bool,
}

impl Variant {
    pub fn name(&self) -> String {
        format!(
            "{}_{}_{}",
            match self.compression {
                None => "plain",
                Some(mcap::Compression::Zstd) => "zstd",
                Some(mcap::Compression::Lz4) => "lz4",
            },
            if self.chunked { "chunked" } else { "unchunked" },
            if self.summary { "summary" } else { "nosummary" }
        )
    }
}

const fn v(compression: Option<mcap::Compression>, chunked: bool, summary: bool) -> Variant {
    Variant {
        compression,
        chunked,
        summary,
    }
}

/// Every shape (compression only matters in chunks).
pub const VARIANTS: [Variant; 8] = [
    v(None, true, true),
    v(None, true, false),
    v(Some(mcap::Compression::Zstd), true, true),
    v(Some(mcap::Compression::Zstd), true, false),
    v(Some(mcap::Compression::Lz4), true, true),
    v(Some(mcap::Compression::Lz4), true, false),
    v(None, false, true),
    v(None, false, false),
];

/// Log time of frame `i`.
pub fn log_time(i: usize) -> u64 {
    1_700_000_000_000_000_000 + i as u64 * 100_000_000
}

/// Five small frames on two topics: four JPEG `CompressedImage`s (enough data for several
/// chunks) and one raw `Image`.
pub fn frames() -> Vec<(&'static str, RosType, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..4u32 {
        let img = image::RgbImage::from_fn(24, 16, |x, y| {
            image::Rgb([(x * 9 + i) as u8, (y * 7) as u8, 40])
        });
        let mut jpeg = Cursor::new(Vec::new());
        img.write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .expect("encode");
        let mut buf = Vec::new();
        let stamp = Stamp::from_nanos(log_time(i as usize) as i64);
        write_compressed_image(&mut buf, stamp, "cam", "jpeg", jpeg.get_ref());
        out.push((
            "/camera/front/image_raw/compressed",
            RosType::CompressedImage,
            buf,
        ));
    }
    let mut buf = Vec::new();
    write_image(
        &mut buf,
        Stamp::from_nanos(log_time(4) as i64),
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

/// `frames` (message i logged at [`log_time`]`(i)`) written as `variant`.
pub fn write(
    frames: &[(&str, RosType, Vec<u8>)],
    variant: Variant,
) -> Result<Vec<u8>, mcap::McapError> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut w = mcap::WriteOptions::new()
            .profile("ros2")
            .compression(variant.compression)
            .use_chunks(variant.chunked)
            .chunk_size(Some(600))
            .emit_summary_records(variant.summary)
            .emit_summary_offsets(variant.summary)
            .emit_statistics(variant.summary)
            .emit_chunk_indexes(variant.summary)
            .create(&mut out)?;
        let mut channels: Vec<(&str, u16)> = Vec::new();
        for (i, (topic, ty, bytes)) in frames.iter().enumerate() {
            let id = match channels.iter().find(|(t, _)| t == topic) {
                Some((_, id)) => *id,
                None => {
                    let schema = w.add_schema(ty.name(), "ros2msg", ty.definition().as_bytes())?;
                    let id = w.add_channel(schema, topic, "cdr", &Default::default())?;
                    channels.push((*topic, id));
                    id
                }
            };
            w.write_to_known_channel(
                &mcap::records::MessageHeader {
                    channel_id: id,
                    sequence: i as u32,
                    log_time: log_time(i),
                    publish_time: log_time(i),
                },
                bytes,
            )?;
        }
        w.finish()?;
    }
    Ok(out.into_inner())
}
