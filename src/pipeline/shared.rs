//! State shared by the stage threads: the clock, each camera's lane (deadline policy, expected
//! stage costs, accounting, ingress queue), and the telemetry (a safety monitor and end-to-end
//! histogram per camera, the engine's monitor, the level-change log) behind one short-held
//! mutex. No lock is ever held across stages: each outcome locks, records, unlocks.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam::channel::Sender;

use crate::deadline::{
    Accounting, AccountingSnapshot, Clock, DeadlinePolicy, LatencyHistogram, Level,
    MonitorSnapshot, MonoTime, Outcome, SafetyMonitor, StageCosts, Transition,
};
use crate::error::{DropReason, Stage};
use crate::frame::Stamp;
use crate::pipeline::camera::CameraId;
use crate::pipeline::events::FrameEvent;
use crate::pipeline::handle::Submitted;
use crate::pipeline::monitors::{LevelChange, MonitorId};
use crate::pipeline::slot::Slot;

/// Level changes kept for the summary (more are counted, not stored).
pub(crate) const TRANSITION_LOG_CAPACITY: usize = 4096;

/// A message as it arrived: the integrator's message plus both clocks at arrival.
pub(crate) struct Arrived<M> {
    pub(crate) message: M,
    pub(crate) arrival: MonoTime,
    pub(crate) ros_now: Stamp,
}

/// One camera's share of the pipeline state.
pub(crate) struct Lane<M> {
    pub(crate) policy: DeadlinePolicy,
    /// Expected cost of every stage for this camera's frames (its own ingest and preprocessing;
    /// the shared stages' estimates are written into every lane).
    pub(crate) costs: StageCosts,
    pub(crate) accounting: Accounting,
    pub(crate) ingress: Slot<Arrived<M>>,
    pub(crate) criticality: i32,
}

/// One camera's monitor and latency.
pub(crate) struct CameraTelemetry {
    pub(crate) monitor: SafetyMonitor,
    pub(crate) end_to_end: LatencyHistogram,
}

/// Everything behind the telemetry lock.
pub(crate) struct Telemetry {
    pub(crate) cameras: Vec<CameraTelemetry>,
    /// The engine's monitor; only with several cameras (with one it would repeat the camera's).
    pub(crate) engine: Option<SafetyMonitor>,
    pub(crate) end_to_end: LatencyHistogram,
    pub(crate) log: Vec<LevelChange>,
    pub(crate) log_overflow: u64,
}

pub(crate) struct Shared<M> {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) cost_percentile: f64,
    pub(crate) lanes: Vec<Lane<M>>,
    pub(crate) telemetry: Mutex<Telemetry>,
    pub(crate) transitions: Sender<LevelChange>,
    pub(crate) events: Sender<FrameEvent>,
    pub(crate) accepting: AtomicBool,
    pub(crate) submitters: AtomicUsize,
    pub(crate) next_seq: AtomicU64,
}

impl<M> Shared<M> {
    pub(crate) fn now(&self) -> MonoTime {
        self.clock.now()
    }

    pub(crate) fn lane(&self, camera: CameraId) -> Option<&Lane<M>> {
        self.lanes.get(camera.index())
    }

    /// Accept a message for `camera` into its ingress queue (see `Pipeline::submit_to`).
    pub(crate) fn submit(&self, camera: CameraId, message: M) -> Submitted<M> {
        self.submitters.fetch_add(1, Ordering::SeqCst);
        let lane = match self.lane(camera) {
            Some(lane) if self.accepting.load(Ordering::SeqCst) => lane,
            _ => {
                self.submitters.fetch_sub(1, Ordering::SeqCst);
                return Submitted::Closed(message);
            }
        };
        let arrival = self.clock.now();
        let ros_now = self.clock.ros_now();
        lane.accounting.received();
        self.arrived(camera, arrival);
        let evicted = lane.ingress.offer(Arrived {
            message,
            arrival,
            ros_now,
        });
        self.submitters.fetch_sub(1, Ordering::SeqCst);
        match evicted {
            None => Submitted::Accepted,
            Some(old) => {
                drop(old);
                // The evicted message never got a sequence number.
                self.drop_frame(camera, Stage::Ingest, DropReason::Superseded, u64::MAX);
                Submitted::AcceptedSuperseding
            }
        }
    }

