//! `diagnostic_msgs/msg/DiagnosticArray` and `DiagnosticStatus` (the latched alarm) serialisation.
//!
//! DiagnosticArray{Header header, DiagnosticStatus[] status};
//! DiagnosticStatus{byte level, string name, string message, string hardware_id,
//! KeyValue[] values}; KeyValue{string key, string value}.

use super::writer::CdrWriter;
use crate::frame::Stamp;

/// `DiagnosticStatus.level` values.
pub const DIAG_OK: u8 = 0;
pub const DIAG_WARN: u8 = 1;
pub const DIAG_ERROR: u8 = 2;
pub const DIAG_STALE: u8 = 3;

/// A borrowed view of one `DiagnosticStatus`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DiagnosticStatusView<'a> {
    pub level: u8,
    pub name: &'a str,
    pub message: &'a str,
    pub hardware_id: &'a str,
    /// `KeyValue` pairs `(key, value)`.
    pub values: &'a [(&'a str, &'a str)],
}

fn write_status_fields(w: &mut CdrWriter<'_>, status: &DiagnosticStatusView<'_>) {
    w.u8(status.level);
    w.string(status.name);
    w.string(status.message);
    w.string(status.hardware_id);
    w.sequence_len(status.values.len());
    for (key, value) in status.values {
        w.string(key);
        w.string(value);
    }
}

/// Serialise a `DiagnosticArray` into `buf` (cleared first).
pub fn write_diagnostic_array(
    buf: &mut Vec<u8>,
    stamp: Stamp,
    frame_id: &str,
    statuses: &[DiagnosticStatusView<'_>],
) {
    let mut w = CdrWriter::start(buf);
    w.header(stamp, frame_id);
    w.sequence_len(statuses.len());
    for status in statuses {
        write_status_fields(&mut w, status);
    }
}

/// Serialise one `DiagnosticStatus` message (the latched alarm) into `buf` (cleared first).
pub fn write_diagnostic_status(buf: &mut Vec<u8>, status: &DiagnosticStatusView<'_>) {
    let mut w = CdrWriter::start(buf);
    write_status_fields(&mut w, status);
}
