//! The replay loop: choose the cameras (image topics) to answer, read their messages in
//! recording order, pace and re-stamp each frame onto the live clock, submit it to its camera
//! of the real pipeline, record diagnostics and alarms into the output recording as they happen,
//! then shut down and assemble the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::bag::{Bag, BagError, BagLimits};
use crate::config::{Config, OutputConfig};
use crate::deadline::{Clock, SystemClock};
use crate::frame::Stamp;
use crate::infer::{load_warm, ModelError};
use crate::pipeline::{
    CameraId, FrameEvent, Pipeline, PipelineError, PipelineSettings, RunningPipeline,
};
use crate::report::{ReplayReport, ReportError, ReportFiles};
use crate::stages;

use super::cameras::{choose_cameras, ReplayCamera};
use super::fault::engine_faults;
use super::interleave::Interleaved;
use super::options::ReplayOptions;
use super::output::{check_out_dir, OutputError, OutputTopics, OutputWriter};
use super::recorder::DiagnosticsRecorder;
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

/// Topic names of the output recording for `cameras` (relative names recorded under `/`).
pub(crate) fn output_topics(config: &Config) -> OutputTopics {
    let out = &config.output;
    let cameras = config.camera_list();
    if config.cameras.from_input {
        return OutputTopics {
            detections: vec![OutputConfig::absolute(&out.detections_topic)],
            diagnostics: OutputConfig::absolute(&out.diagnostics_topic),
            camera_alarms: Vec::new(),
            alarm: OutputConfig::absolute(&out.alarm_topic),
        };
    }
    let under = |camera: &str, topic: &str| OutputConfig::absolute(&format!("{camera}/{topic}"));
    OutputTopics {
        detections: cameras
            .iter()
            .map(|c| under(&c.name, &out.detections_topic))
            .collect(),
        diagnostics: OutputConfig::absolute(&out.diagnostics_topic),
        camera_alarms: cameras
            .iter()
            .map(|c| under(&c.name, &out.alarm_topic))
            .collect(),
        alarm: OutputConfig::absolute(&out.alarm_topic),
    }
}

/// Run a replay end to end and write its report.
pub fn run(opts: &ReplayOptions) -> Result<ReplayOutcome, ReplayError> {
    check_out_dir(&opts.out_dir, &opts.bag)?;
    let bag = Bag::open_with_limits(&opts.bag, BagLimits::for_images(opts.config.input.limits))?;
    let mut config = opts.config.clone();
    let mut notes = Vec::new();
    let cameras = choose_cameras(&bag, &mut config, &opts.cameras, &mut notes)?;
    let expected: usize = cameras
        .iter()
        .map(|c| c.topic.message_count.unwrap_or(0) as usize)
        .sum::<usize>()
        .min(1 << 20);

    let engine = load_warm(&config.model, engine_faults(&opts.faults))?;
    let output = OutputWriter::start(&opts.out_dir, &output_topics(&config))?;
    let records = output.sender();
    let sink = ReplaySink::new(
        records.clone(),
        config.model.class_names.clone(),
        config.pipeline.channel_capacity + 8,
    );
    let stage_set = stages::build::<Vec<u8>, _>(&config, engine, sink);
    let clock = Arc::new(SystemClock::new());
    let settings = PipelineSettings::from_config(&config);
    let pipeline = Pipeline::start(&settings, clock.clone(), stage_set)?;
    notes.push(format!(
        "real-time setup: {}",
        pipeline.rt_report().summary()
    ));
    let events = pipeline.frame_events();
    let start_mono = clock.now();
    let start_ros = clock.ros_now();
    let started = Instant::now();

    let hardware_id = opts.bag.display().to_string();
    let mut diag = DiagnosticsRecorder::new(&config, &hardware_id, clock.clone(), records);
    let mut timeline: Vec<FrameEvent> = Vec::with_capacity(expected + 16);
    let mut errors = Vec::new();
    let mut schedule =
        Schedule::new(opts.pacing, &opts.faults).with_max_log_gap_ms(config.input.max_log_gap_ms);
    let mut held: Vec<(CameraId, Vec<u8>)> = Vec::new();
    let mut suppressed = 0u64;
    let progress = progress_bar(opts.progress, expected as u64);
    let topic_names: Vec<&str> = cameras.iter().map(|c| c.topic.name.as_str()).collect();

    for (index, (camera_index, message)) in Interleaved::new(&bag, &topic_names).enumerate() {
        let mut message = match message {
            Ok(m) => m,
            Err(e) => {
                errors.push(e.to_string());
                break;
            }
        };
        let camera = CameraId::at(camera_index);
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
            Pacing::MaxSpeed => wait_for_room(&pipeline, cameras.len()),
            _ => {
                if let Some(when) = started.checked_add(at) {
                    sleep_until(when, &pipeline, &mut diag);
                }
            }
        }
        let stamp = match stamp_offset_ns {
            Some(offset) => start_ros.offset_nanos(offset),
            None => clock.ros_now(),
        };
        write_stamp(&mut message.data, stamp);
        match burst {
            Some(0) => {
                for (c, frame) in held.drain(..) {
                    pipeline.submit_to(c, frame);
                }
                pipeline.submit_to(camera, message.data);
            }
            Some(_) => held.push((camera, message.data)),
            None => {
                pipeline.submit_to(camera, message.data);
            }
        }
        diag.poll(&pipeline);
        timeline.extend(events.try_iter());
    }
    for (c, frame) in held.drain(..) {
        pipeline.submit_to(c, frame);
    }
    wait_until_drained(&pipeline, &mut diag);
    progress.finish_and_clear();
    diag.poll(&pipeline);
    diag.emit_diagnostics(&pipeline);
    let wall = started.elapsed();
    let (summary, stopped) = pipeline.shutdown()?;
    timeline.extend(events.try_iter());
    let recorded = diag.changes_recorded;
    diag.record_changes(summary.transitions.get(recorded..).unwrap_or(&[]));
    let overflow = stopped.publish.0.into_overflow();
    drop(diag);
    let written = output.finish()?;
    if overflow > 0 {
        errors.push(format!(
            "{overflow} detection messages could not be queued for the output recording"
        ));
    }
    notes.extend(super::schedule::describe_gaps(
        &schedule,
        config.input.max_log_gap_ms,
    ));
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
        cameras: &cameras,
        summary: &summary,
        timeline: &timeline,
        counts: &written.frame_detections,
        start: start_mono,
        wall,
        errors,
        notes,
    });
    let files = crate::report::write_report(&report, &opts.out_dir)?;
    Ok(ReplayOutcome { report, files })
}

/// The camera list of a replay, for reports.
pub(crate) fn topics_of(cameras: &[ReplayCamera]) -> String {
    cameras
        .iter()
        .map(|c| c.topic.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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

/// Sleep until `when`, keeping diagnostics flowing.
fn sleep_until(when: Instant, pipeline: &dyn RunningPipeline, diag: &mut DiagnosticsRecorder) {
    loop {
        let now = Instant::now();
        if now >= when {
            return;
        }
        diag.poll(pipeline);
        std::thread::sleep((when - now).min(Duration::from_millis(20)));
    }
}

/// Max speed: submit the next frame once fewer than two per camera are in flight (pipelined,
/// not flooded).
fn wait_for_room(pipeline: &dyn RunningPipeline, cameras: usize) {
    while pipeline.accounting().in_flight >= 2 * cameras as u64 {
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