    pub(crate) fn telemetry(&self) -> MutexGuard<'_, Telemetry> {
        // A panic elsewhere while holding the lock leaves plain counters behind: keep going.
        self.telemetry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A frame of `camera` in flight is dropped at `stage`.
    pub(crate) fn drop_frame(&self, camera: CameraId, stage: Stage, reason: DropReason, seq: u64) {
        if let Some(lane) = self.lane(camera) {
            lane.accounting.dropped(reason);
        }
        tracing::debug!(
            camera = camera.0,
            stage = stage.name(),
            seq,
            reason = reason.name(),
            "frame dropped"
        );
        let now = self.now();
        // Attribute the miss to the stage the reason names (e.g. a predicted miss caught at
        // ingest but caused by infer), else to the stage that dropped the frame.
        let outcome = Outcome::Dropped {
            reason,
            stage: reason.stage().unwrap_or(stage),
        };
        self.record_outcome(camera, now, outcome, seq);
    }

    /// A frame of `camera` in flight was published `latency_ns` after capture.
    pub(crate) fn published(&self, camera: CameraId, latency_ns: u64, seq: u64) {
        if let Some(lane) = self.lane(camera) {
            lane.accounting.published();
        }
        tracing::trace!(camera = camera.0, seq, latency_ns, "frame published");
        let now = self.now();
        self.record_outcome(camera, now, Outcome::OnTime { latency_ns }, seq);
    }

    fn record_outcome(&self, camera: CameraId, now: MonoTime, outcome: Outcome, seq: u64) {
        let mut changes = [None, None];
        {
            let mut t = self.telemetry();
            let t = &mut *t;
            if let Outcome::OnTime { latency_ns } = outcome {
                t.end_to_end.record_ns(latency_ns);
                if let Some(c) = t.cameras.get_mut(camera.index()) {
                    c.end_to_end.record_ns(latency_ns);
                }
            }
            if let Some(c) = t.cameras.get_mut(camera.index()) {
                changes[0] = c
                    .monitor
                    .on_outcome(now, outcome)
                    .map(|tr| (MonitorId::Camera(camera), tr));
            }
            if let (Some(engine), Some(engine_outcome)) = (&mut t.engine, engine_view(outcome)) {
                changes[1] = engine
                    .on_outcome(now, engine_outcome)
                    .map(|tr| (MonitorId::Engine, tr));
            }
            for change in changes.iter().flatten() {
                t.log(*change);
            }
        }
        let _ = self.events.try_send(FrameEvent {
            seq,
            camera,
            at: now,
            outcome,
        });
        for (monitor, transition) in changes.into_iter().flatten() {
            self.emit(monitor, transition);
        }
    }

    /// A frame of `camera` arrived (feeds the sensor watchdogs).
    pub(crate) fn arrived(&self, camera: CameraId, now: MonoTime) {
        let mut changes = [None, None];
        {
            let mut t = self.telemetry();
            if let Some(c) = t.cameras.get_mut(camera.index()) {
                changes[0] = c
                    .monitor
                    .on_arrival(now)
                    .map(|tr| (MonitorId::Camera(camera), tr));
            }
            if let Some(engine) = &mut t.engine {
                changes[1] = engine.on_arrival(now).map(|tr| (MonitorId::Engine, tr));
            }
            for change in changes.iter().flatten() {
                t.log(*change);
            }
        }
        for (monitor, transition) in changes.into_iter().flatten() {
            self.emit(monitor, transition);
        }
    }

    /// The pipeline is ready: arm every monitor's watchdogs (they count from now).
    pub(crate) fn arm(&self) {
        let now = self.now();
        let mut t = self.telemetry();
        for c in &mut t.cameras {
            c.monitor.arm(now);
        }
        if let Some(engine) = &mut t.engine {
            engine.arm(now);
        }
    }

    /// The input ended (see `Pipeline::end_of_input`): no monitor watches for sensor silence any
    /// more.
    pub(crate) fn end_of_input(&self) {
        let now = self.now();
        let mut t = self.telemetry();
        for c in &mut t.cameras {
            c.monitor.end_of_input(now);
        }
        if let Some(engine) = &mut t.engine {
            engine.end_of_input(now);
        }
    }

    /// Run every watchdog now; the first level change it caused, if any.
    pub(crate) fn tick(&self) -> Option<LevelChange> {
        let now = self.now();
        let mut changes: [Option<(MonitorId, Transition)>; 1 + crate::config::MAX_CAMERAS] =
            [None; 1 + crate::config::MAX_CAMERAS];
        {
            let mut t = self.telemetry();
            let t = &mut *t;
            for (i, c) in t.cameras.iter_mut().enumerate() {
                if let Some(slot) = changes.get_mut(i) {
                    *slot = c
                        .monitor
                        .tick(now)
                        .map(|tr| (MonitorId::Camera(CameraId::at(i)), tr));
                }
            }
            if let (Some(last), Some(engine)) = (changes.last_mut(), &mut t.engine) {
                *last = engine.tick(now).map(|tr| (MonitorId::Engine, tr));
            }
            for change in changes.iter().flatten() {
                t.log(*change);
            }
        }
        let mut first = None;
        for (monitor, transition) in changes.into_iter().flatten() {
            self.emit(monitor, transition);
            first.get_or_insert(LevelChange {
                monitor,
                transition,
            });
        }
        first
    }

