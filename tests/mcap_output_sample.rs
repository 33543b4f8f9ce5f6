//! The committed sample bag (data/sample, made by tools/make_sample_bag.py) holds 45 JPEG
//! frames at 10 Hz on the README's topic, and every frame decodes with our CDR reader.

use redline::msgs::CompressedImageMsg;

#[test]
fn sample_bag_has_45_decodable_jpeg_frames_at_10_hz() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let bytes = std::fs::read(dir.join("sample.mcap")).expect("data/sample/sample.mcap");
    let yaml = std::fs::read_to_string(dir.join("metadata.yaml")).expect("metadata.yaml");
    assert!(yaml.contains("message_count: 45"), "{yaml}");

    let mut stamps = Vec::new();
    for message in mcap::MessageStream::new(&bytes).expect("MCAP") {
        let message = message.expect("MCAP record");
        assert_eq!(message.channel.topic, "/camera/front/image_raw/compressed");
        assert_eq!(message.channel.message_encoding, "cdr");
        let msg = CompressedImageMsg::parse(&message.data).expect("CompressedImage CDR");
        assert_eq!(msg.format, "jpeg");
        assert_eq!(&msg.data[..2], &[0xff, 0xd8], "JPEG SOI");
        stamps.push(
            i64::from(msg.header.stamp.sec) * 1_000_000_000 + i64::from(msg.header.stamp.nanosec),
        );
    }
    assert_eq!(stamps.len(), 45);
    for pair in stamps.windows(2) {
        assert_eq!(pair[1] - pair[0], 100_000_000, "10 Hz stamps");
    }
}
