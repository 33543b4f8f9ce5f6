//! The replay loop: choose the cameras (image topics) to answer, read their messages in
//! recording order, pace and re-stamp each frame onto the live clock, submit it to its camera
//! of the real pipeline, record diagnostics and alarms into the output recording as they happen,
//! then shut down and assemble the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crossbeam::channel::Sender;

use crate::bag::{Bag, BagError, BagLimits};
use crate::config::{Config, OutputConfig};
use crate::deadline::{Clock, ManualClock, MonoTime, SystemClock};
use crate::infer::{load_warm, FaultKind, ModelError};
use crate::pipeline::sim::{simulate, Arrival, SimCosts, SimOptions};
use crate::pipeline::{
    FrameEvent, Pipeline, PipelineError, PipelineSettings, PipelineSummary, RunningPipeline,
};
use crate::report::{ReplayReport, ReportError, ReportFiles};
use crate::stages;

use super::cameras::{choose_cameras, ReplayCamera};
use super::fault::{engine_faults, FaultSpec};
use super::feeder::{read_stamp, write_stamp, Feeder};
use super::interleave::Interleaved;
use super::interrupt;
use super::options::ReplayOptions;
use super::output::{check_out_dir, OutputError, OutputRecord, OutputTopics, OutputWriter};
use super::recorder::DiagnosticsRecorder;
use super::report_builder::{build_report, RunFacts};
use super::schedule::Schedule;
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
    #[error("--fault {spec}: no camera named {camera:?} in this replay (cameras: {known})")]
    FaultCamera {
        spec: String,
        camera: String,
        known: String,
    },
}

/// A finished replay: the report and where it was written.
#[derive(Debug)]
pub struct ReplayOutcome {
    pub report: ReplayReport,
    pub files: ReportFiles,
}

/// After this many frames the replay logs that it is under way.
const FIRST_FRAMES: u64 = 3;

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

/// How the replay's time runs.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayClock {
    /// The system clock: the stage threads run for real.
    Wall,
    /// A virtual clock advanced by a cost model: deterministic, whatever the machine's load.
    Virtual(Box<SimCosts>),
}

impl ReplayClock {
    pub fn name(&self) -> &'static str {
        match self {
            ReplayClock::Wall => "wall",
            ReplayClock::Virtual(_) => "virtual",
        }
    }
}

/// What an executor hands back to the report.
struct Executed {
    summary: PipelineSummary,
    stopped: stages::PerceptionStages<Vec<u8>, ReplaySink>,
    timeline: Vec<FrameEvent>,
    start: MonoTime,
    duration: Duration,
    /// The signal that stopped the replay early, if one did.
    interrupted_by: Option<&'static str>,
}

/// Everything both executors start from.
struct Prepared<'a> {
    opts: &'a ReplayOptions,
    config: &'a Config,
    settings: PipelineSettings,
    feeder: Feeder,
    records: Sender<OutputRecord>,
    expected: usize,
    hardware_id: String,
}

/// Every camera a fault names is one of the replay's.
fn check_fault_cameras(faults: &[FaultSpec], cameras: &[&str]) -> Result<(), ReplayError> {
    for fault in faults {
        if let Some(name) = fault.camera() {
            if !cameras.contains(&name) {
                return Err(ReplayError::FaultCamera {
                    spec: fault.to_string(),
                    camera: name.to_string(),
                    known: cameras.join(", "),
                });
            }
        }
    }
    Ok(())
}

