//! What both executors (the stage threads and the simulation on a virtual clock) build the same
//! way: the shared state at start-up, and the [`PipelineSummary`] at the end.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use crossbeam::channel::{self, Receiver};
use crossbeam::sync::Parker;

use crate::config::MAX_CAMERAS;
use crate::deadline::{
    Clock, LatencyHistogram, LatencyHistograms, MonitorSnapshot, SafetyMonitor, StageCosts,
};
use crate::error::Stage;
use crate::pipeline::camera::CameraId;
use crate::pipeline::events::{FrameEvent, FRAME_EVENT_CAPACITY};
use crate::pipeline::former::FormerStats;
use crate::pipeline::handle::{CameraSummary, PipelineError, PipelineSettings, PipelineSummary};
use crate::pipeline::monitors::{LevelChange, MonitorId};
use crate::pipeline::shared::{CameraTelemetry, Lane, Shared, Telemetry, TRANSITION_LOG_CAPACITY};
use crate::pipeline::slot::Slot;
use crate::rt::RtReport;

/// Live level changes buffered for a listener that reads them (e.g. the ROS node).
const TRANSITION_CHANNEL_CAPACITY: usize = 256;

/// The shared state of a new pipeline and the receiving ends of its live channels.
pub(crate) struct Built<M> {
    pub(crate) shared: Arc<Shared<M>>,
    /// The parker of each camera's ingress queue (its ingest thread waits on it).
    pub(crate) ingress_parkers: Vec<Parker>,
    pub(crate) transitions: Receiver<LevelChange>,
    pub(crate) events: Receiver<FrameEvent>,
}

/// Settings for `settings` cameras, stages for `stages`: they must agree, within the limit.
pub(crate) fn check_cameras(settings: usize, stages: usize) -> Result<(), PipelineError> {
    if settings == 0 || settings != stages || settings > MAX_CAMERAS {
        return Err(PipelineError::CameraCount {
            settings,
            stages,
            max: MAX_CAMERAS,
        });
    }
    Ok(())
}

/// Every camera's lane, the monitors (disarmed until the pipeline is ready) and the channels.
pub(crate) fn build_shared<M>(settings: &PipelineSettings, clock: Arc<dyn Clock>) -> Built<M> {
    let cameras = settings.cameras.len();
    let (transitions_tx, transitions) = channel::bounded(TRANSITION_CHANNEL_CAPACITY);
    let (events_tx, events) = channel::bounded(FRAME_EVENT_CAPACITY);
    let mut ingress_parkers = Vec::with_capacity(cameras);
    let lanes = settings
        .cameras
        .iter()
        .map(|camera| {
            let (ingress, parker) = Slot::new(settings.pipeline.channel_capacity);
            ingress_parkers.push(parker);
            Lane {
                policy: settings.policy_for(camera),
                costs: StageCosts::new(),
                accounting: Default::default(),
                ingress,
                criticality: camera.criticality,
            }
        })
        .collect();
    let shared = Arc::new(Shared {
        clock,
        cost_percentile: settings.deadline.cost_percentile,
        lanes,
        telemetry: Mutex::new(Telemetry {
            cameras: (0..cameras)
                .map(|_| CameraTelemetry {
                    monitor: SafetyMonitor::new(&settings.monitor),
                    end_to_end: LatencyHistogram::new(),
                })
                .collect(),
            engine: (cameras > 1).then(|| SafetyMonitor::new(&settings.monitor)),
            end_to_end: LatencyHistogram::new(),
            log: Vec::with_capacity(TRANSITION_LOG_CAPACITY),
            log_overflow: 0,
        }),
        transitions: transitions_tx,
        events: events_tx,
        accepting: AtomicBool::new(true),
        submitters: AtomicUsize::new(0),
        next_seq: AtomicU64::new(0),
    });
    Built {
        shared,
        ingress_parkers,
        transitions,
        events,
    }
}

/// The work-time histograms every stage kept: per camera (ingest, preprocess: one each), and
/// per camera for the shared stages (index = camera).
pub(crate) struct StageHistograms {
    pub(crate) cameras: Vec<(Vec<LatencyHistogram>, Vec<LatencyHistogram>)>,
    pub(crate) infer: Vec<LatencyHistogram>,
    pub(crate) decode: Vec<LatencyHistogram>,
    pub(crate) publish: Vec<LatencyHistogram>,
}

/// The summary of a stopped pipeline.
pub(crate) fn summarize<M>(
    shared: &Shared<M>,
    names: &[String],
    histograms: StageHistograms,
    former: FormerStats,
    rt: RtReport,
) -> PipelineSummary {
    let pick = |hs: &[LatencyHistogram], i: usize| hs.get(i).cloned().unwrap_or_default();
    let mut overall = LatencyHistograms::new();
    let mut cameras = Vec::with_capacity(histograms.cameras.len());
    let now = shared.now();
    {
        let telemetry = shared.telemetry();
        for (index, (ingest_h, pre_h)) in histograms.cameras.iter().enumerate() {
            let latency = LatencyHistograms {
                stages: [
                    pick(ingest_h, 0),
                    pick(pre_h, 0),
                    pick(&histograms.infer, index),
                    pick(&histograms.decode, index),
                    pick(&histograms.publish, index),
                ],
                end_to_end: telemetry
                    .cameras
                    .get(index)
                    .map(|c| c.end_to_end.clone())
                    .unwrap_or_default(),
            };
            // Engine time as the frames experienced it: a run of `b` rows counts once per row.
            for stage in Stage::ALL {
                overall.stages[stage.index()].merge(latency.stage(stage));
            }
            let accounting = shared
                .lane(CameraId::at(index))
                .map(|l| l.accounting.snapshot())
                .unwrap_or_default();
            let final_snapshot = match telemetry.cameras.get(index) {
                Some(c) => MonitorSnapshot::new(
                    now,
                    &c.monitor,
                    c.end_to_end.quantile_ns(0.5),
                    c.end_to_end.quantile_ns(0.99),
                    accounting,
                ),
                None => MonitorSnapshot::empty(now, accounting),
            };
            cameras.push(CameraSummary {
                name: names.get(index).cloned().unwrap_or_default(),
                accounting,
                final_snapshot,
                latency,
            });
        }
        overall.end_to_end = telemetry.end_to_end.clone();
    }
    let (transitions, transitions_not_logged) = {
        let t = shared.telemetry();
        (t.log.clone(), t.log_overflow)
    };
    let engine = shared.snapshot(MonitorId::Engine);
    let final_level = shared.worst_level(names.len() > 1);
    let mut summary = PipelineSummary {
        final_snapshot: engine,
        accounting: shared.accounting(),
        latency: overall,
        cameras,
        engine,
        transitions,
        transitions_not_logged,
        final_level,
        former,
        rt,
    };
    summary.final_snapshot = summary.overall_snapshot();
    summary
}
