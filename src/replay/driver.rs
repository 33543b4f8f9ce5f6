//! The replay loop: read the bag, pace and re-stamp each frame onto the live clock, submit it
//! to the real pipeline, record diagnostics and alarm transitions into the output recording as
//! they happen, then shut down and assemble the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::Sender;
use indicatif::{ProgressBar, ProgressStyle};

use crate::bag::{Bag, BagError, IMAGE_TYPE};
use crate::config::{Config, ImageTransport, OutputConfig};
use crate::deadline::{
    alarm_status, deadline_status, Clock, StatusContent, SystemClock, Transition,
};
use crate::frame::{Pool, Stamp};
use crate::infer::{load_warm, ModelError};
use crate::msgs::{write_diagnostic_array, write_diagnostic_status, DiagnosticStatusView};
use crate::pipeline::{FrameEvent, Pipeline, PipelineError, PipelineSettings, RunningPipeline};
use crate::report::{ReplayReport, ReportError, ReportFiles};
use crate::stages;

use super::fault::engine_faults;
use super::interrupt;
use super::options::ReplayOptions;
use super::output::{OutputChannel, OutputError, OutputRecord, OutputTopics, OutputWriter};
use super::report_builder::{build_report, RunFacts};
use super::schedule::{Delivery, Pacing, Schedule};
use super::sink::ReplaySink;

