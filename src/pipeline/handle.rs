//! [`Pipeline`]: starts the stage threads (each camera's ingest and preprocessing, one engine
//! thread, one row-stage thread, one publish thread, the watchdog; all set up through
//! [`crate::rt`]), accepts frames ([`Pipeline::submit_to`]), exposes live level changes and
//! snapshots, and shuts down cleanly into a [`PipelineSummary`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{self, Receiver};
use crossbeam::sync::Parker;

use crate::config::{BatchingConfig, Config, DeadlineConfig, MonitorConfig, PipelineConfig};
use crate::deadline::{
    AccountingSnapshot, Clock, DeadlinePolicy, LatencyHistogram, LatencyHistograms, Level,
    MonitorSnapshot,
};
use crate::error::Stage;
use crate::pipeline::assemble::{build_shared, check_cameras, summarize, Built, StageHistograms};
use crate::pipeline::camera::{CameraId, CameraSettings};
use crate::pipeline::camera_threads;
use crate::pipeline::engine_thread::{self, EngineState};
use crate::pipeline::events::FrameEvent;
use crate::pipeline::former::{BatchFormer, FormerSettings, FormerStats};
use crate::pipeline::inflight::InFlight;
use crate::pipeline::monitors::{LevelChange, MonitorId};
use crate::pipeline::output_threads;
use crate::pipeline::shared::Shared;
use crate::pipeline::slot::Slot;
use crate::pipeline::stage::{
    BatchStage, CameraStages, IngestStage, ProcessStage, PublishStage, RowStage, StageSet,
};
use crate::rt::{self, RtReport, ThreadGrant};

/// The config sections the pipeline uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineSettings {
    pub deadline: DeadlineConfig,
    pub monitor: MonitorConfig,
    pub pipeline: PipelineConfig,
    /// The cameras, in camera-index order (at least one).
    pub cameras: Vec<CameraSettings>,
    pub batching: BatchingConfig,
}

impl PipelineSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            deadline: config.deadline.clone(),
            monitor: config.monitor.clone(),
            pipeline: config.pipeline.clone(),
            cameras: CameraSettings::from_config(config),
            batching: config.batching.clone(),
        }
    }

    /// The deadline rules for `camera` (its own budget).
    pub fn policy_for(&self, camera: &CameraSettings) -> DeadlinePolicy {
        DeadlinePolicy::from_config(&DeadlineConfig {
            budget_ms: camera.budget_ms,
            ..self.deadline.clone()
        })
    }

    /// The batch former's settings for an engine taking `max_batch` rows.
    pub fn former(&self, max_batch: usize) -> FormerSettings {
        FormerSettings {
            batching: self.batching.clone(),
            max_batch,
            cameras: self.cameras.len(),
            predictive: self.deadline.predictive,
            cost_percentile: self.deadline.cost_percentile,
            criticalities: self.cameras.iter().map(|c| c.criticality).collect(),
        }
    }
}

/// Why the pipeline could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot start the {stage} thread: {source}")]
    Spawn {
        stage: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the {0} thread panicked; frames it held are unaccounted")]
    StagePanicked(&'static str),
    #[error(
        "the pipeline has settings for {settings} camera(s) but stages for {stages}; \
         give one ingest + preprocess pair per configured camera (1 to {max})"
    )]
    CameraCount {
        settings: usize,
        stages: usize,
        max: usize,
    },
}

/// What [`Pipeline::submit`] did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted<M> {
    /// Queued for ingest.
    Accepted,
    /// Queued; an older queued message was dropped as `Superseded`.
    AcceptedSuperseding,
    /// The pipeline is shutting down (or the camera does not exist); the message is handed
    /// back, not counted.
    Closed(M),
}

/// Submits messages of one camera to a running pipeline from any thread; see
/// [`Pipeline::submitter`].
pub struct Submitter<M> {
    shared: Arc<Shared<M>>,
    camera: CameraId,
}

impl<M> Clone for Submitter<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            camera: self.camera,
        }
    }
}

impl<M> Submitter<M> {
    /// Same as [`Pipeline::submit_to`] for this submitter's camera.
    pub fn submit(&self, message: M) -> Submitted<M> {
        self.shared.submit(self.camera, message)
    }

    /// The camera this submitter feeds.
    pub fn camera(&self) -> CameraId {
        self.camera
    }
}

