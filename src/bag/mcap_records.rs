//! MCAP records read straight from a byte slice (a mapped file or an inflated chunk), without
//! copying and without trusting a single length: every length is checked against the bytes that
//! are really there before it is used, and names against [`MAX_NAME_BYTES`]. Only the records
//! replay needs are parsed (schema, channel, message, chunk, message index, statistics, footer);
//! the others are walked over. Format: <https://mcap.dev/spec>.
#![deny(clippy::arithmetic_side_effects)]

use super::limits::MAX_NAME_BYTES;

/// The 8 bytes an MCAP file starts and ends with.
pub(crate) const MAGIC: [u8; 8] = [0x89, b'M', b'C', b'A', b'P', b'0', b'\r', b'\n'];

/// Record opcodes.
pub(crate) mod op {
    pub const FOOTER: u8 = 0x02;
    pub const SCHEMA: u8 = 0x03;
    pub const CHANNEL: u8 = 0x04;
    pub const MESSAGE: u8 = 0x05;
    pub const CHUNK: u8 = 0x06;
    pub const MESSAGE_INDEX: u8 = 0x07;
    pub const STATISTICS: u8 = 0x0B;
    pub const DATA_END: u8 = 0x0F;
}

/// Where in a file something is: a byte offset, inside a chunk or not.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// File offset of the enclosing chunk record, when inside one.
    pub chunk: Option<u64>,
    /// Offset in the file, or in the chunk's inflated records when `chunk` is set.
    pub offset: u64,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.chunk {
            Some(chunk) => write!(
                f,
                "offset {} of the chunk at file offset {chunk}",
                self.offset
            ),
            None => write!(f, "file offset {}", self.offset),
        }
    }
}

/// What is wrong in an MCAP file. The reader adds the file's path and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum McapProblem {
    #[error("not an MCAP file (its first 8 bytes are not the MCAP magic)")]
    BadMagic,
    #[error("{what} at {at} is cut short: it needs {needed} bytes, {available} remain")]
    Truncated {
        what: &'static str,
        at: Place,
        needed: u64,
        available: u64,
    },
    #[error("{what} at {at} claims {claimed} bytes, more than the limit of {limit} bytes (from input.max_width × input.max_height)")]
    TooLarge {
        what: &'static str,
        at: Place,
        claimed: u64,
        limit: u64,
    },
    #[error("{what} at {at}: a name of {len} bytes (the limit is {MAX_NAME_BYTES})")]
    NameTooLong {
        what: &'static str,
        at: Place,
        len: u64,
    },
    #[error("{what} at {at}: a name is not valid UTF-8")]
    NotUtf8 { what: &'static str, at: Place },
    #[error("chunk at {at} inflates past the {claimed} bytes it claims")]
    InflatesPastClaim { at: Place, claimed: u64 },
    #[error("chunk at {at} inflates to {actual} bytes, not the {claimed} it claims")]
    InflatesShort {
        at: Place,
        claimed: u64,
        actual: u64,
    },
    #[error("chunk at {at}: its {compression} data is corrupt ({detail})")]
    Corrupt {
        at: Place,
        compression: &'static str,
        detail: String,
    },
    #[error(
        "chunk at {at}: unsupported compression {compression:?} (redline reads zstd, lz4 and none)"
    )]
    UnsupportedCompression { at: Place, compression: String },
    #[error("chunk at {at}: CRC mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    BadCrc {
        at: Place,
        stored: u32,
        computed: u32,
    },
    #[error("the data section ends at {at} without a data-end or footer record (truncated)")]
    NoEnd { at: Place },
    #[error("chunk at {at} yielded {read} messages on the topic, but its message index lists {indexed}: messages were lost")]
    FewerThanIndexed { at: Place, read: u64, indexed: u64 },
    #[error("{read} messages on the topic were read, but the file's statistics count {counted}: messages were lost")]
    FewerThanCounted { read: u64, counted: u64 },
    #[error("more than {limit} channels (the limit of what redline tracks)")]
    TooManyChannels { limit: usize },
}

/// One record: where it starts, its opcode and its body.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Record<'a> {
    pub at: Place,
    pub opcode: u8,
    pub body: &'a [u8],
}

/// Walks the records of `buf` (no magic), reporting offsets from `base`.
pub(crate) struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    chunk: Option<u64>,
}

impl<'a> Records<'a> {
    /// Records of `buf`, whose first byte is at `base` in the file (or in the chunk).
    pub fn new(buf: &'a [u8], base: u64, chunk: Option<u64>) -> Self {
        Self {
            buf,
            pos: 0,
            base,
            chunk,
        }
    }

    /// Where the next record starts.
    pub fn place(&self) -> Place {
        Place {
            chunk: self.chunk,
            offset: self.base.saturating_add(self.pos as u64),
        }
    }

