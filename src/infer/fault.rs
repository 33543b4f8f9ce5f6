//! Fault injection for replay: wraps any [`Engine`] and, on a frame-index schedule, adds a delay
//! before running or fails the frame. A product feature (prove the alarms fire), not a test
//! double; the `--fault` string parser lives in replay and builds these typed schedules.

use std::ops::Range;
use std::time::Duration;

use super::buffers::{InputTensor, OutputBuffers};
use super::contract::ModelContract;
use super::Engine;
use crate::error::FrameError;

/// What happens to a scheduled frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Sleep this long, then run normally (an engine stall).
    Delay(Duration),
    /// Fail the frame with `FrameError::Engine` without running it.
    Error,
}

/// A fault applied to frames whose sequence number lies in `frames`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineFault {
    pub frames: Range<u64>,
    pub kind: FaultKind,
}

/// An engine with scheduled faults. Delays of overlapping entries add up; any `Error` entry wins.
pub struct FaultInjector<E> {
    inner: E,
    schedule: Vec<EngineFault>,
}

impl<E: Engine> FaultInjector<E> {
    /// Wrap `inner` with `schedule`.
    pub fn new(inner: E, schedule: Vec<EngineFault>) -> Self {
        Self { inner, schedule }
    }

    /// The schedule.
    pub fn schedule(&self) -> &[EngineFault] {
        &self.schedule
    }

    /// The wrapped engine.
    pub fn into_inner(self) -> E {
        self.inner
    }

    /// The total delay and whether to fail, for frame `seq`.
    pub fn fault_for(&self, seq: u64) -> (Duration, bool) {
        self.schedule
            .iter()
            .filter(|f| f.frames.contains(&seq))
            .fold((Duration::ZERO, false), |(delay, fail), f| match f.kind {
                FaultKind::Delay(d) => (delay + d, fail),
                FaultKind::Error => (delay, true),
            })
    }
}

impl<E: Engine> Engine for FaultInjector<E> {
    fn contract(&self) -> &ModelContract {
        self.inner.contract()
    }

    fn new_input(&self) -> InputTensor {
        self.inner.new_input()
    }

    fn new_outputs(&self) -> OutputBuffers {
        self.inner.new_outputs()
    }

    fn run(
        &mut self,
        seq: u64,
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        let (delay, fail) = self.fault_for(seq);
        if fail {
            return Err(FrameError::Engine);
        }
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        self.inner.run(seq, input, outputs)
    }
}
