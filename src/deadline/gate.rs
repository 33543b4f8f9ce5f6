//! The per-stage entry decision: hop check, then predict → go / probe / drop.
//!
//! Each stage thread owns one [`PredictionGate`]. A frame entering the stage is first checked
//! against its deadline (`MissedAt{stage}` once passed); then, unless it is already a probe,
//! [`DeadlinePolicy::predict`] asks whether the expected cost of the remaining stages still
//! fits. A predicted miss is dropped or let through as a probe:
//!
//! * **The second predicted miss in a row is a probe.** It runs every stage without further
//!   predictions and re-measures them; a probe still in time restarts a stage's cost window
//!   (see [`crate::deadline::cost`]). The first predicted miss is dropped: it is usually a
//!   frame that waited behind a slow one and cannot make it whatever the estimate, and dropping
//!   it frees the stage, so the next frame — the probe — arrives fresh and measures the stage
//!   rather than its queue.
//! * While predictions keep failing, probes come every 4th frame ([`MAX_PROBE_INTERVAL`]): a
//!   stall that has ended is found within four frames, and one that goes on costs the stage one
//!   frame in four.
//! * Any frame that fits resets the gate.
//!
//! Together with the cost estimate's robustness (the single largest sample in the window is
//! set aside), one slow frame never inflates a prediction: the only frames dropped after it are
//! ones that waited behind it and truly cannot make their deadline (at most one per stage,
//! since the next frame finds the stage free). A stall of two slow frames inflates the estimate
//! for at most one predicted drop before a probe restarts it. Predicted drops are deadline
//! misses for the monitor (the frame was not delivered).
//!
//! Pure and clock-free: the caller passes `now`; no allocation.

use crate::deadline::clock::MonoTime;
use crate::deadline::cost::StageCosts;
use crate::deadline::policy::{DeadlinePolicy, FrameDeadline};
use crate::error::{DropReason, Stage};

/// Upper bound of the interval between probes while predictions keep failing (frames).
pub const MAX_PROBE_INTERVAL: u32 = 4;

/// What a stage does with a frame that passed its entry checks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Run the stage as usual.
    Go,
    /// Run the stage as a probe despite a predicted miss: mark the frame so later stages skip
    /// their predictions, and record its costs with [`crate::deadline::CostEstimator::record_probe`].
    Probe,
}

/// A frame at a stage's entry: what the entry checks need to know about it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Entering {
    pub deadline: FrameDeadline,
    /// When the frame was handed to this stage (it has waited for it since).
    pub handed_over: MonoTime,
    /// Already a probe (an earlier stage let it through despite a predicted miss).
    pub probe: bool,
}

/// One stage's predict → go / probe / drop state machine. See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PredictionGate {
    /// Predicted misses per probe: 2 (drop one, probe the next), then
    /// [`MAX_PROBE_INTERVAL`].
    interval: u32,
    /// Predicted drops since the last probe.
    dropped_since_probe: u32,
}

impl Default for PredictionGate {
    fn default() -> Self {
        Self::new()
    }
}

impl PredictionGate {
    pub const fn new() -> Self {
        Self {
            interval: 2,
            dropped_since_probe: 0,
        }
    }

    /// The decision for one prediction: `Ok(Go)` when it fits, `Ok(Probe)` or the drop reason
    /// when it does not.
    pub fn decide(&mut self, predicted: Result<(), DropReason>) -> Result<Entry, DropReason> {
        match predicted {
            Ok(()) => {
                *self = Self::new();
                Ok(Entry::Go)
            }
            Err(_) if self.dropped_since_probe + 1 >= self.interval => {
                self.dropped_since_probe = 0;
                self.interval = (self.interval * 2).min(MAX_PROBE_INTERVAL);
                Ok(Entry::Probe)
            }
            Err(reason) => {
                self.dropped_since_probe += 1;
                Err(reason)
            }
        }
    }

