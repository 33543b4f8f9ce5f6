//! MCAP files from an independent writer (the `mcap` crate) in every shape — uncompressed,
//! zstd- and lz4-chunked, unchunked, with and without a summary — are read completely and
//! exactly by redline's own record walker, with their topics, types and counts.

mod common;

use common::mcap_variants::{frames, log_time, write, VARIANTS};
use redline::bag::{Bag, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE};

#[test]
fn every_mcap_shape_is_read_completely() {
    let tmp = tempfile::tempdir().unwrap();
    let frames = frames();
    for variant in VARIANTS {
        let name = variant.name();
        let path = tmp.path().join(format!("{name}.mcap"));
        std::fs::write(&path, write(&frames, variant).unwrap()).unwrap();
        let bag = Bag::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut topics: Vec<_> = bag
            .topics()
            .iter()
            .map(|t| (t.name.as_str(), t.type_name.as_str(), t.message_count))
            .collect();
        topics.sort();
        assert_eq!(
            topics,
            [
                (
                    "/camera/front/image_raw/compressed",
                    COMPRESSED_IMAGE_TYPE,
                    Some(4)
                ),
                ("/camera/left/image_raw", IMAGE_TYPE, Some(1)),
            ],
            "{name}"
        );
        for (topic, _, _) in [&frames[0], &frames[4]] {
            let want: Vec<(u64, &Vec<u8>)> = frames
                .iter()
                .enumerate()
                .filter(|(_, f)| f.0 == *topic)
                .map(|(i, f)| (log_time(i), &f.2))
                .collect();
            let got: Vec<_> = bag
                .messages(topic)
                .map(|m| m.unwrap_or_else(|e| panic!("{name} {topic}: {e}")))
                .collect();
            assert_eq!(got.len(), want.len(), "{name} {topic}");
            for (g, (t, data)) in got.iter().zip(want) {
                assert_eq!((g.log_time_ns, &g.data), (t, data), "{name} {topic}");
            }
        }
    }
}