    /// Bytes of `buf` consumed so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, McapProblem>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let at = self.place();
        let truncated = |needed: u64| McapProblem::Truncated {
            what: "record",
            at,
            needed,
            available: rest.len() as u64,
        };
        let (Some(&opcode), Some(len)) = (rest.first(), rest.get(1..9)) else {
            self.pos = self.buf.len();
            return Some(Err(truncated(9)));
        };
        let len = u64::from_le_bytes(len.try_into().unwrap_or([0xFF; 8]));
        let body = usize::try_from(len)
            .ok()
            .and_then(|len| Some((len, len.checked_add(9)?)))
            .and_then(|(len, end)| Some((rest.get(9..end)?, len)));
        match body {
            Some((body, len)) => {
                self.pos = self.pos.saturating_add(9).saturating_add(len);
                Some(Ok(Record { at, opcode, body }))
            }
            None => {
                self.pos = self.buf.len();
                Some(Err(truncated(len.saturating_add(9))))
            }
        }
    }
}

/// A little-endian reader over one record body.
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
    at: Place,
}

impl<'a> Fields<'a> {
    fn new(record: &Record<'a>, what: &'static str) -> Self {
        Self {
            buf: record.body,
            pos: 0,
            what,
            at: record.at,
        }
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], McapProblem> {
        let available = self.buf.len().saturating_sub(self.pos) as u64;
        let bytes = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .and_then(|end| Some((self.buf.get(self.pos..end)?, end)));
        match bytes {
            Some((bytes, end)) => {
                self.pos = end;
                Ok(bytes)
            }
            None => Err(McapProblem::Truncated {
                what: self.what,
                at: self.at,
                needed: n,
                available,
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], McapProblem> {
        let bytes = self.take(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, McapProblem> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, McapProblem> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, McapProblem> {
        self.array().map(u64::from_le_bytes)
    }

    /// A string with a u32 length prefix, at most [`MAX_NAME_BYTES`].
    fn name(&mut self) -> Result<&'a str, McapProblem> {
        let len = u64::from(self.u32()?);
        if len > MAX_NAME_BYTES as u64 {
            return Err(McapProblem::NameTooLong {
                what: self.what,
                at: self.at,
                len,
            });
        }
        std::str::from_utf8(self.take(len)?).map_err(|_| McapProblem::NotUtf8 {
            what: self.what,
            at: self.at,
        })
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }
}

/// Schema record: id and type name (e.g. `sensor_msgs/msg/Image`).
pub(crate) struct SchemaRec<'a> {
    pub id: u16,
    pub name: &'a str,
}

pub(crate) fn schema<'a>(r: &Record<'a>) -> Result<SchemaRec<'a>, McapProblem> {
    let mut f = Fields::new(r, "schema record");
    Ok(SchemaRec {
        id: f.u16()?,
        name: f.name()?,
    })
}

/// Channel record: id, schema id and topic.
pub(crate) struct ChannelRec<'a> {
    pub id: u16,
    pub schema_id: u16,
    pub topic: &'a str,
}

pub(crate) fn channel<'a>(r: &Record<'a>) -> Result<ChannelRec<'a>, McapProblem> {
    let mut f = Fields::new(r, "channel record");
    Ok(ChannelRec {
        id: f.u16()?,
        schema_id: f.u16()?,
        topic: f.name()?,
    })
}

/// Message record: channel, log time and the payload (borrowed).
pub(crate) struct MessageRec<'a> {
    pub channel_id: u16,
    pub log_time: u64,
    pub data: &'a [u8],
}

pub(crate) fn message<'a>(r: &Record<'a>) -> Result<MessageRec<'a>, McapProblem> {
    let mut f = Fields::new(r, "message record");
    let channel_id = f.u16()?;
    let _sequence = f.u32()?;
    let log_time = f.u64()?;
    let _publish_time = f.u64()?;
    Ok(MessageRec {
        channel_id,
        log_time,
        data: f.rest(),
    })
}

/// Chunk record: the claimed inflated size and CRC, the compression, the compressed records.
pub(crate) struct ChunkRec<'a> {
    pub uncompressed_size: u64,
    pub uncompressed_crc: u32,
    pub compression: &'a str,
    pub data: &'a [u8],
}

pub(crate) fn chunk<'a>(r: &Record<'a>) -> Result<ChunkRec<'a>, McapProblem> {
    let mut f = Fields::new(r, "chunk record");
    let _start = f.u64()?;
    let _end = f.u64()?;
    let uncompressed_size = f.u64()?;
    let uncompressed_crc = f.u32()?;
    let compression = f.name()?;
    let compressed_size = f.u64()?;
    Ok(ChunkRec {
        uncompressed_size,
        uncompressed_crc,
        compression,
        data: f.take(compressed_size)?,
    })
}

/// Message index record: the channel and how many messages of it the preceding chunk holds.
pub(crate) struct MessageIndexRec {
    pub channel_id: u16,
    pub entries: u64,
}

pub(crate) fn message_index(r: &Record<'_>) -> Result<MessageIndexRec, McapProblem> {
    let mut f = Fields::new(r, "message index record");
    let channel_id = f.u16()?;
    let bytes = f.u32()?;
    f.take(u64::from(bytes))?;
    // Each entry is (log_time u64, offset u64).
    Ok(MessageIndexRec {
        channel_id,
        entries: u64::from(bytes) / 16,
    })
}