/// Run a replay end to end and write its report.
pub fn run(opts: &ReplayOptions) -> Result<ReplayOutcome, ReplayError> {
    check_out_dir(&opts.out_dir, &opts.bag)?;
    let bag = Bag::open_with_limits(&opts.bag, BagLimits::for_images(opts.config.input.limits))?;
    let mut config = opts.config.clone();
    let mut notes = Vec::new();
    let cameras = choose_cameras(&bag, &mut config, &opts.cameras, &mut notes)?;
    let camera_names: Vec<&str> = cameras.iter().map(|c| c.config.name.as_str()).collect();
    check_fault_cameras(&opts.faults, &camera_names)?;
    let expected: usize = cameras
        .iter()
        .map(|c| c.topic.message_count.unwrap_or(0) as usize)
        .sum::<usize>()
        .min(1 << 20);
    let virtual_clock = matches!(opts.clock, ReplayClock::Virtual(_));
    // On a virtual clock an engine delay is virtual time, not a sleep (see `SimCosts`).
    let faults: Vec<_> = engine_faults(&opts.faults)
        .into_iter()
        .filter(|f| !virtual_clock || f.kind == FaultKind::Error)
        .collect();
    let engine = load_warm(&config.model, faults)?;
    let output = OutputWriter::start(&opts.out_dir, &output_topics(&config))?;
    let records = output.sender();
    let sink = ReplaySink::new(
        records.clone(),
        config.model.class_names.clone(),
        config.pipeline.channel_capacity + 8,
        virtual_clock,
    );
    let stage_set = stages::build::<Vec<u8>, _>(&config, engine, sink);
    let topic_names: Vec<&str> = cameras.iter().map(|c| c.topic.name.as_str()).collect();
    let prepared = |start_ros| Prepared {
        opts,
        config: &config,
        settings: PipelineSettings::from_config(&config),
        feeder: Feeder::new(
            &bag,
            &topic_names,
            Schedule::new(opts.pacing, &opts.faults, &camera_names)
                .with_max_log_gap_ms(config.input.max_log_gap_ms),
            start_ros,
        ),
        records: records.clone(),
        expected,
        hardware_id: opts.bag.display().to_string(),
    };
    let (executed, feeder) = match &opts.clock {
        ReplayClock::Wall => {
            let clock = Arc::new(SystemClock::new());
            let mut p = prepared(clock.ros_now());
            let executed = run_on_threads(&mut p, clock, stage_set, &mut notes)?;
            (executed, p.feeder)
        }
        ReplayClock::Virtual(costs) => {
            // Virtual ROS time starts at the first recorded stamp: the same on every run.
            let first = Interleaved::new(&bag, &topic_names)
                .find_map(|(_, m)| m.ok())
                .and_then(|m| read_stamp(&m.data))
                .unwrap_or_default();
            let clock = Arc::new(ManualClock::new(first));
            let mut p = prepared(first);
            let mut costs = SimCosts::clone(costs);
            costs.engine_delays = engine_delays(&opts.faults);
            let executed = run_simulated(&mut p, clock, stage_set, costs, &mut notes)?;
            (executed, p.feeder)
        }
    };
    drop(records);
    let Executed {
        summary,
        stopped,
        timeline,
        start,
        duration,
        interrupted_by,
    } = executed;
    let overflow = stopped.publish.0.into_overflow();
    let written = output.finish()?;
    let mut errors = feeder.errors.clone();
    if overflow > 0 {
        errors.push(format!(
            "{overflow} detection messages could not be queued for the output recording"
        ));
    }
    notes.extend(super::schedule::describe_gaps(
        feeder.schedule(),
        config.input.max_log_gap_ms,
    ));
    if feeder.suppressed > 0 {
        notes.push(format!(
            "{} frames withheld by sensor-silence faults",
            feeder.suppressed
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
        start,
        wall: duration,
        errors,
        notes,
        interrupted_by,
    });
    let files = crate::report::write_report(&report, &opts.out_dir)?;
    Ok(ReplayOutcome { report, files })
}

/// The engine delays of `faults` as virtual cost (nanoseconds per run that contains them).
fn engine_delays(faults: &[FaultSpec]) -> Vec<(std::ops::Range<u64>, u64)> {
    faults
        .iter()
        .filter_map(|f| match f {
            FaultSpec::InferDelay { delay, frames } => Some((
                frames.clone(),
                u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX),
            )),
            _ => None,
        })
        .collect()
}

