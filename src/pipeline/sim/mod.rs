//! The pipeline on a virtual clock: a single-threaded discrete-event simulation of the stage
//! threads that runs the *real* stages on the real data, with the same rules, slots, channels
//! and batch former, but advances time by a cost model instead of the wall clock.
//!
//! Each stage thread becomes a server: when it is free and has input, it starts the frame's
//! work at the current virtual time (entry checks, then the stage's real work), draws the
//! work's cost from [`SimCosts`] and completes at `now + cost` (cost recorded, exit checks,
//! hand-over). Latest-wins slots evict as they do between threads; bounded channels block the
//! sender until there is room; the engine asks the same [`super::former::BatchFormer`], holds
//! and timeouts become timers. Watchdogs tick at the same period as the watchdog thread.
//! Everything is ordered by (virtual time, scheduling order) and the costs come from a seeded
//! generator, so the same input, config and seed give the same outcome for every frame on any
//! machine, however busy.
//!
//! Engine delay faults add virtual cost to the runs they hit (a run that contains a faulted
//! frame takes that much longer) instead of sleeping.

mod queue;

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use crossbeam::channel::Receiver;

use crate::config::CostSpec;
use crate::deadline::{AccountingSnapshot, Clock, Level, ManualClock, MonitorSnapshot, MonoTime};
use crate::error::Stage;
use crate::pipeline::assemble::{build_shared, check_cameras, summarize, Built, StageHistograms};
use crate::pipeline::camera::CameraId;
use crate::pipeline::camera_threads::{camera_finish, ingest_start, process_start, Loaded};
use crate::pipeline::engine_thread::{calibrate, EngineState, Ran};
use crate::pipeline::events::FrameEvent;
use crate::pipeline::former::{BatchFormer, Decision};
use crate::pipeline::handle::{PipelineError, PipelineSettings, Stopped};
use crate::pipeline::inflight::{InFlight, InFlightBatch};
use crate::pipeline::monitors::{LevelChange, MonitorId};
use crate::pipeline::observe::RunningPipeline;
use crate::pipeline::output_threads::{publish_finish, publish_start, row_start, shared_finish};
use crate::pipeline::rules::{Scope, StageRules};
use crate::pipeline::shared::Shared;
use crate::pipeline::slot::Slot;
use crate::pipeline::stage::{
    BatchStage, CameraStages, IngestStage, ProcessStage, PublishStage, RowStage, StageSet,
};
use crate::rt::{MemoryLock, RtReport};

use queue::{Draws, Event, EventQueue};

/// Virtual time after the input ends with no frame finishing before the simulation gives up.
const STUCK_AFTER_NS: u64 = 60_000_000_000;

/// One message handed to the simulation.
pub struct Arrival<M> {
    /// When it arrives; `None`: as soon as fewer than `max_in_flight` frames are in flight.
    pub at: Option<MonoTime>,
    pub camera: CameraId,
    pub message: M,
}

/// The cost model: each stage's cost per unit of work (`infer`: per run, `*b` per row), extra
/// engine time on given frames, and the seed of the draws.
#[derive(Clone, Debug, PartialEq)]
pub struct SimCosts {
    pub stages: [CostSpec; Stage::COUNT],
    /// `(frames, extra)`: a run containing any of these frames takes `extra` ns longer.
    pub engine_delays: Vec<(Range<u64>, u64)>,
    pub seed: u64,
}

/// What the simulation shows between steps: the same view a supervisor has of running stage
/// threads, plus the per-frame events.
pub struct SimView<'a, M> {
    shared: &'a Shared<M>,
    names: &'a [String],
    transitions: &'a Receiver<LevelChange>,
    events: &'a Receiver<FrameEvent>,
}

impl<M> SimView<'_, M> {
    /// Per-frame outcomes since the last step (drain them every step: the channel is bounded).
    pub fn frame_events(&self) -> &Receiver<FrameEvent> {
        self.events
    }

    /// Virtual time now.
    pub fn now(&self) -> MonoTime {
        self.shared.now()
    }
}

impl<M> RunningPipeline for SimView<'_, M> {
    fn accounting(&self) -> AccountingSnapshot {
        self.shared.accounting()
    }

    fn snapshot(&self, monitor: MonitorId) -> MonitorSnapshot {
        self.shared.snapshot(monitor)
    }

    fn monitor_ids(&self) -> Vec<MonitorId> {
        let engine = (self.names.len() > 1).then_some(MonitorId::Engine);
        (0..self.names.len())
            .map(|i| MonitorId::Camera(CameraId::at(i)))
            .chain(engine)
            .collect()
    }

    fn aggregate_level(&self) -> Level {
        self.shared.worst_level(self.names.len() > 1)
    }

    fn transitions(&self) -> &Receiver<LevelChange> {
        self.transitions
    }
}

