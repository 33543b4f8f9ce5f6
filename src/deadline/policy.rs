//! Deadline arithmetic (ARCHITECTURE §2): admission at ingest, the per-hop check, per-stage
//! budgets and predictive drops (with the stage a predicted miss is attributed to).
//!
//! At ingest, `age = ros_now − stamp` and `deadline = arrival + (budget − age)` on the
//! monotonic clock; every later check uses the monotonic clock only. A stamp more than
//! `max_future_ms` ahead or more than `max_age_ms` behind is `ClockSkew`; a frame whose age is
//! already ≥ the budget is `StaleOnArrival`. A stamp slightly in the future (within
//! `max_future_ms`) counts as age 0: clock jitter never buys a frame extra time.
//! A frame is on time while `now < deadline`.

use crate::config::DeadlineConfig;
use crate::deadline::clock::{ms_to_nanos, MonoTime};
use crate::deadline::cost::StageCosts;
use crate::error::{DropReason, Stage};
use crate::frame::Stamp;

/// The deadline of one admitted frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameDeadline {
    /// When the frame arrived (monotonic).
    pub arrival: MonoTime,
    /// Capture → arrival, nanoseconds (0 for stamps slightly in the future).
    pub age_at_arrival_ns: u64,
    /// The last monotonic instant (exclusive) at which the frame may be published.
    pub deadline: MonoTime,
}

impl FrameDeadline {
    /// Capture → `now` latency in nanoseconds.
    pub fn latency_at(&self, now: MonoTime) -> u64 {
        self.age_at_arrival_ns
            .saturating_add(now.nanos_since(self.arrival))
    }

    /// True once the deadline has passed.
    pub fn passed(&self, now: MonoTime) -> bool {
        now >= self.deadline
    }

    /// Nanoseconds left before the deadline (0 once passed).
    pub fn remaining_ns(&self, now: MonoTime) -> u64 {
        self.deadline.nanos_since(now)
    }
}

/// The deadline rules from `deadline.*`, in nanoseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DeadlinePolicy {
    budget_ns: u64,
    stage_budget_ns: [Option<u64>; Stage::COUNT],
    predictive: bool,
    max_future_ns: u64,
    max_age_ns: u64,
}

impl DeadlinePolicy {
    pub fn from_config(config: &DeadlineConfig) -> Self {
        Self {
            budget_ns: ms_to_nanos(config.budget_ms),
            stage_budget_ns: config.stage_budget_ms.map(|b| b.map(ms_to_nanos)),
            predictive: config.predictive,
            max_future_ns: ms_to_nanos(config.max_future_ms),
            max_age_ns: ms_to_nanos(config.max_age_ms),
        }
    }

    /// Capture → publish budget, nanoseconds.
    pub fn budget_ns(&self) -> u64 {
        self.budget_ns
    }

    /// Whether predictive drops are enabled.
    pub fn predictive(&self) -> bool {
        self.predictive
    }

    /// Admit a frame stamped `stamp` that arrived at `arrival` when the ROS clock read
    /// `ros_now`: its deadline, or why it is dropped at once.
    pub fn admit(
        &self,
        stamp: Stamp,
        ros_now: Stamp,
        arrival: MonoTime,
    ) -> Result<FrameDeadline, DropReason> {
        let age = (ros_now.as_nanos() as i128) - (stamp.as_nanos() as i128);
        if age < -(self.max_future_ns as i128) || age > self.max_age_ns as i128 {
            return Err(DropReason::ClockSkew);
        }
        let age = u64::try_from(age.max(0)).unwrap_or(u64::MAX);
        if age >= self.budget_ns {
            return Err(DropReason::StaleOnArrival);
        }
        Ok(FrameDeadline {
            arrival,
            age_at_arrival_ns: age,
            deadline: arrival.add_nanos(self.budget_ns - age),
        })
    }

    /// The check made when a frame reaches `stage`: `MissedAt{stage}` once the deadline passed.
    pub fn check_hop(
        &self,
        stage: Stage,
        now: MonoTime,
        deadline: &FrameDeadline,
    ) -> Result<(), DropReason> {
        if deadline.passed(now) {
            Err(DropReason::MissedAt { stage })
        } else {
            Ok(())
        }
    }