    /// Every entry check of `stage` at `now`: the deadline (`MissedAt{stage}` once passed),
    /// then — unless the frame is already a probe — the prediction through [`Self::decide`].
    pub fn enter(
        &mut self,
        policy: &DeadlinePolicy,
        stage: Stage,
        now: MonoTime,
        frame: &Entering,
        costs: &StageCosts,
    ) -> Result<Entry, DropReason> {
        policy.check_hop(stage, now, &frame.deadline)?;
        if frame.probe {
            return Ok(Entry::Go);
        }
        self.decide(policy.predict(stage, frame.handed_over, now, &frame.deadline, costs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DeadlineConfig;
    use crate::frame::Stamp;

    const MISS: Result<(), DropReason> = Err(DropReason::PredictedMiss {
        stage: Stage::Infer,
    });

    fn decisions(gate: &mut PredictionGate, n: usize) -> Vec<Result<Entry, DropReason>> {
        (0..n).map(|_| gate.decide(MISS)).collect()
    }

    #[test]
    fn second_predicted_miss_probes_then_one_in_four() {
        let mut g = PredictionGate::new();
        let drop = MISS.map(|()| Entry::Go);
        let p = Ok(Entry::Probe);
        assert_eq!(
            decisions(&mut g, 12),
            vec![drop, p, drop, drop, drop, p, drop, drop, drop, p, drop, drop]
        );
    }

    #[test]
    fn a_frame_that_fits_resets_the_gate() {
        let mut g = PredictionGate::new();
        decisions(&mut g, 5);
        assert_eq!(g.decide(Ok(())), Ok(Entry::Go));
        assert_eq!(g, PredictionGate::new());
        assert_eq!(g.decide(MISS), MISS.map(|()| Entry::Go));
        assert_eq!(g.decide(MISS), Ok(Entry::Probe));
    }

    #[test]
    fn enter_checks_the_deadline_first_and_lets_probes_through() {
        let policy = DeadlinePolicy::from_config(&DeadlineConfig {
            budget_ms: 100.0,
            stage_budget_ms: [None; Stage::COUNT],
            predictive: true,
            cost_percentile: 99.0,
            max_future_ms: 50.0,
            max_age_ms: 10_000.0,
        });
        let ms = |v: u64| MonoTime::from_nanos(v * 1_000_000);
        let d = policy
            .admit(Stamp::new(0, 0), Stamp::new(0, 0), ms(0))
            .unwrap();
        let costs = StageCosts::new();
        costs.set_expected(Stage::Infer, 60_000_000);
        let mut g = PredictionGate::new();
        let frame = |handed_over: u64, probe: bool| Entering {
            deadline: d,
            handed_over: ms(handed_over),
            probe,
        };
        // Past the deadline: missed, whatever the gate's state, and the gate is untouched.
        assert_eq!(
            g.enter(&policy, Stage::Infer, ms(100), &frame(100, true), &costs),
            Err(DropReason::MissedAt {
                stage: Stage::Infer
            })
        );
        assert_eq!(g, PredictionGate::new());
        // A frame that is already a probe skips the prediction.
        assert_eq!(
            g.enter(&policy, Stage::Infer, ms(50), &frame(50, true), &costs),
            Ok(Entry::Go)
        );
        assert_eq!(g, PredictionGate::new());
        // 50 + 60 > 100: the first predicted miss drops, the next one probes.
        assert_eq!(
            g.enter(&policy, Stage::Infer, ms(50), &frame(50, false), &costs),
            MISS.map(|()| Entry::Go)
        );
        assert_eq!(
            g.enter(&policy, Stage::Infer, ms(50), &frame(50, false), &costs),
            Ok(Entry::Probe)
        );
        assert_eq!(
            g.enter(&policy, Stage::Infer, ms(40), &frame(40, false), &costs),
            Ok(Entry::Go)
        );
    }
}