/// Statistics record: the per-channel message counts, as (channel id, count) pairs.
pub(crate) fn statistics_counts<'a>(
    r: &Record<'a>,
) -> Result<impl Iterator<Item = (u16, u64)> + 'a, McapProblem> {
    let mut f = Fields::new(r, "statistics record");
    let _message_count = f.u64()?;
    let _schema_count = f.u16()?;
    let _channel_count = f.u32()?;
    let _attachment_count = f.u32()?;
    let _metadata_count = f.u32()?;
    let _chunk_count = f.u32()?;
    let _start = f.u64()?;
    let _end = f.u64()?;
    let bytes = f.u32()?;
    let map = f.take(u64::from(bytes))?;
    Ok(map.chunks_exact(10).map(|e| {
        let mut id = [0u8; 2];
        let mut count = [0u8; 8];
        id.copy_from_slice(e.get(..2).unwrap_or(&[0; 2]));
        count.copy_from_slice(e.get(2..10).unwrap_or(&[0; 8]));
        (u16::from_le_bytes(id), u64::from_le_bytes(count))
    }))
}

/// Footer record: where the summary section starts (0: no summary).
pub(crate) fn footer_summary_start(r: &Record<'_>) -> Result<u64, McapProblem> {
    Fields::new(r, "footer record").u64()
}

/// The footer of a whole file (`buf` includes both magics), if the file ends with one.
pub(crate) fn file_footer(buf: &[u8]) -> Option<Result<u64, McapProblem>> {
    // footer record: opcode (1) + length (8) + summary_start, summary_offset_start (8 + 8) + crc (4)
    const FOOTER_RECORD: usize = 1 + 8 + 20;
    let len = buf.len();
    let tail = buf.get(len.checked_sub(8)?..)?;
    if tail != MAGIC {
        return None;
    }
    let start = len.checked_sub(8 + FOOTER_RECORD)?;
    let bytes = buf.get(start..len.checked_sub(8)?)?;
    let record = Records::new(bytes, start as u64, None).next()?;
    Some(record.and_then(|r| {
        if r.opcode == op::FOOTER {
            footer_summary_start(&r)
        } else {
            Err(McapProblem::NoEnd {
                at: Place {
                    chunk: None,
                    offset: start as u64,
                },
            })
        }
    }))
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "test arithmetic on known fixtures"
)]
mod tests {
    use super::*;

    fn record(opcode: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![opcode];
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn records_are_walked_and_a_length_past_the_end_is_an_error() {
        let mut buf = record(op::DATA_END, &[0; 4]);
        buf.extend(record(0x7F, b"xyz"));
        let rs: Vec<_> = Records::new(&buf, 8, None).collect();
        assert_eq!(rs.len(), 2);
        let r = rs[1].as_ref().unwrap();
        assert_eq!((r.opcode, r.body, r.at.offset), (0x7F, &b"xyz"[..], 8 + 13));
        let mut cut = record(op::MESSAGE, &[0; 40]);
        cut.truncate(30);
        let err = Records::new(&cut, 0, None).next().unwrap().unwrap_err();
        assert!(matches!(
            err,
            McapProblem::Truncated {
                needed: 49,
                available: 30,
                ..
            }
        ));
        let mut huge = vec![op::CHUNK];
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(Records::new(&huge, 0, None).next().unwrap().is_err());
    }

    #[test]
    fn names_are_bounded_and_checked() {
        let mut body = 7u16.to_le_bytes().to_vec();
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        let buf = record(op::SCHEMA, &body);
        let r = Records::new(&buf, 0, None).next().unwrap().unwrap();
        assert!(matches!(schema(&r), Err(McapProblem::NameTooLong { .. })));
        let mut body = 7u16.to_le_bytes().to_vec();
        body.extend_from_slice(&2u32.to_le_bytes());
        body.extend_from_slice(&[0xFF, 0xFE]);
        let buf = record(op::SCHEMA, &body);
        let r = Records::new(&buf, 0, None).next().unwrap().unwrap();
        assert!(matches!(schema(&r), Err(McapProblem::NotUtf8 { .. })));
    }

    #[test]
    fn chunk_data_must_fit_in_the_record() {
        let mut body = Vec::new();
        for v in [0u64, 0, 100] {
            body.extend_from_slice(&v.to_le_bytes());
        }
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&4u32.to_le_bytes());
        body.extend_from_slice(b"zstd");
        body.extend_from_slice(&1000u64.to_le_bytes());
        body.extend_from_slice(&[0; 10]);
        let buf = record(op::CHUNK, &body);
        let r = Records::new(&buf, 0, None).next().unwrap().unwrap();
        assert!(matches!(
            chunk(&r),
            Err(McapProblem::Truncated {
                needed: 1000,
                available: 10,
                ..
            })
        ));
    }
}
