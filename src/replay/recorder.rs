//! The replay's `/diagnostics` and alarm recorder: one status per monitor at the configured
//! period (on the replay's clock, wall or virtual) and immediately on a level change, and the
//! latched alarms (per camera and aggregate) on every change — the same content the node
//! publishes ([`crate::stages::MonitorNames`], [`crate::stages::AlarmBoard`]).

use std::sync::Arc;

use crossbeam::channel::Sender;

use crate::config::Config;
use crate::deadline::clock::ms_to_nanos;
use crate::deadline::{Clock, MonitorSnapshot, MonoTime, StatusContent};
use crate::frame::Pool;
use crate::msgs::{write_diagnostic_array, write_diagnostic_status, DiagnosticStatusView};
use crate::pipeline::{LevelChange, PipelineSummary, RunningPipeline};
use crate::stages::{AlarmBoard, AlarmTopic, MonitorNames};

use super::output::{OutputChannel, OutputRecord};

/// Writes `/diagnostics` and alarm messages into the output recording.
pub(crate) struct DiagnosticsRecorder {
    clock: Arc<dyn Clock>,
    records: Sender<OutputRecord>,
    buffers: Pool<Vec<u8>>,
    names: MonitorNames,
    alarms: AlarmBoard,
    period_ns: u64,
    last: Option<MonoTime>,
    /// Level changes recorded so far (the summary's log repeats them after shutdown).
    changes_recorded: usize,
    /// Wait for room in the output queue rather than drop a message (the simulation).
    blocking: bool,
}

impl DiagnosticsRecorder {
    pub(crate) fn new(
        config: &Config,
        hardware_id: &str,
        clock: Arc<dyn Clock>,
        records: Sender<OutputRecord>,
    ) -> Self {
        let names = MonitorNames::new(config, hardware_id);
        Self {
            clock,
            records,
            buffers: Pool::at_least_one(16, |_| Vec::with_capacity(4096)),
            alarms: AlarmBoard::new(&names),
            names,
            period_ns: ms_to_nanos(config.monitor.diagnostics_period_ms),
            last: None,
            changes_recorded: 0,
            blocking: false,
        }
    }

    /// Wait for room in the output queue instead of dropping a message when it is full, so the
    /// recording does not depend on how fast the disk is (the simulation).
    pub(crate) fn block_on_full_queue(&mut self) {
        self.blocking = true;
    }

    /// Record live level changes, and `/diagnostics` when due or after a change.
    pub(crate) fn poll(&mut self, pipeline: &dyn RunningPipeline) {
        let live: Vec<LevelChange> = pipeline.transitions().try_iter().collect();
        let changed = !live.is_empty();
        self.record_changes(&live);
        let now = self.clock.now();
        let due = self
            .last
            .is_none_or(|t| now.nanos_since(t) >= self.period_ns);
        if due || changed {
            self.emit_diagnostics(pipeline);
        }
    }

    /// Record alarm messages for these level changes.
    fn record_changes(&mut self, changes: &[LevelChange]) {
        for change in changes {
            for (topic, status) in self.alarms.apply(change, &self.names) {
                self.write_status(alarm_channel(topic), &status);
            }
            self.changes_recorded += 1;
        }
    }

    /// After shutdown: the level changes not recorded live, then the latched alarms once more
    /// with recovery progress and "input ended".
    pub(crate) fn finish(&mut self, summary: &PipelineSummary) {
        let recorded = self.changes_recorded;
        self.record_changes(summary.transitions.get(recorded..).unwrap_or(&[]));
        self.final_alarms(summary);
    }

    /// The latched alarms once more at the end, with recovery progress and "input ended".
    fn final_alarms(&mut self, summary: &PipelineSummary) {
        let cameras: Vec<MonitorSnapshot> =
            summary.cameras.iter().map(|c| c.final_snapshot).collect();
        let overall = summary.overall_snapshot();
        for (topic, status) in self.alarms.finish(&cameras, &overall, &self.names) {
            self.write_status(alarm_channel(topic), &status);
        }
    }

    /// One `/diagnostics` message with a status per monitor.
    pub(crate) fn emit_diagnostics(&mut self, pipeline: &dyn RunningPipeline) {
        self.last = Some(self.clock.now());
        let statuses = self.names.statuses(pipeline);
        let stamp = self.clock.ros_now();
        let owned: Vec<Vec<(&str, &str)>> = statuses
            .iter()
            .map(|s| {
                s.values
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect()
            })
            .collect();
        let views: Vec<DiagnosticStatusView<'_>> = statuses
            .iter()
            .zip(&owned)
            .map(|(s, values)| view(s, values))
            .collect();
        self.write(OutputChannel::Diagnostics, |buf| {
            write_diagnostic_array(buf, stamp, "", &views)
        });
    }

    fn write_status(&mut self, channel: OutputChannel, status: &StatusContent) {
        let values: Vec<(&str, &str)> = status
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let v = view(status, &values);
        self.write(channel, |buf| write_diagnostic_status(buf, &v));
    }

    fn write(&mut self, channel: OutputChannel, serialise: impl FnOnce(&mut Vec<u8>)) {
        let Some(mut buf) = self.buffers.try_lease() else {
            return;
        };
        serialise(&mut buf);
        let record = OutputRecord {
            channel,
            log_time_ns: self.clock.ros_now().as_nanos().max(0) as u64,
            bytes: buf,
        };
        let _ = if self.blocking {
            self.records.send(record).map_err(|_| ())
        } else {
            self.records.try_send(record).map_err(|_| ())
        };
    }
}

/// The output channel of an alarm topic.
fn alarm_channel(topic: AlarmTopic) -> OutputChannel {
    match topic {
        AlarmTopic::Camera(c) => OutputChannel::Alarm(Some(c)),
        AlarmTopic::Aggregate => OutputChannel::Alarm(None),
    }
}

fn view<'a>(s: &'a StatusContent, values: &'a [(&'a str, &'a str)]) -> DiagnosticStatusView<'a> {
    DiagnosticStatusView {
        level: s.level,
        name: &s.name,
        message: &s.message,
        hardware_id: &s.hardware_id,
        values,
    }
}
