//! Inflating an MCAP chunk with an output cap: the chunk's claimed `uncompressed_size` is checked
//! against the limit before anything is allocated, and the decompressor writes into a buffer of
//! exactly the claimed size, so a chunk that inflates past its claim (a decompression bomb, or
//! a damaged size field) is an error after at most `claimed + 1` bytes, never an allocation of
//! what the data would inflate to.
#![deny(clippy::arithmetic_side_effects)]

use std::io::Read;

use super::mcap_records::{McapProblem, Place};

/// Reusable decompression state for one file's chunks.
pub(crate) struct Inflater {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
}

impl Inflater {
    pub fn new() -> Self {
        Self { zstd: None }
    }

    /// Inflate `data` (compressed with `compression`) into `out`, which ends up holding exactly
    /// `claimed` bytes. `claimed` must already be within the limit (the caller checks it).
    pub fn inflate(
        &mut self,
        at: Place,
        compression: &str,
        data: &[u8],
        claimed: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), McapProblem> {
        let claimed_len = usize::try_from(claimed).map_err(|_| McapProblem::TooLarge {
            what: "chunk",
            at,
            claimed,
            limit: usize::MAX as u64,
        })?;
        out.clear();
        match compression {
            "" => {
                if data.len() != claimed_len {
                    return Err(if data.len() > claimed_len {
                        McapProblem::InflatesPastClaim { at, claimed }
                    } else {
                        McapProblem::InflatesShort {
                            at,
                            claimed,
                            actual: data.len() as u64,
                        }
                    });
                }
                out.extend_from_slice(data);
                Ok(())
            }
            "zstd" => self.zstd(at, data, claimed, claimed_len, out),
            "lz4" => lz4(at, data, claimed, claimed_len, out),
            other => Err(McapProblem::UnsupportedCompression {
                at,
                compression: other.chars().take(64).collect(),
            }),
        }
    }

    fn zstd(
        &mut self,
        at: Place,
        data: &[u8],
        claimed: u64,
        claimed_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), McapProblem> {
        let corrupt = |detail: String| McapProblem::Corrupt {
            at,
            compression: "zstd",
            detail,
        };
        let decompressor = match &mut self.zstd {
            Some(d) => d,
            None => self
                .zstd
                .insert(zstd::bulk::Decompressor::new().map_err(|e| corrupt(e.to_string()))?),
        };
        // One byte more than claimed: filling it proves the chunk inflates past its claim.
        out.resize(claimed_len.saturating_add(1), 0);
        match decompressor.decompress_to_buffer(data, out.as_mut_slice()) {
            Ok(n) => {
                out.truncate(n);
                check_size(at, claimed, claimed_len, n)
            }
            Err(e) if e.to_string().contains("too small") => {
                out.clear();
                Err(McapProblem::InflatesPastClaim { at, claimed })
            }
            Err(e) => {
                out.clear();
                Err(corrupt(e.to_string()))
            }
        }
    }
}

/// LZ4 frame data, read through the streaming decoder into at most `claimed + 1` bytes.
fn lz4(
    at: Place,
    data: &[u8],
    claimed: u64,
    claimed_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), McapProblem> {
    let corrupt = |e: std::io::Error| McapProblem::Corrupt {
        at,
        compression: "lz4",
        detail: e.to_string(),
    };
    let mut decoder = lz4::Decoder::new(data).map_err(corrupt)?;
    out.resize(claimed_len.saturating_add(1), 0);
    let mut filled = 0usize;
    while let Some(room) = out.get_mut(filled..) {
        if room.is_empty() {
            break;
        }
        match decoder.read(room) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n),
            Err(e) => {
                out.clear();
                return Err(corrupt(e));
            }
        }
    }
    out.truncate(filled);
    check_size(at, claimed, claimed_len, filled)
}

fn check_size(
    at: Place,
    claimed: u64,
    claimed_len: usize,
    actual: usize,
) -> Result<(), McapProblem> {
    match actual.cmp(&claimed_len) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(McapProblem::InflatesPastClaim { at, claimed }),
        std::cmp::Ordering::Less => Err(McapProblem::InflatesShort {
            at,
            claimed,
            actual: actual as u64,
        }),
    }
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "test arithmetic on known fixtures"
)]
mod tests {
    use super::*;

    const AT: Place = Place {
        chunk: None,
        offset: 42,
    };

    fn lz4_frame(data: &[u8]) -> Vec<u8> {
        let mut enc = lz4::EncoderBuilder::new().build(Vec::new()).unwrap();
        std::io::Write::write_all(&mut enc, data).unwrap();
        let (out, result) = enc.finish();
        result.unwrap();
        out
    }

    #[test]
    fn each_compression_inflates_to_exactly_its_claim() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut inflater = Inflater::new();
        let mut out = Vec::new();
        let zstd = zstd::bulk::compress(&data, 3).unwrap();
        inflater
            .inflate(AT, "zstd", &zstd, 10_000, &mut out)
            .unwrap();
        assert_eq!(out, data);
        inflater
            .inflate(AT, "lz4", &lz4_frame(&data), 10_000, &mut out)
            .unwrap();
        assert_eq!(out, data);
        inflater.inflate(AT, "", &data, 10_000, &mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn a_chunk_inflating_past_or_short_of_its_claim_is_an_error() {
        let data = vec![7u8; 1 << 20];
        let mut inflater = Inflater::new();
        let zstd = zstd::bulk::compress(&data, 3).unwrap();
        let lz4 = lz4_frame(&data);
        for (name, bytes) in [("zstd", &zstd), ("lz4", &lz4)] {
            let mut out = Vec::new();
            assert_eq!(
                inflater.inflate(AT, name, bytes, 4096, &mut out),
                Err(McapProblem::InflatesPastClaim {
                    at: AT,
                    claimed: 4096
                }),
                "{name}"
            );
            assert!(out.capacity() < 1 << 20, "{name}: never inflated in full");
            assert!(matches!(
                inflater.inflate(AT, name, bytes, 2 << 20, &mut out),
                Err(McapProblem::InflatesShort { actual, .. }) if actual == 1 << 20
            ));
            assert!(matches!(
                inflater.inflate(AT, name, bytes, 0, &mut out),
                Err(McapProblem::InflatesPastClaim { claimed: 0, .. })
            ));
        }
        let mut out = Vec::new();
        assert!(matches!(
            inflater.inflate(AT, "brotli", b"x", 1, &mut out),
            Err(McapProblem::UnsupportedCompression { .. })
        ));
        assert!(matches!(
            inflater.inflate(AT, "zstd", b"not zstd at all", 100, &mut out),
            Err(McapProblem::Corrupt { .. })
        ));
    }
}