/// Why a replay could not run (bag damage found *during* a replay is reported, not returned).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Bag(#[from] BagError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("output recording: {0}")]
    Output(#[from] OutputError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A finished replay: the report and where it was written.
#[derive(Debug)]
pub struct ReplayOutcome {
    pub report: ReplayReport,
    pub files: ReportFiles,
}

/// How long to wait for in-flight frames after the last one was submitted.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Run a replay end to end and write its report.
pub fn run(opts: &ReplayOptions) -> Result<ReplayOutcome, ReplayError> {
    let bag = Bag::open(&opts.bag)?;
    let mut config = opts.config.clone();
    let mut notes = Vec::new();
    let topic = choose_topic(&bag, &config, opts.topic.as_deref(), &mut notes)?;
    config.input.topic = topic.name.clone();
    config.input.transport = if topic.type_name == IMAGE_TYPE {
        ImageTransport::Raw
    } else {
        ImageTransport::Compressed
    };
    let expected = topic.message_count.unwrap_or(0) as usize;

    let engine = load_warm(&config.model, engine_faults(&opts.faults))?;
    let output = OutputWriter::start(
        &opts.out_dir,
        &OutputTopics {
            detections: OutputConfig::absolute(&config.output.detections_topic),
            diagnostics: OutputConfig::absolute(&config.output.diagnostics_topic),
            alarm: OutputConfig::absolute(&config.output.alarm_topic),
        },
    )?;
    let records = output.sender();
    let sink = ReplaySink::new(
        records.clone(),
        config.model.class_names.clone(),
        expected,
        config.pipeline.channel_capacity + 8,
    );
    let stage_set = stages::build::<Vec<u8>, _>(&config, engine, sink);
    let clock = Arc::new(SystemClock::new());
    let settings = PipelineSettings::from_config(&config);
    let pipeline = Pipeline::start(&settings, clock.clone(), stage_set)?;
    let rt = pipeline.rt_report();
    notes.push(format!("real-time setup: {}", rt.summary()));
    let events = pipeline.frame_events();
    let start_mono = clock.now();
    let start_ros = clock.ros_now();
    let started = Instant::now();

    let mut diag = DiagnosticsRecorder::new(&config, clock.clone(), records);
    let mut timeline: Vec<FrameEvent> = Vec::with_capacity(expected + 16);
    let mut errors = Vec::new();
    let mut schedule = Schedule::new(opts.pacing, &opts.faults);
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut suppressed = 0u64;
    let progress = progress_bar(opts.progress, expected as u64);

    let mut interrupted_by = None;
    tracing::info!(topic = %topic.name, frames = expected, "replay reading the bag");
    for (index, message) in bag.messages(&topic.name).enumerate() {
        let mut message = match message {
            Ok(m) => m,
            Err(e) => {
                errors.push(e.to_string());
                break;
            }
        };
        progress.inc(1);
        let stamp_ns =
            read_stamp(&message.data).map_or(message.log_time_ns as i64, Stamp::as_nanos);
        let delivery = schedule.delivery(index as u64, message.log_time_ns as i64, stamp_ns);
        let Delivery::Deliver {
            at,
            stamp_offset_ns,
        } = delivery
        else {
            suppressed += 1;
            continue;
        };
        let burst = schedule.burst_hold(message.log_time_ns as i64);
        match opts.pacing {
            Pacing::MaxSpeed => wait_for_room(&pipeline),
            _ => sleep_until(started + at, &pipeline, &mut diag),
        }
        // SIGINT/SIGTERM: stop reading; what was submitted drains and is reported.
        if let Some(signal) = interrupt::requested() {
            interrupted_by = Some(signal.name());
            break;
        }
        let stamp = match stamp_offset_ns {
            Some(offset) => start_ros.offset_nanos(offset),
            None => clock.ros_now(),
        };
        write_stamp(&mut message.data, stamp);
        match burst {
            Some(0) => {
                for frame in held.drain(..) {
                    pipeline.submit(frame);
                }
                pipeline.submit(message.data);
            }
            Some(_) => held.push(message.data),
            None => {
                pipeline.submit(message.data);
            }
        }
        diag.poll(&pipeline);
        timeline.extend(events.try_iter());
    }
    for frame in held.drain(..) {
        pipeline.submit(frame);
    }
    wait_until_drained(&pipeline, &mut diag);
    progress.finish_and_clear();
    diag.poll(&pipeline);
    diag.emit_diagnostics(&pipeline.snapshot());
    let wall = started.elapsed();
    let (summary, stopped) = pipeline.shutdown()?;
    timeline.extend(events.try_iter());
    diag.drain(&pipeline_transitions_after_shutdown(
        &summary.transitions,
        diag.alarms_written,
    ));
    let (counts, overflow) = stopped.publish.0.into_results();
    drop(diag);
    let written = output.finish()?;
    if overflow > 0 {
        errors.push(format!(
            "{overflow} detection messages could not be queued for the output recording"
        ));
    }
    if suppressed > 0 {
        notes.push(format!(
            "{suppressed} frames withheld by sensor-silence faults"
        ));
    }
    notes.push(format!(
        "output recording {}: {} detection, {} diagnostics and {} alarm messages",
        written.path.display(),
        written.detections,
        written.diagnostics,
        written.alarms
    ));
    let report = build_report(RunFacts {
        opts,
        config: &config,
        topic: &topic.name,
        summary: &summary,
        timeline: &timeline,
        counts: &counts,
        start: start_mono,
        wall,
        errors,
        notes,
        interrupted_by,
    });
    let files = crate::report::write_report(&report, &opts.out_dir)?;
    Ok(ReplayOutcome { report, files })
}

/// The topic to replay and why (a note when the configured one is not in the bag).
fn choose_topic(
    bag: &Bag,
    config: &Config,
    cli: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<crate::bag::TopicInfo, BagError> {
    if let Some(topic) = cli {
        return bag.choose_image_topic(topic);
    }
    let configured = config.input.topic.as_str();
    match bag.choose_image_topic(configured) {
        Ok(t) => {
            notes.push(format!("replaying {} (input.topic)", t.name));
            Ok(t)
        }
        Err(BagError::TopicNotFound { .. }) if !configured.is_empty() => {
            let t = bag.choose_image_topic("")?;
            notes.push(format!(
                "input.topic {configured} is not in the bag; replaying its only image topic {}",
                t.name
            ));
            Ok(t)
        }
        Err(e) => Err(e),
    }
}

/// The stamp in a serialised image message's header (bytes 4..12 after the CDR header).
fn read_stamp(cdr: &[u8]) -> Option<Stamp> {
    let b = cdr.get(4..12)?;
    let sec = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let nanosec = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    Some(Stamp { sec, nanosec })
}

/// Move the header stamp of a serialised message (a no-op on a message too short to have one:
/// ingest will reject it as malformed).
fn write_stamp(cdr: &mut [u8], stamp: Stamp) {
    if let Some(b) = cdr.get_mut(4..12) {
        b[..4].copy_from_slice(&stamp.sec.to_le_bytes());
        b[4..].copy_from_slice(&stamp.nanosec.to_le_bytes());
    }
}

fn progress_bar(enabled: bool, len: u64) -> ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} replay [{bar:40}] {pos}/{len} frames {per_sec} {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Sleep until `when` (or an interrupt), keeping diagnostics flowing.
fn sleep_until(when: Instant, pipeline: &dyn RunningPipeline, diag: &mut DiagnosticsRecorder) {
    loop {
        let now = Instant::now();
        if now >= when || interrupt::requested().is_some() {
            return;
        }
        diag.poll(pipeline);
        std::thread::sleep((when - now).min(Duration::from_millis(20)));
    }
}

/// Max speed: submit the next frame once fewer than two are in flight (pipelined, not flooded).
fn wait_for_room(pipeline: &dyn RunningPipeline) {
    while pipeline.accounting().in_flight >= 2 {
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn wait_until_drained(pipeline: &dyn RunningPipeline, diag: &mut DiagnosticsRecorder) {
    let until = Instant::now() + DRAIN_TIMEOUT;
    while pipeline.accounting().in_flight > 0 && Instant::now() < until {
        diag.poll(pipeline);
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Transitions from the complete log that the live channel did not deliver.
fn pipeline_transitions_after_shutdown(log: &[Transition], already: usize) -> Vec<Transition> {
    log.iter().skip(already).copied().collect()
}

/// Writes `/diagnostics` at the configured period and an alarm message on every transition.
struct DiagnosticsRecorder {
    clock: Arc<SystemClock>,
    records: Sender<OutputRecord>,
    buffers: Pool<Vec<u8>>,
    budget_ms: f64,
    period: Duration,
    last: Option<Instant>,
    hardware_id: String,
    alarm: crate::deadline::AlarmState,
    alarms_written: usize,
}

impl DiagnosticsRecorder {
    fn new(config: &Config, clock: Arc<SystemClock>, records: Sender<OutputRecord>) -> Self {
        Self {
            clock,
            records,
            buffers: Pool::at_least_one(16, |_| Vec::with_capacity(4096)),
            budget_ms: config.deadline.budget_ms,
            period: Duration::from_secs_f64(config.monitor.diagnostics_period_ms / 1000.0),
            last: None,
            hardware_id: config.input.topic.clone(),
            alarm: Default::default(),
            alarms_written: 0,
        }
    }

    fn poll(&mut self, pipeline: &dyn RunningPipeline) {
        let live: Vec<Transition> = pipeline.transitions().try_iter().collect();
        let transitioned = !live.is_empty();
        self.drain(&live);
        let due = self.last.is_none_or(|t| t.elapsed() >= self.period);
        if due || transitioned {
            self.emit_diagnostics(&pipeline.snapshot());
        }
    }

    /// Record alarm messages for these transitions.
    fn drain(&mut self, transitions: &[Transition]) {
        for t in transitions {
            self.alarm.apply(t);
            let status = alarm_status(&self.alarm, &self.hardware_id);
            self.write(OutputChannel::Alarm, &status, |buf, view| {
                write_diagnostic_status(buf, view)
            });
            self.alarms_written += 1;
        }
    }

    fn emit_diagnostics(&mut self, snapshot: &crate::deadline::MonitorSnapshot) {
        self.last = Some(Instant::now());
        let status = deadline_status(snapshot, self.budget_ms, &self.hardware_id);
        let stamp = self.clock.ros_now();
        self.write(OutputChannel::Diagnostics, &status, |buf, view| {
            write_diagnostic_array(buf, stamp, "", std::slice::from_ref(view))
        });
    }

    fn write(
        &mut self,
        channel: OutputChannel,
        status: &StatusContent,
        serialise: impl Fn(&mut Vec<u8>, &DiagnosticStatusView<'_>),
    ) {
        let Some(mut buf) = self.buffers.try_lease() else {
            return;
        };
        let values: Vec<(&str, &str)> = status
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let view = DiagnosticStatusView {
            level: status.level,
            name: &status.name,
            message: &status.message,
            hardware_id: &status.hardware_id,
            values: &values,
        };
        serialise(&mut buf, &view);
        let _ = self.records.try_send(OutputRecord {
            channel,
            log_time_ns: self.clock.ros_now().as_nanos().max(0) as u64,
            bytes: buf,
        });
    }
}
