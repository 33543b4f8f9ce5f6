//! A total, zero-copy XCDR1 little-endian reader.
//!
//! ROS 2 messages start with a 4-byte encapsulation header (`00 01 00 00` for CDR little
//! endian); alignment of every primitive is relative to the first byte after it. Strings are a
//! u32 length that includes the terminating NUL, then the bytes; sequences are a u32 count,
//! then the elements. Every read is bounds-checked: malformed input is an error naming the
//! field and byte offset, never a panic, and no length read from the input is trusted beyond
//! the bytes actually present.

/// Why a message could not be decoded.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CdrError {
    #[error("message is shorter than the 4-byte CDR encapsulation header")]
    NoHeader,
    #[error("unsupported CDR encapsulation {0:#06x} (expected 0x0001, CDR little endian)")]
    Encapsulation(u16),
    #[error("{field}: truncated at byte {offset}")]
    Truncated { field: &'static str, offset: usize },
    #[error("{field}: length {len} at byte {offset} exceeds the {remaining} bytes left")]
    LengthTooLarge {
        field: &'static str,
        offset: usize,
        len: u64,
        remaining: usize,
    },
    #[error("{field}: string at byte {offset} is not NUL-terminated UTF-8")]
    BadString { field: &'static str, offset: usize },
}

/// The CDR little-endian encapsulation header.
pub const CDR_LE_HEADER: [u8; 4] = [0x00, 0x01, 0x00, 0x00];

/// A cursor over one CDR message that hands out borrowed slices.
#[derive(Clone, Debug)]
pub struct CdrReader<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> CdrReader<'a> {
    /// Check the encapsulation header and position the cursor after it.
    pub fn new(bytes: &'a [u8]) -> Result<Self, CdrError> {
        let header = bytes.get(..4).ok_or(CdrError::NoHeader)?;
        let kind = u16::from_be_bytes([header[0], header[1]]);
        if kind != 0x0001 {
            return Err(CdrError::Encapsulation(kind));
        }
        Ok(Self {
            body: &bytes[4..],
            pos: 0,
        })
    }

    /// Byte offset in the whole message (including the 4-byte header), for errors.
    pub fn offset(&self) -> usize {
        self.pos + 4
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> usize {
        self.body.len().saturating_sub(self.pos)
    }

    fn align(&mut self, n: usize, field: &'static str) -> Result<(), CdrError> {
        let aligned = self.pos.div_ceil(n) * n;
        if aligned > self.body.len() {
            return Err(CdrError::Truncated {
                field,
                offset: self.offset(),
            });
        }
        self.pos = aligned;
        Ok(())
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CdrError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.body.len())
            .ok_or(CdrError::Truncated {
                field,
                offset: self.offset(),
            })?;
        let out = &self.body[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CdrError> {
        self.align(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, CdrError> {
        Ok(self.take(1, field)?[0])
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, CdrError> {
        self.array::<4>(field).map(u32::from_le_bytes)
    }

    pub fn i32(&mut self, field: &'static str) -> Result<i32, CdrError> {
        self.array::<4>(field).map(i32::from_le_bytes)
    }

    pub fn f64(&mut self, field: &'static str) -> Result<f64, CdrError> {
        self.array::<8>(field).map(f64::from_le_bytes)
    }

    /// A string, borrowed (without its NUL).
    pub fn string(&mut self, field: &'static str) -> Result<&'a str, CdrError> {
        let at = self.offset();
        let bytes = self.byte_sequence(field)?;
        let text = match bytes.split_last() {
            Some((0, text)) => text,
            // ROS writers always include the NUL; an empty string is length 1.
            _ => return Err(CdrError::BadString { field, offset: at }),
        };
        std::str::from_utf8(text).map_err(|_| CdrError::BadString { field, offset: at })
    }

    /// A `uint8[]` sequence, borrowed.
    pub fn byte_sequence(&mut self, field: &'static str) -> Result<&'a [u8], CdrError> {
        let at = self.offset();
        let len = self.u32(field)? as usize;
        if len > self.remaining() {
            return Err(CdrError::LengthTooLarge {
                field,
                offset: at,
                len: len as u64,
                remaining: self.remaining(),
            });
        }
        self.take(len, field)
    }
}