    /// Frame counters over every camera.
    pub(crate) fn accounting(&self) -> AccountingSnapshot {
        let mut total = AccountingSnapshot::default();
        for lane in &self.lanes {
            total.add(&lane.accounting.snapshot());
        }
        total
    }

    /// What `/diagnostics` needs about one monitor, now.
    pub(crate) fn snapshot(&self, monitor: MonitorId) -> MonitorSnapshot {
        let now = self.now();
        let camera = match monitor {
            MonitorId::Camera(c) => Some(c),
            MonitorId::Engine => None,
        };
        let accounting = match camera.and_then(|c| self.lane(c)) {
            Some(lane) => lane.accounting.snapshot(),
            None => self.accounting(),
        };
        let t = self.telemetry();
        let (mon, hist) = match camera.and_then(|c| t.cameras.get(c.index())) {
            Some(ct) => (&ct.monitor, &ct.end_to_end),
            None => match (&t.engine, t.cameras.first()) {
                (Some(engine), _) => (engine, &t.end_to_end),
                (None, Some(only)) => (&only.monitor, &only.end_to_end),
                (None, None) => return MonitorSnapshot::empty(now, accounting),
            },
        };
        MonitorSnapshot::new(
            now,
            mon,
            hist.quantile_ns(0.5),
            hist.quantile_ns(0.99),
            accounting,
        )
    }

    /// The worst current level over the cameras' monitors (and the engine's, if asked).
    pub(crate) fn worst_level(&self, include_engine: bool) -> Level {
        let t = self.telemetry();
        let cameras = t.cameras.iter().map(|c| c.monitor.level());
        let engine = t
            .engine
            .as_ref()
            .filter(|_| include_engine)
            .map(|e| e.level());
        cameras.chain(engine).max().unwrap_or(Level::Ok)
    }

    /// Publish a shared stage's expected cost into every camera's lane.
    pub(crate) fn set_expected_everywhere(&self, stage: Stage, nanos: u64) {
        for lane in &self.lanes {
            lane.costs.set_expected(stage, nanos);
        }
    }

    /// Hand a level change to the live listener and the log. Never blocks.
    fn emit(&self, monitor: MonitorId, t: Transition) {
        let stage = t.stage.map_or("none", Stage::name);
        let source = match monitor {
            MonitorId::Camera(c) => c.0 as i32,
            MonitorId::Engine => -1,
        };
        if t.to > t.from {
            tracing::warn!(
                camera = source,
                from = t.from.name(),
                to = t.to.name(),
                cause = t.cause.name(),
                stage,
                "deadline monitor escalated"
            );
        } else if t.to == Level::Ok {
            tracing::info!(
                camera = source,
                from = t.from.name(),
                to = t.to.name(),
                cause = t.cause.name(),
                stage,
                "deadline monitor recovered"
            );
        } else {
            tracing::warn!(
                camera = source,
                from = t.from.name(),
                to = t.to.name(),
                cause = t.cause.name(),
                stage,
                "deadline monitor stepped down"
            );
        }
        // A listener that does not keep up loses live changes; the log keeps them.
        let _ = self.transitions.try_send(LevelChange {
            monitor,
            transition: t,
        });
    }
}

/// What the engine's monitor sees of a frame's outcome: publications (the engine delivers),
/// and losses at or caused by the engine; every other drop is the camera's business.
fn engine_view(outcome: Outcome) -> Option<Outcome> {
    match outcome {
        Outcome::OnTime { .. } => Some(outcome),
        Outcome::Dropped { reason, stage } => {
            let engine = stage == Stage::Infer || reason == DropReason::EngineError;
            engine.then_some(outcome)
        }
    }
}

impl Telemetry {
    fn log(&mut self, (monitor, transition): (MonitorId, Transition)) {
        if self.log.len() < TRANSITION_LOG_CAPACITY {
            self.log.push(LevelChange {
                monitor,
                transition,
            });
        } else {
            self.log_overflow += 1;
        }
    }
}