/// The stage threads on the system clock, fed at the recorded pace.
fn run_on_threads(
    p: &mut Prepared<'_>,
    clock: Arc<SystemClock>,
    stage_set: stages::PerceptionStages<Vec<u8>, ReplaySink>,
    notes: &mut Vec<String>,
) -> Result<Executed, ReplayError> {
    let pipeline = Pipeline::start(&p.settings, clock.clone(), stage_set)?;
    notes.push(format!(
        "real-time setup: {}",
        pipeline.rt_report().summary()
    ));
    let events = pipeline.frame_events();
    // The replay starts now, after the set-up: stamps and deliveries count from here.
    p.feeder.start_at(clock.ros_now());
    let start = clock.now();
    let started = Instant::now();
    let cameras = p.config.camera_list().len();
    let mut diag =
        DiagnosticsRecorder::new(p.config, &p.hardware_id, clock.clone(), p.records.clone());
    let mut timeline: Vec<FrameEvent> = Vec::with_capacity(p.expected + 16);
    let progress = progress_bar(p.opts.progress, p.expected as u64);
    let mut interrupted_by = None;
    let mut submitted = 0u64;
    for mut frame in p.feeder.by_ref() {
        progress.inc(1);
        match frame.at {
            None => {
                wait_for_room(&pipeline, cameras);
                write_stamp(&mut frame.data, clock.ros_now());
            }
            Some(at) => {
                if let Some(when) = started.checked_add(at) {
                    sleep_until(when, &pipeline, &mut diag);
                }
            }
        }
        // SIGINT/SIGTERM: stop reading; what was submitted drains and is reported.
        if let Some(signal) = interrupt::requested() {
            interrupted_by = Some(signal.name());
            break;
        }
        pipeline.submit_to(frame.camera, frame.data);
        submitted += 1;
        if submitted == FIRST_FRAMES {
            tracing::info!(frames = submitted, "replay: first frames submitted");
        }
        diag.poll(&pipeline);
        timeline.extend(events.try_iter());
    }
    // The end of the bag is not sensor silence.
    pipeline.end_of_input();
    wait_until_drained(&pipeline, &mut diag);
    progress.finish_and_clear();
    diag.poll(&pipeline);
    diag.emit_diagnostics(&pipeline);
    let duration = started.elapsed();
    let (summary, stopped) = pipeline.shutdown()?;
    timeline.extend(events.try_iter());
    diag.finish(&summary);
    Ok(Executed {
        summary,
        stopped,
        timeline,
        start,
        duration,
        interrupted_by,
    })
}

/// The same stages on a virtual clock (see [`crate::pipeline::sim`]).
fn run_simulated(
    p: &mut Prepared<'_>,
    clock: Arc<ManualClock>,
    stage_set: stages::PerceptionStages<Vec<u8>, ReplaySink>,
    costs: SimCosts,
    notes: &mut Vec<String>,
) -> Result<Executed, ReplayError> {
    notes.push(format!(
        "virtual clock: seed {}, costs ingest {}, preprocess {}, infer {}, decode {}, publish {}",
        costs.seed,
        costs.stages[0],
        costs.stages[1],
        costs.stages[2],
        costs.stages[3],
        costs.stages[4]
    ));
    let start = clock.now();
    let mut diag =
        DiagnosticsRecorder::new(p.config, &p.hardware_id, clock.clone(), p.records.clone());
    diag.block_on_full_queue();
    let mut timeline: Vec<FrameEvent> = Vec::with_capacity(p.expected + 16);
    let cameras = p.config.camera_list().len() as u64;
    let mut interrupted_by = None;
    // SIGINT/SIGTERM: stop reading; what was submitted drains and is reported.
    let arrivals = p
        .feeder
        .by_ref()
        .take_while(|_| match interrupt::requested() {
            Some(signal) => {
                interrupted_by = Some(signal.name());
                false
            }
            None => true,
        })
        .map(|frame| Arrival {
            at: frame
                .at
                .map(|at| start.add_nanos(u64::try_from(at.as_nanos()).unwrap_or(u64::MAX))),
            camera: frame.camera,
            message: frame.data,
        });
    let (summary, stopped) = simulate(
        &p.settings,
        clock.clone(),
        stage_set,
        arrivals,
        SimOptions {
            costs,
            max_in_flight: 2 * cameras,
            restamp: Some(Box::new(|data: &mut Vec<u8>, stamp| {
                write_stamp(data, stamp)
            })),
        },
        |view| {
            diag.poll(view);
            timeline.extend(view.frame_events().try_iter());
        },
    )?;
    let duration = Duration::from_nanos(clock.now().nanos_since(start));
    diag.finish(&summary);
    Ok(Executed {
        summary,
        stopped,
        timeline,
        start,
        duration,
        interrupted_by,
    })
}

/// The camera list of a replay, for reports.
pub(crate) fn topics_of(cameras: &[ReplayCamera]) -> String {
    cameras
        .iter()
        .map(|c| c.topic.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
