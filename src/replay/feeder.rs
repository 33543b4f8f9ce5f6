//! The frames of a replay, in delivery order: the chosen cameras' messages interleaved in
//! recording order, each with its delivery time (the [`Schedule`]: pacing, sensor silences,
//! bursts) and its header stamp moved onto the replay's clock. Both executors — the stage
//! threads on the wall clock and the simulation on a virtual clock — read frames from here.

use std::collections::VecDeque;
use std::time::Duration;

use crate::bag::{Bag, BagMessage};
use crate::frame::Stamp;
use crate::pipeline::CameraId;

use super::interleave::Interleaved;
use super::schedule::{Delivery, Schedule};

/// One frame to deliver.
pub(crate) struct Delivered {
    /// When to deliver it, after the start of the replay; `None`: as soon as the pipeline has
    /// room (max speed), stamped at delivery.
    pub(crate) at: Option<Duration>,
    pub(crate) camera: CameraId,
    /// The serialised message, stamp already moved (unless `at` is `None`).
    pub(crate) data: Vec<u8>,
}

/// Reads, schedules and re-stamps the frames of a replay.
pub(crate) struct Feeder {
    messages: Interleaved,
    schedule: Schedule,
    start_ros: Stamp,
    index: u64,
    /// Frames held back by a burst fault, with their cameras.
    held: Vec<(CameraId, Vec<u8>)>,
    /// Frames ready to go out, in order.
    ready: VecDeque<Delivered>,
    /// Frames withheld by sensor-silence faults.
    pub(crate) suppressed: u64,
    /// The error that ended the bag early, if any.
    pub(crate) errors: Vec<String>,
    finished: bool,
}

impl Feeder {
    /// The frames of `topics` (camera `i` = topic `i`), stamped relative to `start_ros`.
    pub(crate) fn new(bag: &Bag, topics: &[&str], schedule: Schedule, start_ros: Stamp) -> Self {
        Self {
            messages: Interleaved::new(bag, topics),
            schedule,
            start_ros,
            index: 0,
            held: Vec::new(),
            ready: VecDeque::new(),
            suppressed: 0,
            errors: Vec::new(),
            finished: false,
        }
    }

    /// The schedule (what it skipped, for the report).
    pub(crate) fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Stamp frames relative to `start_ros` from now on (the moment the replay really starts:
    /// after the pipeline is up and its engine calibrated).
    pub(crate) fn start_at(&mut self, start_ros: Stamp) {
        self.start_ros = start_ros;
    }

    /// Read the next recorded message into `ready` (or `held`); false at the end.
    fn read_one(&mut self) -> bool {
        let Some((camera_index, message)) = self.messages.next() else {
            return false;
        };
        let mut message: BagMessage = match message {
            Ok(m) => m,
            Err(e) => {
                self.errors.push(e.to_string());
                return false;
            }
        };
        let index = self.index;
        self.index += 1;
        let camera = CameraId::at(camera_index);
        let log_ns = i64::try_from(message.log_time_ns).unwrap_or(i64::MAX);
        let stamp_ns = read_stamp(&message.data).map_or(log_ns, Stamp::as_nanos);
        let Delivery::Deliver {
            at,
            stamp_offset_ns,
        } = self
            .schedule
            .delivery(index, camera_index, log_ns, stamp_ns)
        else {
            self.suppressed += 1;
            return true;
        };
        let burst = self.schedule.burst_hold(log_ns);
        let at = stamp_offset_ns.map(|offset| {
            write_stamp(&mut message.data, self.start_ros.offset_nanos(offset));
            at
        });
        match burst {
            Some(0) => {
                for (held_camera, data) in self.held.drain(..) {
                    self.ready.push_back(Delivered {
                        at,
                        camera: held_camera,
                        data,
                    });
                }
                self.ready.push_back(Delivered {
                    at,
                    camera,
                    data: message.data,
                });
            }
            Some(_) => self.held.push((camera, message.data)),
            None => self.ready.push_back(Delivered {
                at,
                camera,
                data: message.data,
            }),
        }
        true
    }
}

impl Iterator for Feeder {
    type Item = Delivered;

    fn next(&mut self) -> Option<Delivered> {
        loop {
            if let Some(d) = self.ready.pop_front() {
                return Some(d);
            }
            if self.finished {
                return None;
            }
            if !self.read_one() {
                self.finished = true;
                // A burst cut short by the end of the bag goes out at once.
                for (camera, data) in self.held.drain(..) {
                    self.ready.push_back(Delivered {
                        at: Some(Duration::ZERO),
                        camera,
                        data,
                    });
                }
            }
        }
    }
}

/// The stamp in a serialised image message's header (bytes 4..12 after the CDR header).
pub(crate) fn read_stamp(cdr: &[u8]) -> Option<Stamp> {
    let b = cdr.get(4..12)?;
    let sec = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let nanosec = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    Some(Stamp { sec, nanosec })
}

/// Move the header stamp of a serialised message (a no-op on a message too short to have one:
/// ingest will reject it as malformed).
pub(crate) fn write_stamp(cdr: &mut [u8], stamp: Stamp) {
    if let Some(b) = cdr.get_mut(4..12) {
        b[..4].copy_from_slice(&stamp.sec.to_le_bytes());
        b[4..].copy_from_slice(&stamp.nanosec.to_le_bytes());
    }
}