/// Re-stamps an untimed message when it is released (its stamp is the delivery time).
pub type Restamp<M> = Box<dyn FnMut(&mut M, crate::frame::Stamp)>;

/// Simulation options beside the pipeline settings.
pub struct SimOptions<M> {
    pub costs: SimCosts,
    /// Frames in flight below which an untimed arrival is released.
    pub max_in_flight: u64,
    /// Called on each untimed message as it is released, with the ROS time then.
    pub restamp: Option<Restamp<M>>,
}

/// A camera's two servers.
struct CameraServers<'a, I: IngestStage, P: ProcessStage<I::Frame>> {
    ingest: I,
    preprocess: P,
    ingest_rules: StageRules<'a, I::Message>,
    pre_rules: StageRules<'a, I::Message>,
    pre_slot: Slot<InFlight<I::Frame>>,
    ready: Slot<InFlight<P::Output>>,
    ingest_busy: Option<(Loaded<I::Frame>, u64)>,
    pre_busy: Option<(Loaded<P::Output>, u64)>,
}

/// Hand `item` to the next stage's bounded queue, or hold it as blocked while the queue is full
/// (the sender of a full bounded channel waits).
fn hand_on<T>(queue: &mut VecDeque<T>, blocked: &mut Option<T>, capacity: usize, item: T) {
    if queue.len() < capacity {
        queue.push_back(item);
    } else {
        *blocked = Some(item);
    }
}

/// Retry a blocked hand-over; true when the item went on.
fn unblock<T>(queue: &mut VecDeque<T>, blocked: &mut Option<T>, capacity: usize) -> bool {
    match blocked.take() {
        Some(item) => {
            hand_on(queue, blocked, capacity, item);
            blocked.is_none()
        }
        None => false,
    }
}

/// The shared servers after the cameras.
struct SharedServers<'a, M, In, N: BatchStage<In>, D: RowStage<N::Batch>, S> {
    infer: N,
    former: BatchFormer,
    engine: EngineState<In>,
    engine_busy: Option<(Ran<N::Batch>, u64)>,
    engine_blocked: Option<InFlightBatch<N::Batch>>,
    engine_timer: Option<MonoTime>,
    decode: D,
    row_rules: StageRules<'a, M>,
    batches: VecDeque<InFlightBatch<N::Batch>>,
    current: Option<(InFlightBatch<N::Batch>, usize)>,
    row_busy: Option<(Loaded<D::Output>, u64)>,
    row_blocked: Option<InFlight<D::Output>>,
    publish: S,
    publish_rules: StageRules<'a, M>,
    to_publish: VecDeque<InFlight<D::Output>>,
    publish_busy: Option<(Loaded<()>, u64)>,
    capacity: usize,
}