    /// The per-stage budget: a frame that spent longer than `stage_budget_ms[stage]` between
    /// being handed to `stage` and leaving it is `MissedAt{stage}`.
    pub fn check_stage_budget(
        &self,
        stage: Stage,
        handed_over: MonoTime,
        now: MonoTime,
    ) -> Result<(), DropReason> {
        match self.stage_budget_ns[stage.index()] {
            Some(budget) if now.nanos_since(handed_over) > budget => {
                Err(DropReason::MissedAt { stage })
            }
            _ => Ok(()),
        }
    }

    /// Predictive drop before `stage` runs: if `now` plus the expected cost of `stage` and every
    /// stage after it passes the deadline, the frame cannot make it: `PredictedMiss{stage}`.
    /// The stage named is where the time went: `stage` itself when the frame would still have
    /// fit at `handed_over` (when it was handed to `stage`) and lost the difference waiting for
    /// it — e.g. behind a slow frame there; otherwise the remaining stage with the largest
    /// expected cost (the bottleneck).
    pub fn predict(
        &self,
        stage: Stage,
        handed_over: MonoTime,
        now: MonoTime,
        deadline: &FrameDeadline,
        costs: &StageCosts,
    ) -> Result<(), DropReason> {
        if !self.predictive {
            return Ok(());
        }
        let remaining = costs.expected_from(stage);
        if now.add_nanos(remaining) <= deadline.deadline {
            return Ok(());
        }
        let waited_too_long = handed_over.add_nanos(remaining) <= deadline.deadline;
        Err(DropReason::PredictedMiss {
            stage: if waited_too_long {
                stage
            } else {
                costs.bottleneck_from(stage)
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> DeadlinePolicy {
        DeadlinePolicy::from_config(&DeadlineConfig {
            budget_ms: 100.0,
            stage_budget_ms: [None, None, Some(30.0), None, None],
            predictive: true,
            cost_percentile: 99.0,
            max_future_ms: 50.0,
            max_age_ms: 10_000.0,
        })
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn deadline_is_arrival_plus_budget_minus_age() {
        let d = policy()
            .admit(
                Stamp::new(10, 0),
                Stamp::new(10, 30_000_000),
                MonoTime::from_nanos(500 * MS),
            )
            .unwrap();
        assert_eq!(d.age_at_arrival_ns, 30 * MS);
        assert_eq!(d.deadline, MonoTime::from_nanos(570 * MS));
        assert_eq!(d.latency_at(MonoTime::from_nanos(520 * MS)), 50 * MS);
        assert_eq!(d.remaining_ns(MonoTime::from_nanos(560 * MS)), 10 * MS);
    }

    #[test]
    fn age_equal_to_budget_is_stale_and_just_below_is_admitted() {
        let p = policy();
        let arrival = MonoTime::from_nanos(0);
        assert_eq!(
            p.admit(Stamp::new(0, 0), Stamp::new(0, 100_000_000), arrival),
            Err(DropReason::StaleOnArrival)
        );
        let d = p
            .admit(Stamp::new(0, 0), Stamp::new(0, 99_999_999), arrival)
            .unwrap();
        assert_eq!(d.deadline, MonoTime::from_nanos(1));
    }

    #[test]
    fn future_and_far_past_stamps_are_clock_skew() {
        let p = policy();
        let now = Stamp::new(1000, 0);
        let arrival = MonoTime::from_nanos(0);
        // 50 ms in the future is tolerated (as age 0), 50 ms + 1 ns is not.
        let d = p
            .admit(now.offset_nanos(50 * MS as i64), now, arrival)
            .unwrap();
        assert_eq!(d.deadline, MonoTime::from_nanos(100 * MS));
        assert_eq!(
            p.admit(now.offset_nanos(50 * MS as i64 + 1), now, arrival),
            Err(DropReason::ClockSkew)
        );
        // Older than max_age: clock skew, not merely stale.
        assert_eq!(
            p.admit(now.offset_nanos(-10_001 * MS as i64), now, arrival),
            Err(DropReason::ClockSkew)
        );
        assert_eq!(
            p.admit(now.offset_nanos(-9_999 * MS as i64), now, arrival),
            Err(DropReason::StaleOnArrival)
        );
        // Extreme stamps do not overflow.
        assert_eq!(
            p.admit(
                Stamp::new(i32::MIN, 0),
                Stamp::new(i32::MAX, 999_999_999),
                arrival
            ),
            Err(DropReason::ClockSkew)
        );
    }

    #[test]
    fn hop_check_misses_exactly_at_the_deadline() {
        let p = policy();
        let d = p
            .admit(Stamp::new(0, 0), Stamp::new(0, 0), MonoTime::from_nanos(0))
            .unwrap();
        assert!(p
            .check_hop(Stage::Decode, MonoTime::from_nanos(100 * MS - 1), &d)
            .is_ok());
        assert_eq!(
            p.check_hop(Stage::Decode, MonoTime::from_nanos(100 * MS), &d),
            Err(DropReason::MissedAt {
                stage: Stage::Decode
            })
        );
    }

    #[test]
    fn stage_budget_applies_only_where_configured() {
        let p = policy();
        let t0 = MonoTime::from_nanos(0);
        assert!(p
            .check_stage_budget(Stage::Infer, t0, MonoTime::from_nanos(30 * MS))
            .is_ok());
        assert_eq!(
            p.check_stage_budget(Stage::Infer, t0, MonoTime::from_nanos(30 * MS + 1)),
            Err(DropReason::MissedAt {
                stage: Stage::Infer
            })
        );
        assert!(p
            .check_stage_budget(Stage::Decode, t0, MonoTime::from_nanos(99 * MS))
            .is_ok());
    }

    #[test]
    fn prediction_sums_the_remaining_stages() {
        let p = policy();
        let costs = StageCosts::new();
        costs.set_expected(Stage::Infer, 40 * MS);
        costs.set_expected(Stage::Decode, 10 * MS);
        let d = p
            .admit(Stamp::new(0, 0), Stamp::new(0, 0), MonoTime::from_nanos(0))
            .unwrap();
        let at = MonoTime::from_nanos;
        // At 49 ms: 49 + 40 + 10 = 99 ≤ 100 → fits.
        assert!(p
            .predict(Stage::Infer, at(49 * MS), at(49 * MS), &d, &costs)
            .is_ok());
        assert_eq!(
            p.predict(Stage::Infer, at(51 * MS), at(51 * MS), &d, &costs),
            Err(DropReason::PredictedMiss {
                stage: Stage::Infer
            })
        );
        // After infer, only decode's cost remains.
        assert!(p
            .predict(Stage::Decode, at(89 * MS), at(89 * MS), &d, &costs)
            .is_ok());
    }

    #[test]
    fn a_predicted_miss_names_the_stage_where_the_time_went() {
        let p = policy();
        let costs = StageCosts::new();
        costs.set_expected(Stage::Preprocess, 2 * MS);
        costs.set_expected(Stage::Infer, 40 * MS);
        let d = p
            .admit(Stamp::new(0, 0), Stamp::new(0, 0), MonoTime::from_nanos(0))
            .unwrap();
        let at = MonoTime::from_nanos;
        // Handed to preprocess at 10 ms (10 + 42 fits), still waiting for it at 70 ms: the
        // time went waiting for preprocess, not in infer.
        assert_eq!(
            p.predict(Stage::Preprocess, at(10 * MS), at(70 * MS), &d, &costs),
            Err(DropReason::PredictedMiss {
                stage: Stage::Preprocess
            })
        );
        // Handed over at 60 ms, when 60 + 42 already did not fit: the bottleneck ahead.
        assert_eq!(
            p.predict(Stage::Preprocess, at(60 * MS), at(70 * MS), &d, &costs),
            Err(DropReason::PredictedMiss {
                stage: Stage::Infer
            })
        );
    }
}
