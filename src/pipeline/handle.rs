//! [`Pipeline`]: starts the stage threads (set up through [`crate::rt`]), accepts frames
//! ([`Pipeline::submit`]), exposes live transitions and snapshots, and shuts down cleanly into
//! a [`PipelineSummary`].

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam::channel::{self, Receiver};
use crossbeam::sync::Parker;

use crate::config::{Config, DeadlineConfig, MonitorConfig, PipelineConfig};
use crate::deadline::{
    AccountingSnapshot, Clock, DeadlinePolicy, LatencyHistogram, LatencyHistograms,
    MonitorSnapshot, SafetyMonitor, StageCosts, Transition,
};
use crate::error::Stage;
use crate::pipeline::events::{FrameEvent, FRAME_EVENT_CAPACITY};
use crate::pipeline::shared::{Shared, Telemetry, TRANSITION_LOG_CAPACITY};
use crate::pipeline::slot::Slot;
use crate::pipeline::stage::{IngestStage, ProcessStage, PublishStage, StageSet};
use crate::pipeline::workers::{self, InFlight};
use crate::rt::{self, RtReport, ThreadGrant};

/// Live transitions buffered for a listener that reads them (e.g. the ROS node).
const TRANSITION_CHANNEL_CAPACITY: usize = 256;

/// The config sections the pipeline uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineSettings {
    pub deadline: DeadlineConfig,
    pub monitor: MonitorConfig,
    pub pipeline: PipelineConfig,
}

impl PipelineSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            deadline: config.deadline.clone(),
            monitor: config.monitor.clone(),
            pipeline: config.pipeline.clone(),
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
}

/// What [`Pipeline::submit`] did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted<M> {
    /// Queued for ingest.
    Accepted,
    /// Queued; an older queued message was dropped as `Superseded`.
    AcceptedSuperseding,
    /// The pipeline is shutting down; the message is handed back, not counted.
    Closed(M),
}

/// Submits messages to a running pipeline from any thread; see [`Pipeline::submitter`].
pub struct Submitter<M> {
    shared: Arc<Shared<M>>,
}

impl<M> Clone for Submitter<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M> Submitter<M> {
    /// Same as [`Pipeline::submit`].
    pub fn submit(&self, message: M) -> Submitted<M> {
        self.shared.submit(message)
    }
}

/// Everything the replay report needs, after shutdown.
#[derive(Clone, Debug)]
pub struct PipelineSummary {
    /// Exact after shutdown: `in_flight` is 0 and the identity holds.
    pub accounting: AccountingSnapshot,
    /// Per-stage work time and end-to-end latency.
    pub latency: LatencyHistograms,
    /// Every transition, in order (up to 4096; see `transitions_not_logged`).
    pub transitions: Vec<Transition>,
    pub transitions_not_logged: u64,
    /// The monitor at shutdown.
    pub final_snapshot: MonitorSnapshot,
    /// What real-time setup was granted.
    pub rt: RtReport,
}

type Joined<W> = JoinHandle<(W, LatencyHistogram)>;

