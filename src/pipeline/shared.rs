//! State shared by the stage threads: the clock, the deadline policy, cost estimates,
//! accounting, and the telemetry (monitor + end-to-end histogram + transition log) behind one
//! short-held mutex. No lock is ever held across stages: each outcome locks, records, unlocks.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam::channel::Sender;

use crate::deadline::{
    Accounting, Clock, DeadlinePolicy, LatencyHistogram, Level, MonitorSnapshot, MonoTime, Outcome,
    SafetyMonitor, StageCosts, Transition,
};
use crate::error::{DropReason, Stage};
use crate::frame::Stamp;
use crate::pipeline::events::FrameEvent;
use crate::pipeline::handle::Submitted;
use crate::pipeline::slot::Slot;

/// Transitions kept for the summary (more are counted, not stored).
pub(crate) const TRANSITION_LOG_CAPACITY: usize = 4096;

/// A message as it arrived: the integrator's message plus both clocks at arrival.
pub(crate) struct Arrived<M> {
    pub(crate) message: M,
    pub(crate) arrival: MonoTime,
    pub(crate) ros_now: Stamp,
}

/// Everything behind the telemetry lock.
pub(crate) struct Telemetry {
    pub(crate) monitor: SafetyMonitor,
    pub(crate) end_to_end: LatencyHistogram,
    pub(crate) log: Vec<Transition>,
    pub(crate) log_overflow: u64,
}

pub(crate) struct Shared<M> {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policy: DeadlinePolicy,
    pub(crate) cost_percentile: f64,
    pub(crate) costs: StageCosts,
    pub(crate) accounting: Accounting,
    pub(crate) telemetry: Mutex<Telemetry>,
    pub(crate) transitions: Sender<Transition>,
    pub(crate) events: Sender<FrameEvent>,
    pub(crate) ingress: Slot<Arrived<M>>,
    pub(crate) accepting: AtomicBool,
    pub(crate) submitters: AtomicUsize,
    pub(crate) next_seq: AtomicU64,
}

impl<M> Shared<M> {
    pub(crate) fn now(&self) -> MonoTime {
        self.clock.now()
    }

    /// Accept a message into the ingress queue (see `Pipeline::submit`).
    pub(crate) fn submit(&self, message: M) -> Submitted<M> {
        self.submitters.fetch_add(1, Ordering::SeqCst);
        if !self.accepting.load(Ordering::SeqCst) {
            self.submitters.fetch_sub(1, Ordering::SeqCst);
            return Submitted::Closed(message);
        }
        let arrival = self.clock.now();
        let ros_now = self.clock.ros_now();
        self.accounting.received();
        self.arrived(arrival);
        let evicted = self.ingress.offer(Arrived {
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
                self.drop_frame(Stage::Ingest, DropReason::Superseded, u64::MAX);
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

    /// A frame in flight is dropped at `stage`.
    pub(crate) fn drop_frame(&self, stage: Stage, reason: DropReason, seq: u64) {
        self.accounting.dropped(reason);
        tracing::debug!(
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
        let transition = self.telemetry().record(now, outcome);
        let _ = self.events.try_send(FrameEvent {
            seq,
            at: now,
            outcome,
        });
        self.emit(transition);
    }

    /// A frame in flight was published `latency_ns` after capture.
    pub(crate) fn published(&self, latency_ns: u64, seq: u64) {
        self.accounting.published();
        tracing::trace!(seq, latency_ns, "frame published");
        let now = self.now();
        let outcome = Outcome::OnTime { latency_ns };
        let transition = {
            let mut t = self.telemetry();
            t.end_to_end.record_ns(latency_ns);
            t.record(now, outcome)
        };
        let _ = self.events.try_send(FrameEvent {
            seq,
            at: now,
            outcome,
        });
        self.emit(transition);
    }

    /// A frame arrived (feeds the sensor watchdog).
    pub(crate) fn arrived(&self, now: MonoTime) {
        let transition = {
            let mut t = self.telemetry();
            let tr = t.monitor.on_arrival(now);
            t.log(tr)
        };
        self.emit(transition);
    }

    /// The pipeline is ready: arm the monitor's watchdogs.
    pub(crate) fn arm(&self) {
        let now = self.now();
        self.telemetry().monitor.arm(now);
    }

    /// The input ended (see `Pipeline::end_of_input`).
    pub(crate) fn end_of_input(&self) {
        let now = self.now();
        self.telemetry().monitor.end_of_input(now);
    }

    /// Run the watchdogs now.
    pub(crate) fn tick(&self) -> Option<Transition> {
        let now = self.now();
        let transition = {
            let mut t = self.telemetry();
            let tr = t.monitor.tick(now);
            t.log(tr)
        };
        self.emit(transition);
        transition
    }

    pub(crate) fn snapshot(&self) -> MonitorSnapshot {
        let accounting = self.accounting.snapshot();
        let now = self.now();
        let t = self.telemetry();
        MonitorSnapshot::new(
            now,
            &t.monitor,
            t.end_to_end.quantile_ns(0.5),
            t.end_to_end.quantile_ns(0.99),
            accounting,
        )
    }

    /// Hand a transition to the live listener and the log. Never blocks.
    fn emit(&self, transition: Option<Transition>) {
        let Some(t) = transition else { return };
        let stage = t.stage.map_or("none", Stage::name);
        if t.to > t.from {
            tracing::warn!(
                from = t.from.name(),
                to = t.to.name(),
                cause = t.cause.name(),
                stage,
                "deadline monitor escalated"
            );
        } else if t.to == Level::Ok {
            tracing::info!(
                from = t.from.name(),
                to = t.to.name(),
                cause = t.cause.name(),
                stage,
                "deadline monitor recovered"
            );
        } else {
            tracing::warn!(
                from = t.from.name(),
                to = t.to.name(),
                cause = t.cause.name(),
                stage,
                "deadline monitor stepped down"
            );
        }
        // A listener that does not keep up loses live transitions; the log keeps them.
        let _ = self.transitions.try_send(t);
    }
}

impl Telemetry {
    fn record(&mut self, now: MonoTime, outcome: Outcome) -> Option<Transition> {
        let tr = self.monitor.on_outcome(now, outcome);
        self.log(tr)
    }

    fn log(&mut self, transition: Option<Transition>) -> Option<Transition> {
        if let Some(t) = transition {
            if self.log.len() < TRANSITION_LOG_CAPACITY {
                self.log.push(t);
            } else {
                self.log_overflow += 1;
            }
        }
        transition
    }
}