/// One camera's results after shutdown.
#[derive(Clone, Debug)]
pub struct CameraSummary {
    pub name: String,
    /// Exact after shutdown: `in_flight` is 0 and the identity holds.
    pub accounting: AccountingSnapshot,
    /// This camera's stage times (the engine's: the runs its frames were in) and end to end.
    pub latency: LatencyHistograms,
    /// The camera's monitor at shutdown.
    pub final_snapshot: MonitorSnapshot,
}

/// Everything the replay report needs, after shutdown.
#[derive(Clone, Debug)]
pub struct PipelineSummary {
    /// Every camera together. Exact after shutdown: `in_flight` is 0 and the identity holds.
    pub accounting: AccountingSnapshot,
    /// Per-stage work time and end-to-end latency over every camera.
    pub latency: LatencyHistograms,
    /// Per camera, in camera-index order.
    pub cameras: Vec<CameraSummary>,
    /// The engine's monitor at shutdown.
    pub engine: MonitorSnapshot,
    /// Every level change, in order (up to 4096; see `transitions_not_logged`).
    pub transitions: Vec<LevelChange>,
    pub transitions_not_logged: u64,
    /// The worst level over the cameras (and the engine, with several cameras) at shutdown.
    pub final_level: Level,
    /// The snapshot that stands for the whole pipeline at shutdown (see
    /// [`PipelineSummary::overall_snapshot`]).
    pub final_snapshot: MonitorSnapshot,
    /// What the batch former decided.
    pub former: FormerStats,
    /// What real-time setup was granted.
    pub rt: RtReport,
}

impl PipelineSummary {
    /// The monitor snapshot that stands for the whole pipeline: the camera's with one camera,
    /// else the engine's with the aggregate level.
    pub fn overall_snapshot(&self) -> MonitorSnapshot {
        match self.cameras.as_slice() {
            [only] => only.final_snapshot,
            _ => {
                let mut s = self.engine;
                s.level = self.final_level;
                s
            }
        }
    }
}

type Joined<W> = JoinHandle<(W, Vec<LatencyHistogram>)>;

/// The join handles of the stage threads.
struct StageThreads<I, P, N, D, S> {
    cameras: Vec<(Joined<I>, Joined<P>)>,
    infer: JoinHandle<(N, Vec<LatencyHistogram>, FormerStats)>,
    decode: Joined<D>,
    publish: Joined<S>,
}

/// What [`Pipeline::shutdown`] returns: the summary and the stages, handed back.
pub type Stopped<I, P, N, D, S> = (PipelineSummary, StageSet<I, P, N, D, S>);

/// A running pipeline. See the [module docs](crate::pipeline) for how to use it.
pub struct Pipeline<I, P, N, D, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    shared: Arc<Shared<I::Message>>,
    names: Vec<String>,
    transitions: Receiver<LevelChange>,
    events: Receiver<FrameEvent>,
    /// `None` only after shutdown took them.
    threads: Option<StageThreads<I, P, N, D, S>>,
    watchdog: Option<(JoinHandle<()>, Arc<AtomicBool>, crossbeam::sync::Unparker)>,
    rt: RtReport,
}

fn spawn_stage<W: Send + 'static>(
    stage: Stage,
    camera: Option<CameraId>,
    settings: &PipelineConfig,
    grants: &channel::Sender<ThreadGrant>,
    body: impl FnOnce() -> W + Send + 'static,
) -> Result<JoinHandle<W>, PipelineError> {
    let thread_config = settings.stages[stage.index()];
    let grants = grants.clone();
    let name = match camera {
        Some(c) => format!("redline-{}-{}", stage.name(), c.0),
        None => format!("redline-{}", stage.name()),
    };
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let _ = grants.send(rt::setup_current_thread(stage, &thread_config));
            drop(grants);
            body()
        })
        .map_err(|source| PipelineError::Spawn {
            stage: stage.name(),
            source,
        })
}

