//! Fault injection for replay: wraps any [`Engine`] and, on a frame-index schedule, adds a delay
//! before running or fails the run. A product feature (prove the alarms fire), not a test
//! double; the `--fault` string parser lives in replay and builds these typed schedules.
//!
//! Batches: a run is one engine call, so a schedule applies to the run when **any** frame of
//! the batch matches. The delay is applied once per run (the largest delay any frame of the
//! batch asks for, as an engine stall stalls the whole batch once), and an error fails the whole
//! run (every frame in it).

use std::ops::Range;
use std::time::Duration;

use super::buffers::{InputTensor, OutputBuffers};
use super::contract::ModelContract;
use super::{Engine, EngineInfo};
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

/// An engine with scheduled faults. For one frame, delays of overlapping entries add up and any
/// `Error` entry wins; for a batch, see the module doc.
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

    /// The delay and whether to fail, for a run of `frames`: the largest per-frame delay, once;
    /// failing when any frame fails.
    pub fn fault_for_batch(&self, frames: &[u64]) -> (Duration, bool) {
        frames
            .iter()
            .map(|&seq| self.fault_for(seq))
            .fold((Duration::ZERO, false), |(delay, fail), (d, f)| {
                (delay.max(d), fail || f)
            })
    }
}

impl<E: Engine> Engine for FaultInjector<E> {
    fn contract(&self) -> &ModelContract {
        self.inner.contract()
    }

    fn max_batch(&self) -> usize {
        self.inner.max_batch()
    }

    fn info(&self) -> EngineInfo {
        let mut info = self.inner.info();
        info.details.push(format!(
            "fault injection: {} scheduled fault(s)",
            self.schedule.len()
        ));
        info
    }

    fn new_input(&self) -> InputTensor {
        self.inner.new_input()
    }

    fn new_outputs(&self) -> OutputBuffers {
        self.inner.new_outputs()
    }

    fn run(
        &mut self,
        frames: &[u64],
        input: &InputTensor,
        outputs: &mut OutputBuffers,
    ) -> Result<(), FrameError> {
        let (delay, fail) = self.fault_for_batch(frames);
        if fail {
            return Err(FrameError::Engine);
        }
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        self.inner.run(frames, input, outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelFamily;
    use crate::infer::{ElementType, TensorSpec};

    /// Records the rows of each run.
    struct Rows {
        contract: ModelContract,
        runs: Vec<usize>,
    }

    impl Engine for Rows {
        fn contract(&self) -> &ModelContract {
            &self.contract
        }
        fn max_batch(&self) -> usize {
            4
        }
        fn run(
            &mut self,
            frames: &[u64],
            _input: &InputTensor,
            _outputs: &mut OutputBuffers,
        ) -> Result<(), FrameError> {
            self.runs.push(frames.len());
            Ok(())
        }
    }

    fn rows() -> Rows {
        let spec = |name: &str| TensorSpec {
            name: name.into(),
            shape: vec![1, 2],
            element: ElementType::F32,
        };
        Rows {
            contract: ModelContract {
                model: "m".into(),
                input: spec("in"),
                outputs: vec![spec("out")],
                family: ModelFamily::Yolox,
                classes: 1,
                anchors: 1,
            },
            runs: Vec::new(),
        }
    }

    fn schedule() -> Vec<EngineFault> {
        vec![
            EngineFault {
                frames: 10..20,
                kind: FaultKind::Delay(Duration::from_millis(30)),
            },
            EngineFault {
                frames: 15..16,
                kind: FaultKind::Delay(Duration::from_millis(5)),
            },
            EngineFault {
                frames: 30..31,
                kind: FaultKind::Error,
            },
        ]
    }

    #[test]
    fn a_batch_takes_the_largest_delay_once_and_fails_when_any_frame_fails() {
        let f = FaultInjector::new(rows(), schedule());
        assert_eq!(f.fault_for_batch(&[1, 2, 3]), (Duration::ZERO, false));
        // Two frames in the delayed range: one stall, not two.
        assert_eq!(
            f.fault_for_batch(&[11, 12]),
            (Duration::from_millis(30), false)
        );
        // Overlapping entries on one frame add up.
        assert_eq!(
            f.fault_for_batch(&[9, 15]),
            (Duration::from_millis(35), false)
        );
        assert!(f.fault_for_batch(&[29, 30, 31]).1);
        assert_eq!(f.fault_for_batch(&[]), (Duration::ZERO, false));
    }

    #[test]
    fn an_error_anywhere_in_the_batch_fails_the_run_without_running_it() {
        let mut f = FaultInjector::new(rows(), schedule());
        assert_eq!(f.max_batch(), 4);
        let input = f.new_input();
        let mut outputs = f.new_outputs();
        assert_eq!(input.rows(), 4);
        assert_eq!(
            f.run(&[28, 29, 30], &input, &mut outputs),
            Err(FrameError::Engine)
        );
        assert!(f.run(&[31, 32], &input, &mut outputs).is_ok());
        assert_eq!(f.into_inner().runs, vec![2]);
    }
}