/// Run `arrivals` through `stages` on `clock` (moved only by the simulation) and return what
/// [`super::Pipeline::shutdown`] returns. `observe` is called after every step.
pub fn simulate<I, P, N, D, S>(
    settings: &PipelineSettings,
    clock: Arc<ManualClock>,
    stages: StageSet<I, P, N, D, S>,
    arrivals: impl IntoIterator<Item = Arrival<I::Message>>,
    mut options: SimOptions<I::Message>,
    mut observe: impl FnMut(&SimView<'_, I::Message>),
) -> Result<Stopped<I, P, N, D, S>, PipelineError>
where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    check_cameras(settings.cameras.len(), stages.cameras.len())?;
    let names: Vec<String> = settings.cameras.iter().map(|c| c.name.clone()).collect();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let Built {
        shared,
        transitions,
        events,
        ..
    } = build_shared::<I::Message>(settings, dyn_clock);
    let shared: &Shared<I::Message> = &shared;
    let cap = settings.pipeline.channel_capacity.max(1);
    let StageSet {
        cameras,
        infer,
        decode,
        publish,
    } = stages;
    let max_batch = infer.max_batch().max(1);
    let mut cams: Vec<CameraServers<'_, I, P>> = cameras
        .into_iter()
        .enumerate()
        .map(|(i, CameraStages { ingest, preprocess })| {
            let camera = CameraId::at(i);
            CameraServers {
                ingest,
                preprocess,
                ingest_rules: StageRules::new(Stage::Ingest, Scope::Camera(camera), shared),
                pre_rules: StageRules::new(Stage::Preprocess, Scope::Camera(camera), shared),
                pre_slot: Slot::new(1).0,
                ready: Slot::new(1).0,
                ingest_busy: None,
                pre_busy: None,
            }
        })
        .collect();
    let mut sv = SharedServers {
        former: BatchFormer::new(settings.former(max_batch)),
        engine: EngineState::new(names.len(), max_batch, cap + 2),
        infer,
        engine_busy: None,
        engine_blocked: None,
        engine_timer: None,
        decode,
        row_rules: StageRules::new(Stage::Decode, Scope::Shared, shared),
        batches: VecDeque::with_capacity(cap),
        current: None,
        row_busy: None,
        row_blocked: None,
        publish,
        publish_rules: StageRules::new(Stage::Publish, Scope::Shared, shared),
        to_publish: VecDeque::with_capacity(cap),
        publish_busy: None,
        capacity: cap,
    };
    let mut queue = EventQueue::default();
    let mut draws = Draws::new(options.costs.seed);
    // The engine is measured before the replay starts, as the stage threads do before the
    // pipeline reports ready: its runs take no time on the replay's clock.
    let infer_cost = &options.costs.stages[Stage::Infer.index()];
    calibrate(shared, &mut sv.infer, &mut sv.former, |work, rows| {
        work.calibrate(rows)
            .then(|| infer_cost.cost_at(rows, draws.next_unit()))
    });
    // Ready: the watchdogs count from the start of the replay.
    shared.arm();
    let mut input_ended = false;
    let tick_ns = watchdog_period_ns(settings);
    queue.schedule(clock.now().add_nanos(tick_ns), Event::Tick);
    let mut arrivals = arrivals.into_iter().peekable();
    let mut last_settled = 0u64;
    let mut last_progress = clock.now();
    let view = |shared: &Shared<I::Message>| {
        observe(&SimView {
            shared,
            names: &names,
            transitions: &transitions,
            events: &events,
        })
    };
    let mut view = view;
    loop {
        let now = clock.now();
        let untimed_ready = |a: &Arrival<I::Message>| {
            a.at.is_none() && shared.accounting().in_flight < options.max_in_flight
        };
        let arrival_at = arrivals.peek().and_then(|a| match a.at {
            Some(t) => Some(t.max(now)),
            None if untimed_ready(a) => Some(now),
            None => None,
        });
        let event_at = queue.next_time();
        let take_arrival = match (arrival_at, event_at) {
            (Some(a), Some(e)) => a <= e,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if take_arrival {
            if let (Some(at), Some(mut arrival)) = (arrival_at, arrivals.next()) {
                clock.advance_to(at);
                if arrival.at.is_none() {
                    if let Some(restamp) = options.restamp.as_mut() {
                        restamp(&mut arrival.message, clock.ros_now());
                    }
                }
                shared.submit(arrival.camera, arrival.message);
            }
        } else {
            let Some((at, event)) = queue.pop() else {
                break;
            };
            clock.advance_to(at);
            let done = arrivals.peek().is_none() && shared.accounting().in_flight == 0;
            handle(
                event, at, shared, &mut cams, &mut sv, &mut queue, done, tick_ns,
            );
        }
        let last = arrivals.peek().is_none();
        if last && !input_ended {
            // The end of the input is not sensor silence.
            shared.end_of_input();
            input_ended = true;
        }
        kick(
            clock.now(),
            shared,
            &mut cams,
            &mut sv,
            &mut queue,
            &mut draws,
            &options.costs,
            last,
        );
        view(shared);
        // A frame that never reaches an outcome would keep the watchdog ticking forever: after
        // the input ends, give up once nothing has happened for a minute of virtual time.
        let a = shared.accounting();
        let settled = a.published + a.dropped.total();
        if settled != last_settled {
            last_settled = settled;
            last_progress = clock.now();
        } else if arrivals.peek().is_none()
            && clock.now().nanos_since(last_progress) > STUCK_AFTER_NS
        {
            tracing::error!(
                in_flight = a.in_flight,
                "simulation stuck: frames never finished"
            );
            break;
        }
    }
    let mut camera_histograms = Vec::with_capacity(cams.len());
    let mut stage_sets = Vec::with_capacity(cams.len());
    for c in cams {
        camera_histograms.push((
            c.ingest_rules.into_histograms(),
            c.pre_rules.into_histograms(),
        ));
        stage_sets.push(CameraStages {
            ingest: c.ingest,
            preprocess: c.preprocess,
        });
    }
    let former = sv.former.stats().clone();
    let summary = summarize(
        shared,
        &names,
        StageHistograms {
            cameras: camera_histograms,
            infer: sv.engine.histograms,
            decode: sv.row_rules.into_histograms(),
            publish: sv.publish_rules.into_histograms(),
        },
        former,
        RtReport {
            threads: Vec::new(),
            memory: MemoryLock::NotRequested,
        },
    );
    Ok((
        summary,
        StageSet {
            cameras: stage_sets,
            infer: sv.infer,
            decode: sv.decode,
            publish: sv.publish,
        },
    ))
}

/// The watchdog thread's period for these settings.
pub(crate) fn watchdog_period_ns(settings: &PipelineSettings) -> u64 {
    let m = &settings.monitor;
    let period_ms = (m.sensor_timeout_ms.min(m.output_timeout_ms) / 4.0).clamp(1.0, 250.0);
    (period_ms * 1e6) as u64
}

/// A completion or timer at `now`.
#[allow(clippy::too_many_arguments)]
fn handle<I, P, N, D, S>(
    event: Event,
    now: MonoTime,
    shared: &Shared<I::Message>,
    cams: &mut [CameraServers<'_, I, P>],
    sv: &mut SharedServers<'_, I::Message, P::Output, N, D, S>,
    queue: &mut EventQueue,
    done: bool,
    tick_ns: u64,
) where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    match event {
        Event::IngestDone(c) => {
            if let Some(cam) = cams.get_mut(c) {
                if let Some((loaded, cost)) = cam.ingest_busy.take() {
                    let camera = CameraId::at(c);
                    let out = &cam.pre_slot;
                    camera_finish(
                        &mut cam.ingest_rules,
                        camera,
                        loaded,
                        cost,
                        now,
                        out,
                        Stage::Preprocess,
                    );
                }
            }
        }
        Event::PreprocessDone(c) => {
            if let Some(cam) = cams.get_mut(c) {
                if let Some((done, cost)) = cam.pre_busy.take() {
                    let camera = CameraId::at(c);
                    let out = &cam.ready;
                    camera_finish(
                        &mut cam.pre_rules,
                        camera,
                        done,
                        cost,
                        now,
                        out,
                        Stage::Infer,
                    );
                }
            }
        }
        Event::EngineDone => {
            if let Some((ran, cost)) = sv.engine_busy.take() {
                if let Some(batch) = sv.engine.finish(shared, &mut sv.former, ran, cost, now) {
                    hand_on(&mut sv.batches, &mut sv.engine_blocked, sv.capacity, batch);
                }
            }
        }
        Event::RowDone => {
            if let Some((done, cost)) = sv.row_busy.take() {
                if let Some(out) = shared_finish(&mut sv.row_rules, done, cost, now) {
                    hand_on(&mut sv.to_publish, &mut sv.row_blocked, sv.capacity, out);
                }
            }
        }
        Event::PublishDone => {
            if let Some((sent, cost)) = sv.publish_busy.take() {
                publish_finish(&mut sv.publish_rules, sent, cost, now);
            }
        }
        Event::EngineTimer => {
            if sv.engine_timer.is_some_and(|t| t <= now) {
                sv.engine_timer = None;
            }
        }
        Event::Tick => {
            shared.tick();
            if !done {
                queue.schedule(now.add_nanos(tick_ns), Event::Tick);
            }
        }
    }
}

/// Start every free server that has input, at `now`, until none can start.
#[allow(clippy::too_many_arguments)]
fn kick<I, P, N, D, S>(
    now: MonoTime,
    shared: &Shared<I::Message>,
    cams: &mut [CameraServers<'_, I, P>],
    sv: &mut SharedServers<'_, I::Message, P::Output, N, D, S>,
    queue: &mut EventQueue,
    draws: &mut Draws,
    costs: &SimCosts,
    no_more_arrivals: bool,
) where
    I: IngestStage,
    P: ProcessStage<I::Frame>,
    N: BatchStage<P::Output>,
    D: RowStage<N::Batch>,
    S: PublishStage<D::Output>,
{
    let cost = |stage: Stage, rows: usize, draws: &mut Draws| {
        costs.stages[stage.index()].cost_at(rows, draws.next_unit())
    };
    loop {
        let mut progressed = false;
        for (c, cam) in cams.iter_mut().enumerate() {
            let camera = CameraId::at(c);
            if cam.ingest_busy.is_none() {
                if let Some(arrived) = shared.lane(camera).and_then(|l| l.ingress.try_take()) {
                    progressed = true;
                    if let Some(loaded) = ingest_start(
                        shared,
                        camera,
                        &mut cam.ingest_rules,
                        &mut cam.ingest,
                        arrived,
                        now,
                    ) {
                        let took = cost(Stage::Ingest, 1, draws);
                        cam.ingest_busy = Some((loaded, took));
                        queue.schedule(now.add_nanos(took), Event::IngestDone(c));
                    }
                }
            }
            if cam.pre_busy.is_none() {
                if let Some(item) = cam.pre_slot.try_take() {
                    progressed = true;
                    if let Some(done) =
                        process_start(&mut cam.pre_rules, &mut cam.preprocess, item, now)
                    {
                        let took = cost(Stage::Preprocess, 1, draws);
                        cam.pre_busy = Some((done, took));
                        queue.schedule(now.add_nanos(took), Event::PreprocessDone(c));
                    }
                }
            }
        }
        // The engine: unblock, then decide when free.
        progressed |= unblock(&mut sv.batches, &mut sv.engine_blocked, sv.capacity);
        if sv.engine_busy.is_none() && sv.engine_blocked.is_none() {
            for (c, cam) in cams.iter().enumerate() {
                while let Some(item) = cam.ready.try_take() {
                    sv.engine.offer(shared, &mut sv.former, c, item);
                }
            }
            if !sv.engine.idle() {
                let upstream_idle = cams.iter().all(|cam| {
                    cam.ingest_busy.is_none()
                        && cam.pre_busy.is_none()
                        && cam.pre_slot.len() == 0
                        && cam.ready.len() == 0
                }) && shared.lanes.iter().all(|l| l.ingress.len() == 0);
                let last = no_more_arrivals && upstream_idle;
                match sv.engine.decide(shared, &mut sv.former, now, last) {
                    Decision::Run => {
                        if let Some(ran) = sv.engine.fill_and_run(shared, &mut sv.infer, now) {
                            let mut took = cost(Stage::Infer, ran.rows(), draws);
                            for (frames, extra) in &costs.engine_delays {
                                if ran.metas().iter().any(|m| frames.contains(&m.seq)) {
                                    took = took.saturating_add(*extra);
                                }
                            }
                            sv.engine_busy = Some((ran, took));
                            queue.schedule(now.add_nanos(took), Event::EngineDone);
                        }
                        progressed = true;
                    }
                    Decision::Wait { until: Some(until) } => {
                        if sv.engine_timer != Some(until) && until > now {
                            sv.engine_timer = Some(until);
                            queue.schedule(until, Event::EngineTimer);
                        }
                    }
                    Decision::Wait { until: None } => {}
                }
            }
        }
        // The row stage: hand a blocked row on, else start the next live row.
        progressed |= unblock(&mut sv.to_publish, &mut sv.row_blocked, sv.capacity);
        if sv.row_busy.is_none() && sv.row_blocked.is_none() {
            if sv.current.is_none() {
                if let Some(batch) = sv.batches.pop_front() {
                    sv.current = Some((batch, 0));
                    progressed = true;
                }
            }
            if let Some((batch, next)) = sv.current.as_mut() {
                let rows = batch.rows.len();
                while *next < rows && !batch.rows.alive.get(*next).copied().unwrap_or(false) {
                    *next += 1;
                }
                if *next < rows {
                    let row = *next;
                    *next += 1;
                    progressed = true;
                    if let Some(meta) = batch.rows.metas.get(row).copied() {
                        if let Some(done) = row_start(
                            &mut sv.row_rules,
                            &mut sv.decode,
                            &mut batch.batch,
                            row,
                            &meta,
                            now,
                        ) {
                            let took = cost(Stage::Decode, 1, draws);
                            sv.row_busy = Some((done, took));
                            queue.schedule(now.add_nanos(took), Event::RowDone);
                        }
                    }
                } else {
                    sv.current = None;
                    progressed = true;
                }
            }
        }
        if sv.publish_busy.is_none() {
            if let Some(item) = sv.to_publish.pop_front() {
                progressed = true;
                if let Some(sent) = publish_start(&mut sv.publish_rules, &mut sv.publish, item, now)
                {
                    let took = cost(Stage::Publish, 1, draws);
                    sv.publish_busy = Some((sent, took));
                    queue.schedule(now.add_nanos(took), Event::PublishDone);
                }
            }
        }
        if !progressed {
            break;
        }
    }
}