impl<I, P, N, D, S> Pipeline<I, P, N, D, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    /// Start the stage threads and the watchdog. Preallocate pools before calling this:
    /// memory is locked (`pipeline.lock_memory`) once the threads are up and the engine is
    /// calibrated. The monitors' watchdogs are armed last, when all of that is done.
    pub fn start(
        settings: &PipelineSettings,
        clock: Arc<dyn Clock>,
        stages: StageSet<I, P, N, D, S>,
    ) -> Result<Self, PipelineError> {
        let cameras = settings.cameras.len();
        check_cameras(cameras, stages.cameras.len())?;
        let Built {
            shared,
            ingress_parkers,
            transitions,
            events,
        } = build_shared(settings, clock);
        let cap = settings.pipeline.channel_capacity.max(1);
        let engine_parker = Parker::new();
        let ready: Arc<Vec<Slot<InFlight<P::Output>>>> = Arc::new(
            (0..cameras)
                .map(|_| Slot::with_unparker(1, engine_parker.unparker().clone()))
                .collect(),
        );
        let (decode_tx, decode_rx) = channel::bounded(cap);
        let (publish_tx, publish_rx) = channel::bounded(cap);
        let threads_total = cameras * 2 + 3;
        // The engine thread measures the engine before the pipeline reports ready.
        let (calibrated_tx, calibrated) = channel::bounded::<()>(1);
        let (grants_tx, grants_rx) = channel::bounded(threads_total);
        let StageSet {
            cameras: camera_stages,
            mut infer,
            mut decode,
            mut publish,
        } = stages;
        let cfg = &settings.pipeline;
        let max_batch = infer.max_batch().max(1);
        let mut former = BatchFormer::new(settings.former(max_batch));
        let mut state = EngineState::new(cameras, max_batch, cap + 2);
        let started = (|| {
            let mut camera_threads = Vec::with_capacity(cameras);
            for (
                index,
                (
                    CameraStages {
                        mut ingest,
                        mut preprocess,
                    },
                    ingress_parker,
                ),
            ) in camera_stages.into_iter().zip(ingress_parkers).enumerate()
            {
                let camera = CameraId::at(index);
                let (pre_slot, pre_parker) = Slot::<InFlight<I::Frame>>::new(1);
                let pre_slot = Arc::new(pre_slot);
                let (sh, slot) = (Arc::clone(&shared), Arc::clone(&pre_slot));
                let t_ingest =
                    spawn_stage(Stage::Ingest, Some(camera), cfg, &grants_tx, move || {
                        let h = camera_threads::ingest_loop(
                            &sh,
                            camera,
                            &ingress_parker,
                            &mut ingest,
                            &slot,
                        );
                        (ingest, h)
                    })?;
                let (sh, ready) = (Arc::clone(&shared), Arc::clone(&ready));
                let t_pre = spawn_stage(
                    Stage::Preprocess,
                    Some(camera),
                    cfg,
                    &grants_tx,
                    move || {
                        let h = match ready.get(index) {
                            Some(out) => camera_threads::preprocess_loop(
                                &sh,
                                camera,
                                &pre_slot,
                                &pre_parker,
                                &mut preprocess,
                                out,
                            ),
                            None => Vec::new(),
                        };
                        (preprocess, h)
                    },
                )?;
                camera_threads.push((t_ingest, t_pre));
            }
            let (sh, ready) = (Arc::clone(&shared), Arc::clone(&ready));
            let calibrated_tx = calibrated_tx.clone();
            let t_infer = spawn_stage(Stage::Infer, None, cfg, &grants_tx, move || {
                engine_thread::calibrate(&sh, &mut infer, &mut former, |work, rows| {
                    let start = std::time::Instant::now();
                    work.calibrate(rows)
                        .then(|| u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX))
                });
                let _ = calibrated_tx.send(());
                engine_thread::engine_loop(
                    &sh,
                    &ready,
                    &engine_parker,
                    &mut infer,
                    &mut former,
                    &mut state,
                    decode_tx,
                );
                (infer, state.histograms, former.stats().clone())
            })?;
            let sh = Arc::clone(&shared);
            let t_decode = spawn_stage(Stage::Decode, None, cfg, &grants_tx, move || {
                let h = output_threads::row_loop(&sh, decode_rx, &mut decode, publish_tx);
                (decode, h)
            })?;
            let sh = Arc::clone(&shared);
            let t_publish = spawn_stage(Stage::Publish, None, cfg, &grants_tx, move || {
                let h = output_threads::publish_loop(&sh, publish_rx, &mut publish);
                (publish, h)
            })?;
            Ok(StageThreads {
                cameras: camera_threads,
                infer: t_infer,
                decode: t_decode,
                publish: t_publish,
            })
        })();
        drop(grants_tx);
        drop(calibrated_tx);
        // Ready once the engine is measured (or its thread is gone: then shutdown reports it).
        let _ = calibrated.recv();
        let threads = match started {
            Ok(threads) => threads,
            Err(error) => {
                // Threads already running stop once their inputs close.
                shared.accepting.store(false, Ordering::SeqCst);
                for lane in &shared.lanes {
                    lane.ingress.close();
                }
                return Err(error);
            }
        };
        let mut grants: Vec<ThreadGrant> = grants_rx.iter().collect();
        grants.sort_by_key(|g| g.stage);
        let rt = RtReport {
            threads: grants,
            memory: rt::lock_memory(settings.pipeline.lock_memory),
        };
        let watchdog = Self::start_watchdog(&shared, &settings.monitor)?;
        // Ready: the watchdogs count from now, not from before the set-up above.
        shared.arm();
        Ok(Self {
            shared,
            names: settings.cameras.iter().map(|c| c.name.clone()).collect(),
            transitions,
            events,
            threads: Some(threads),
            watchdog: Some(watchdog),
            rt,
        })
    }

    fn start_watchdog(
        shared: &Arc<Shared<I::Message>>,
        monitor: &MonitorConfig,
    ) -> Result<(JoinHandle<()>, Arc<AtomicBool>, crossbeam::sync::Unparker), PipelineError> {
        let period_ms =
            (monitor.sensor_timeout_ms.min(monitor.output_timeout_ms) / 4.0).clamp(1.0, 250.0);
        let period = Duration::from_secs_f64(period_ms / 1000.0);
        let stop = Arc::new(AtomicBool::new(false));
        let parker = Parker::new();
        let unparker = parker.unparker().clone();
        let (sh, st) = (Arc::clone(shared), Arc::clone(&stop));
        let handle = std::thread::Builder::new()
            .name("redline-watchdog".into())
            .spawn(move || {
                while !st.load(Ordering::SeqCst) {
                    parker.park_timeout(period);
                    if st.load(Ordering::SeqCst) {
                        break;
                    }
                    sh.tick();
                }
            })
            .map_err(|source| PipelineError::Spawn {
                stage: "watchdog",
                source,
            })?;
        Ok((handle, stop, unparker))
    }

    /// Hand a received message of camera 0 to the pipeline (see [`Pipeline::submit_to`]).
    pub fn submit(&self, message: I::Message) -> Submitted<I::Message> {
        self.shared.submit(CameraId(0), message)
    }

    /// Hand a received message of `camera` to the pipeline. Never blocks and never allocates:
    /// the message waits in the camera's bounded ingress queue (`pipeline.channel_capacity`)
    /// whose oldest entry is dropped as `Superseded` when full. Arrival time is taken here.
    pub fn submit_to(&self, camera: CameraId, message: I::Message) -> Submitted<I::Message> {
        self.shared.submit(camera, message)
    }

    /// A cloneable, `Send + Sync` handle that submits `camera`'s messages from other threads
    /// (e.g. a subscription callback) while this `Pipeline` keeps ownership for
    /// [`Pipeline::shutdown`]. After shutdown it answers [`Submitted::Closed`].
    pub fn submitter(&self, camera: CameraId) -> Submitter<I::Message> {
        Submitter {
            shared: Arc::clone(&self.shared),
            camera,
        }
    }

    /// The cameras' names, in camera-index order.
    pub fn camera_names(&self) -> &[String] {
        &self.names
    }

    /// The monitors worth publishing: every camera's, and the engine's when there are several
    /// cameras (with one camera it would repeat the camera's).
    pub fn monitors(&self) -> impl Iterator<Item = MonitorId> + '_ {
        let engine = (self.names.len() > 1).then_some(MonitorId::Engine);
        (0..self.names.len())
            .map(|i| MonitorId::Camera(CameraId::at(i)))
            .chain(engine)
    }

    /// Live level changes, as they happen (bounded; a listener that falls behind loses live
    /// ones, the summary keeps them all).
    pub fn transitions(&self) -> &Receiver<LevelChange> {
        &self.transitions
    }

    /// Per-frame outcomes as they happen (bounded, lossy when nobody drains it). The returned
    /// receiver outlives [`Pipeline::shutdown`], so the outcomes of frames that were in flight
    /// at shutdown can be drained afterwards.
    pub fn frame_events(&self) -> Receiver<FrameEvent> {
        self.events.clone()
    }

    /// What `/diagnostics` needs about one monitor, now.
    pub fn snapshot_of(&self, monitor: MonitorId) -> MonitorSnapshot {
        self.shared.snapshot(monitor)
    }

    /// The snapshot that stands for the whole pipeline now: the camera's with one camera, else
    /// the engine's with the aggregate level.
    pub fn snapshot(&self) -> MonitorSnapshot {
        if self.names.len() == 1 {
            return self.shared.snapshot(MonitorId::Camera(CameraId(0)));
        }
        let mut s = self.shared.snapshot(MonitorId::Engine);
        s.level = self.aggregate_level();
        s
    }

    /// The worst level now over every published monitor (the aggregate alarm).
    pub fn aggregate_level(&self) -> Level {
        self.shared.worst_level(self.names.len() > 1)
    }

    /// Frame counters over every camera now (approximate while frames move; exact after
    /// shutdown).
    pub fn accounting(&self) -> AccountingSnapshot {
        self.shared.accounting()
    }

    /// One camera's frame counters now.
    pub fn accounting_of(&self, camera: CameraId) -> AccountingSnapshot {
        self.shared
            .lane(camera)
            .map(|l| l.accounting.snapshot())
            .unwrap_or_default()
    }

    /// The input ended (the replay handed over its last frame): the monitors stop watching for
    /// sensor silence and record that the input ended. Call it before draining, so a drain
    /// longer than `monitor.sensor_timeout_ms` does not turn the final level STALE.
    pub fn end_of_input(&self) {
        self.shared.end_of_input();
    }

    /// Run the watchdogs now (they also run on their own thread); the first level change they
    /// caused, if any.
    pub fn tick(&self) -> Option<LevelChange> {
        self.shared.tick()
    }

    /// What real-time setup was granted.
    pub fn rt_report(&self) -> &RtReport {
        &self.rt
    }

    /// Stop accepting, let every frame in flight finish (published or dropped with a reason),
    /// join every thread, and return the summary and the stages.
    pub fn shutdown(mut self) -> Result<Stopped<I, P, N, D, S>, PipelineError> {
        let shared = Arc::clone(&self.shared);
        shared.accepting.store(false, Ordering::SeqCst);
        while shared.submitters.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        }
        for lane in &shared.lanes {
            lane.ingress.close();
        }
        let Some(threads) = self.threads.take() else {
            return Err(PipelineError::StagePanicked("pipeline"));
        };
        let cameras: Vec<_> = threads
            .cameras
            .into_iter()
            .map(|(i, p)| (i.join(), p.join()))
            .collect();
        let infer = threads.infer.join();
        let decode = threads.decode.join();
        let publish = threads.publish.join();
        if let Some((handle, stop, unparker)) = self.watchdog.take() {
            stop.store(true, Ordering::SeqCst);
            unparker.unpark();
            let _ = handle.join();
        }
        let named = |stage: Stage| PipelineError::StagePanicked(stage.name());
        let (infer, infer_h, former) = infer.map_err(|_| named(Stage::Infer))?;
        let (decode, decode_h) = decode.map_err(|_| named(Stage::Decode))?;
        let (publish, publish_h) = publish.map_err(|_| named(Stage::Publish))?;
        let mut stage_sets = Vec::with_capacity(cameras.len());
        let mut camera_histograms = Vec::with_capacity(cameras.len());
        for (ingest, preprocess) in cameras {
            let (ingest, ingest_h) = ingest.map_err(|_| named(Stage::Ingest))?;
            let (preprocess, pre_h) = preprocess.map_err(|_| named(Stage::Preprocess))?;
            stage_sets.push(CameraStages { ingest, preprocess });
            camera_histograms.push((ingest_h, pre_h));
        }
        let rt = std::mem::replace(
            &mut self.rt,
            RtReport {
                threads: Vec::new(),
                memory: rt::MemoryLock::NotRequested,
            },
        );
        let summary = summarize(
            &shared,
            &self.names,
            StageHistograms {
                cameras: camera_histograms,
                infer: infer_h,
                decode: decode_h,
                publish: publish_h,
            },
            former,
            rt,
        );
        let stages = StageSet {
            cameras: stage_sets,
            infer,
            decode,
            publish,
        };
        Ok((summary, stages))
    }
}

impl<I, P, N, D, S> Drop for Pipeline<I, P, N, D, S>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    /// Dropped without [`Pipeline::shutdown`]: stop accepting and let the threads drain and
    /// exit on their own (detached).
    fn drop(&mut self) {
        if self.threads.is_some() {
            self.shared.accepting.store(false, Ordering::SeqCst);
            for lane in &self.shared.lanes {
                lane.ingress.close();
            }
        }
        if let Some((_, stop, unparker)) = self.watchdog.take() {
            stop.store(true, Ordering::SeqCst);
            unparker.unpark();
        }
    }
}
