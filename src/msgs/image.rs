//! Zero-copy readers for `sensor_msgs/msg/Image` and `sensor_msgs/msg/CompressedImage`: every
//! string and the pixel data are borrowed from the message bytes.

use super::cdr::{CdrError, CdrReader};
use crate::frame::Stamp;

/// `std_msgs/Header`, borrowed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    pub stamp: Stamp,
    pub frame_id: &'a str,
}

impl<'a> HeaderRef<'a> {
    /// Read `builtin_interfaces/Time stamp` and `string frame_id`.
    pub fn read(r: &mut CdrReader<'a>) -> Result<Self, CdrError> {
        let sec = r.i32("header.stamp.sec")?;
        let nanosec = r.u32("header.stamp.nanosec")?;
        let frame_id = r.string("header.frame_id")?;
        Ok(Self {
            stamp: Stamp { sec, nanosec },
            frame_id,
        })
    }
}

/// `sensor_msgs/msg/Image`, borrowed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ImageMsg<'a> {
    pub header: HeaderRef<'a>,
    pub height: u32,
    pub width: u32,
    pub encoding: &'a str,
    pub is_bigendian: u8,
    pub step: u32,
    pub data: &'a [u8],
}

impl<'a> ImageMsg<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CdrError> {
        let mut r = CdrReader::new(bytes)?;
        Ok(Self {
            header: HeaderRef::read(&mut r)?,
            height: r.u32("Image.height")?,
            width: r.u32("Image.width")?,
            encoding: r.string("Image.encoding")?,
            is_bigendian: r.u8("Image.is_bigendian")?,
            step: r.u32("Image.step")?,
            data: r.byte_sequence("Image.data")?,
        })
    }
}

/// `sensor_msgs/msg/CompressedImage`, borrowed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CompressedImageMsg<'a> {
    pub header: HeaderRef<'a>,
    pub format: &'a str,
    pub data: &'a [u8],
}

impl<'a> CompressedImageMsg<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CdrError> {
        let mut r = CdrReader::new(bytes)?;
        Ok(Self {
            header: HeaderRef::read(&mut r)?,
            format: r.string("CompressedImage.format")?,
            data: r.byte_sequence("CompressedImage.data")?,
        })
    }
}
