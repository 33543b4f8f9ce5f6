//! The image readers are total (random and truncated bytes never panic) and invert the writers.

use proptest::prelude::*;
use redline::frame::Stamp;
use redline::msgs::{write_compressed_image, write_image, CompressedImageMsg, ImageMsg};

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = ImageMsg::parse(&bytes);
        let _ = CompressedImageMsg::parse(&bytes);
        // Also with a valid CDR header in front, so the field readers are exercised.
        let mut with_header = vec![0, 1, 0, 0];
        with_header.extend_from_slice(&bytes);
        let _ = ImageMsg::parse(&with_header);
        let _ = CompressedImageMsg::parse(&with_header);
    }

    #[test]
    fn image_round_trips_and_every_truncation_is_an_error(
        sec in any::<i32>(), nanosec in any::<u32>(), frame_id in "[a-z_/]{0,20}",
        height in 0u32..8, width in 0u32..8, encoding in "[a-z0-9]{0,8}",
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let stamp = Stamp::new(sec, nanosec);
        let step = width * 3;
        let mut buf = Vec::new();
        write_image(&mut buf, stamp, &frame_id, height, width, &encoding, step, &data);
        let msg = ImageMsg::parse(&buf).expect("own output decodes");
        prop_assert_eq!(msg.header.stamp, stamp);
        prop_assert_eq!(msg.header.frame_id, frame_id.as_str());
        prop_assert_eq!((msg.height, msg.width, msg.step), (height, width, step));
        prop_assert_eq!(msg.encoding, encoding.as_str());
        prop_assert_eq!(msg.data, &data[..]);
        for cut in 0..buf.len() {
            prop_assert!(ImageMsg::parse(&buf[..cut]).is_err(), "truncated at {} decoded", cut);
        }
    }

    #[test]
    fn compressed_image_round_trips_and_every_truncation_is_an_error(
        sec in any::<i32>(), nanosec in any::<u32>(), frame_id in "[a-z_/]{0,20}",
        format in "[a-z; ]{0,20}", data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let stamp = Stamp::new(sec, nanosec);
        let mut buf = Vec::new();
        write_compressed_image(&mut buf, stamp, &frame_id, &format, &data);
        let msg = CompressedImageMsg::parse(&buf).expect("own output decodes");
        prop_assert_eq!(msg.header.stamp, stamp);
        prop_assert_eq!(msg.header.frame_id, frame_id.as_str());
        prop_assert_eq!(msg.format, format.as_str());
        prop_assert_eq!(msg.data, &data[..]);
        for cut in 0..buf.len() {
            prop_assert!(CompressedImageMsg::parse(&buf[..cut]).is_err(), "truncated at {} decoded", cut);
        }
    }
}