/// The join handles of the five stage threads.
struct StageThreads<I, P, N, D, S> {
    ingest: Joined<I>,
    preprocess: Joined<P>,
    infer: Joined<N>,
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
    N: ProcessStage<P::Output>,
    D: ProcessStage<N::Output>,
    S: PublishStage<D::Output>,
{
    shared: Arc<Shared<I::Message>>,
    transitions: Receiver<Transition>,
    events: Receiver<FrameEvent>,
    /// `None` only after shutdown took them.
    threads: Option<StageThreads<I, P, N, D, S>>,
    watchdog: Option<(JoinHandle<()>, Arc<AtomicBool>, crossbeam::sync::Unparker)>,
    rt: RtReport,
}

fn spawn_stage<W: Send + 'static>(
    stage: Stage,
    settings: &PipelineConfig,
    grants: &channel::Sender<ThreadGrant>,
    body: impl FnOnce(&mut LatencyHistogram) -> W + Send + 'static,
) -> Result<Joined<W>, PipelineError> {
    let thread_config = settings.stages[stage.index()];
    let grants = grants.clone();
    std::thread::Builder::new()
        .name(format!("redline-{}", stage.name()))
        .spawn(move || {
            let _ = grants.send(rt::setup_current_thread(stage, &thread_config));
            drop(grants);
            // The stage's own latency histogram, returned with the stage at shutdown.
            let mut hist = LatencyHistogram::new();
            let stage_state = body(&mut hist);
            (stage_state, hist)
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
    N: ProcessStage<P::Output>,
    D: ProcessStage<N::Output>,
    S: PublishStage<D::Output>,
{
    /// Start the five stage threads and the watchdog. Preallocate pools before calling this:
    /// memory is locked (`pipeline.lock_memory`) once the threads are up. The monitor's
    /// watchdogs are armed last, when all of that is done.
    pub fn start(
        settings: &PipelineSettings,
        clock: Arc<dyn Clock>,
        stages: StageSet<I, P, N, D, S>,
    ) -> Result<Self, PipelineError> {
        let (transitions_tx, transitions) = channel::bounded(TRANSITION_CHANNEL_CAPACITY);
        let (events_tx, events) = channel::bounded(FRAME_EVENT_CAPACITY);
        let (ingress, ingress_parker) = Slot::new(settings.pipeline.channel_capacity);
        let shared = Arc::new(Shared {
            clock,
            policy: DeadlinePolicy::from_config(&settings.deadline),
            cost_percentile: settings.deadline.cost_percentile,
            costs: StageCosts::new(),
            accounting: Default::default(),
            telemetry: Mutex::new(Telemetry {
                monitor: SafetyMonitor::new(&settings.monitor),
                end_to_end: LatencyHistogram::new(),
                log: Vec::with_capacity(TRANSITION_LOG_CAPACITY),
                log_overflow: 0,
            }),
            transitions: transitions_tx,
            events: events_tx,
            ingress,
            accepting: AtomicBool::new(true),
            submitters: AtomicUsize::new(0),
            next_seq: AtomicU64::new(0),
        });
        let cap = settings.pipeline.channel_capacity.max(1);
        let (pre_slot, pre_parker) = Slot::<InFlight<I::Frame>>::new(1);
        let pre_slot = Arc::new(pre_slot);
        let (infer_tx, infer_rx) = channel::bounded(cap);
        let (decode_tx, decode_rx) = channel::bounded(cap);
        let (publish_tx, publish_rx) = channel::bounded(cap);
        let (grants_tx, grants_rx) = channel::bounded(Stage::COUNT);
        let StageSet {
            mut ingest,
            mut preprocess,
            mut infer,
            mut decode,
            mut publish,
        } = stages;
        let cfg = &settings.pipeline;
        let started = (|| {
            let (sh, slot) = (Arc::clone(&shared), Arc::clone(&pre_slot));
            let t_ingest = spawn_stage(Stage::Ingest, cfg, &grants_tx, move |hist| {
                workers::ingest_loop(&sh, &ingress_parker, &mut ingest, &slot, hist);
                ingest
            })?;
            let (sh, slot) = (Arc::clone(&shared), Arc::clone(&pre_slot));
            let t_pre = spawn_stage(Stage::Preprocess, cfg, &grants_tx, move |hist| {
                workers::preprocess_loop(&sh, &slot, &pre_parker, &mut preprocess, infer_tx, hist);
                preprocess
            })?;
            let sh = Arc::clone(&shared);
            let t_infer = spawn_stage(Stage::Infer, cfg, &grants_tx, move |hist| {
                workers::process_loop(Stage::Infer, &sh, infer_rx, &mut infer, decode_tx, hist);
                infer
            })?;
            let sh = Arc::clone(&shared);
            let t_decode = spawn_stage(Stage::Decode, cfg, &grants_tx, move |hist| {
                workers::process_loop(Stage::Decode, &sh, decode_rx, &mut decode, publish_tx, hist);
                decode
            })?;
            let sh = Arc::clone(&shared);
            let t_publish = spawn_stage(Stage::Publish, cfg, &grants_tx, move |hist| {
                workers::publish_loop(&sh, publish_rx, &mut publish, hist);
                publish
            })?;
            Ok(StageThreads {
                ingest: t_ingest,
                preprocess: t_pre,
                infer: t_infer,
                decode: t_decode,
                publish: t_publish,
            })
        })();
        drop(grants_tx);
        let threads = match started {
            Ok(threads) => threads,
            Err(error) => {
                // Threads already running stop once their inputs close.
                shared.accepting.store(false, Ordering::SeqCst);
                shared.ingress.close();
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

    /// Hand a received message to the pipeline. Never blocks and never allocates: the message
    /// waits in a bounded ingress queue (`pipeline.channel_capacity`) whose oldest entry is
    /// dropped as `Superseded` when full. Arrival time is taken here.
    pub fn submit(&self, message: I::Message) -> Submitted<I::Message> {
        self.shared.submit(message)
    }

    /// A cloneable, `Send + Sync` handle that submits from other threads (e.g. a subscription
    /// callback) while this `Pipeline` keeps ownership for [`Pipeline::shutdown`]. After
    /// shutdown it answers [`Submitted::Closed`].
    pub fn submitter(&self) -> Submitter<I::Message> {
        Submitter {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Live transitions, as they happen (bounded; a listener that falls behind loses live
    /// ones, the summary keeps them all).
    pub fn transitions(&self) -> &Receiver<Transition> {
        &self.transitions
    }

    /// Per-frame outcomes as they happen (bounded, lossy when nobody drains it). The returned
    /// receiver outlives [`Pipeline::shutdown`], so the outcomes of frames that were in flight
    /// at shutdown can be drained afterwards.
    pub fn frame_events(&self) -> Receiver<FrameEvent> {
        self.events.clone()
    }

    /// What `/diagnostics` needs, now.
    pub fn snapshot(&self) -> MonitorSnapshot {
        self.shared.snapshot()
    }

    /// Frame counters now (approximate while frames move; exact after shutdown).
    pub fn accounting(&self) -> AccountingSnapshot {
        self.shared.accounting.snapshot()
    }

    /// The input ended (the replay handed over its last frame): the monitor stops watching for
    /// sensor silence and records that the input ended. Call it before draining, so a drain
    /// longer than `monitor.sensor_timeout_ms` does not turn the final level STALE.
    pub fn end_of_input(&self) {
        self.shared.end_of_input();
    }

    /// Run the watchdogs now (they also run on their own thread).
    pub fn tick(&self) -> Option<Transition> {
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
        shared.ingress.close();
        let Some(threads) = self.threads.take() else {
            return Err(PipelineError::StagePanicked("pipeline"));
        };
        let ingest = threads.ingest.join();
        let preprocess = threads.preprocess.join();
        let infer = threads.infer.join();
        let decode = threads.decode.join();
        let publish = threads.publish.join();
        if let Some((handle, stop, unparker)) = self.watchdog.take() {
            stop.store(true, Ordering::SeqCst);
            unparker.unpark();
            let _ = handle.join();
        }
        let named = |stage: Stage| PipelineError::StagePanicked(stage.name());
        let (ingest, h0) = ingest.map_err(|_| named(Stage::Ingest))?;
        let (preprocess, h1) = preprocess.map_err(|_| named(Stage::Preprocess))?;
        let (infer, h2) = infer.map_err(|_| named(Stage::Infer))?;
        let (decode, h3) = decode.map_err(|_| named(Stage::Decode))?;
        let (publish, h4) = publish.map_err(|_| named(Stage::Publish))?;
        let final_snapshot = shared.snapshot();
        let telemetry = shared.telemetry();
        let summary = PipelineSummary {
            accounting: shared.accounting.snapshot(),
            latency: LatencyHistograms {
                stages: [h0, h1, h2, h3, h4],
                end_to_end: telemetry.end_to_end.clone(),
            },
            transitions: telemetry.log.clone(),
            transitions_not_logged: telemetry.log_overflow,
            final_snapshot,
            rt: std::mem::replace(
                &mut self.rt,
                RtReport {
                    threads: Vec::new(),
                    memory: rt::MemoryLock::NotRequested,
                },
            ),
        };
        let stages = StageSet {
            ingest,
            preprocess,
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
    N: ProcessStage<P::Output>,
    D: ProcessStage<N::Output>,
    S: PublishStage<D::Output>,
{
    /// Dropped without [`Pipeline::shutdown`]: stop accepting and let the threads drain and
    /// exit on their own (detached).
    fn drop(&mut self) {
        if self.threads.is_some() {
            self.shared.accepting.store(false, Ordering::SeqCst);
            self.shared.ingress.close();
        }
        if let Some((_, stop, unparker)) = self.watchdog.take() {
            stop.store(true, Ordering::SeqCst);
            unparker.unpark();
        }
    }
}
