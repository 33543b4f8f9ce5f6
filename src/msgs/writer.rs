//! A CDR (XCDR1 little-endian) writer over a reused buffer.
//!
//! `CdrWriter::start` clears the buffer and writes the encapsulation header `00 01 00 00`;
//! primitives are aligned relative to the first byte after the header; strings are a u32
//! length including the terminating NUL, then the bytes and the NUL; sequences are a u32
//! count, then the elements. Once the buffer has grown to the largest message, writing
//! allocates nothing.

use super::cdr::CDR_LE_HEADER;
use crate::frame::Stamp;

/// Serialises one CDR message into a caller-owned, reused `Vec<u8>`.
#[derive(Debug)]
pub struct CdrWriter<'b> {
    buf: &'b mut Vec<u8>,
}

impl<'b> CdrWriter<'b> {
    /// Clear `buf` and write the CDR little-endian encapsulation header.
    pub fn start(buf: &'b mut Vec<u8>) -> Self {
        buf.clear();
        buf.extend_from_slice(&CDR_LE_HEADER);
        Self { buf }
    }

    /// Bytes written so far, including the 4-byte header.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing but the header has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= CDR_LE_HEADER.len()
    }

    fn align(&mut self, n: usize) {
        let body = self.buf.len() - CDR_LE_HEADER.len();
        let pad = body.next_multiple_of(n) - body;
        self.buf.resize(self.buf.len() + pad, 0);
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn f64(&mut self, v: f64) {
        self.align(8);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A sequence or string length; lengths above `u32::MAX` are clamped (ROS cannot carry
    /// them and the caller's data would be truncated by the bound check on read).
    fn len_prefix(&mut self, len: usize) {
        self.u32(u32::try_from(len).unwrap_or(u32::MAX));
    }

    /// A ROS string: u32 length including the NUL, the bytes, the NUL.
    pub fn string(&mut self, s: &str) {
        self.len_prefix(s.len() + 1);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
    }

    /// The count of a sequence whose elements the caller writes next.
    pub fn sequence_len(&mut self, count: usize) {
        self.len_prefix(count);
    }

    /// A `uint8[]` / `byte[]` sequence.
    pub fn bytes(&mut self, data: &[u8]) {
        self.len_prefix(data.len());
        self.buf.extend_from_slice(data);
    }

    /// `std_msgs/Header`: `builtin_interfaces/Time stamp`, `string frame_id`.
    pub fn header(&mut self, stamp: Stamp, frame_id: &str) {
        self.i32(stamp.sec);
        self.u32(stamp.nanosec);
        self.string(frame_id);
    }
}

/// Serialise a `sensor_msgs/msg/Image` into `buf` (cleared first).
#[allow(clippy::too_many_arguments)]
pub fn write_image(
    buf: &mut Vec<u8>,
    stamp: Stamp,
    frame_id: &str,
    height: u32,
    width: u32,
    encoding: &str,
    step: u32,
    data: &[u8],
) {
    let mut w = CdrWriter::start(buf);
    w.header(stamp, frame_id);
    w.u32(height);
    w.u32(width);
    w.string(encoding);
    w.u8(0); // is_bigendian
    w.u32(step);
    w.bytes(data);
}

/// Serialise a `sensor_msgs/msg/CompressedImage` into `buf` (cleared first).
pub fn write_compressed_image(
    buf: &mut Vec<u8>,
    stamp: Stamp,
    frame_id: &str,
    format: &str,
    data: &[u8],
) {
    let mut w = CdrWriter::start(buf);
    w.header(stamp, frame_id);
    w.string(format);
    w.bytes(data);
}
