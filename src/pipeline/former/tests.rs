//! The former's rules on a manual clock: batches never break a deadline by their own cost,
//! holds never break a deadline, the least critical camera loses first, and the baselines
//! (fifo, timeout) behave as the systems they stand for.

use proptest::prelude::*;

use super::*;
use crate::deadline::cost::MIN_COST_SAMPLES;

const MS: u64 = 1_000_000;

fn t(ms: u64) -> MonoTime {
    MonoTime::from_nanos(ms * MS)
}

fn former(policy: BatchPolicyKind, max_batch: usize, cameras: usize, hold: bool) -> BatchFormer {
    BatchFormer::new(FormerSettings {
        batching: BatchingConfig {
            policy,
            hold,
            timeout_ms: 20.0,
        },
        max_batch,
        cameras,
        predictive: true,
        cost_percentile: 99.0,
        criticalities: vec![0; cameras],
    })
}

/// Teach the former `cost(b) = fixed + per_row × b` for every size.
fn teach(f: &mut BatchFormer, fixed_ms: u64, per_row_ms: u64) {
    for b in 1..=f.max_batch() {
        for _ in 0..MIN_COST_SAMPLES {
            f.record(b, (fixed_ms + per_row_ms * b as u64) * MS, None);
        }
    }
}

fn cand(camera: u16, seq: u64, deadline_ms: u64, criticality: i32) -> Candidate {
    Candidate {
        camera: CameraId(camera),
        seq,
        deadline: t(deadline_ms),
        criticality,
        ready_at: t(0),
        probe: false,
    }
}

#[test]
fn the_largest_batch_that_meets_the_earliest_deadline_runs() {
    let mut f = former(BatchPolicyKind::Edf, 8, 4, false);
    teach(&mut f, 4, 2); // cost(b) = 4 + 2b ms
    let c = [
        cand(0, 0, 13, 0),
        cand(1, 1, 100, 0),
        cand(2, 2, 100, 0),
        cand(3, 3, 100, 0),
    ];
    let mut plan = Plan::with_capacity(4);
    // At t=0: cost(4) = 12 < 13 → all four.
    assert_eq!(f.plan(t(0), &c, &mut plan), Decision::Run);
    assert_eq!(plan.run.len(), 4);
    assert_eq!(plan.run[0], 0, "earliest deadline in row 0");
    // At t=2: 2 + cost(3) = 12 < 13 but 2 + cost(4) = 14 ≥ 13 → three now, one later.
    assert_eq!(f.plan(t(2), &c, &mut plan), Decision::Run);
    assert_eq!(plan.run, vec![0, 1, 2]);
    assert!(plan.drop.is_empty());
}

#[test]
fn a_frame_that_cannot_make_it_alone_is_dropped_before_the_engine() {
    let mut f = former(BatchPolicyKind::Edf, 4, 2, false);
    teach(&mut f, 10, 0);
    let c = [cand(0, 0, 9, 0), cand(1, 1, 50, 0)];
    let mut plan = Plan::with_capacity(2);
    assert_eq!(f.plan(t(0), &c, &mut plan), Decision::Run);
    assert_eq!(plan.drop, vec![(0, PREDICTED_MISS_AT_INFER)]);
    assert_eq!(plan.run, vec![1]);
}

#[test]
fn under_overload_the_lowest_criticality_goes_first_then_the_latest_deadline() {
    let mut f = former(BatchPolicyKind::Edf, 1, 3, false);
    teach(&mut f, 10, 0); // one row per run, 10 ms each
                          // Three frames, each fits alone, but only two runs fit before 25 ms.
    let c = [cand(0, 0, 25, 5), cand(1, 1, 24, 0), cand(2, 2, 23, 9)];
    let mut plan = Plan::with_capacity(3);
    assert_eq!(f.plan(t(0), &c, &mut plan), Decision::Run);
    assert_eq!(plan.drop, vec![(1, PREDICTED_MISS_AT_INFER)]);
    assert_eq!(
        plan.run,
        vec![2],
        "earliest deadline of the survivors runs first"
    );
    // Same criticality everywhere: the latest deadline goes.
    let c = [cand(0, 0, 25, 0), cand(1, 1, 24, 0), cand(2, 2, 23, 0)];
    assert_eq!(f.plan(t(0), &c, &mut plan), Decision::Run);
    assert_eq!(plan.drop, vec![(0, PREDICTED_MISS_AT_INFER)]);
}

#[test]
fn holds_for_a_frame_about_to_arrive_only_when_it_pays_and_is_safe() {
    let mut f = former(BatchPolicyKind::Edf, 4, 3, true);
    teach(&mut f, 8, 1); // cost(b) = 8 + b: a merge saves 8 ms of engine time
                         // Camera 2 is ready every 33 ms, last at 33 → next expected at 66.
    f.on_ready(CameraId(2), t(0), t(100));
    f.on_ready(CameraId(2), t(33), t(133));
    let mut plan = Plan::with_capacity(3);
    let c = [cand(0, 0, 200, 0)];
    // At 64: 2 ms away; the frame waiting pays 2 + 1 ms, the newcomer saves 8 − 2 → hold.
    match f.plan(t(64), &c, &mut plan) {
        Decision::Wait { until: Some(u) } => {
            assert!(u >= t(66) && u < t(200 - 10), "{u:?}");
        }
        d => panic!("expected a hold, got {d:?}"),
    }
    // At 61: 5 ms away; 5 + 1 ≥ 8 − 5: everyone is better off running now.
    assert_eq!(f.plan(t(61), &c, &mut plan), Decision::Run);
    // Two frames waiting at 64: each would pay 3 ms, 2 × 3 ≥ 6 saved → run now.
    let two = [cand(0, 0, 200, 0), cand(1, 1, 200, 0)];
    assert_eq!(f.plan(t(64), &two, &mut plan), Decision::Run);
    // A tight deadline forbids the hold: 66 + cost(2) = 76 ≥ 75.
    let tight = [cand(0, 0, 75, 0)];
    assert_eq!(f.plan(t(64), &tight, &mut plan), Decision::Run);
}

#[test]
fn fifo_runs_one_frame_in_ready_order() {
    let mut f = former(BatchPolicyKind::Fifo, 8, 3, true);
    let mut c = [cand(0, 5, 10, 0), cand(1, 6, 5, 0), cand(2, 7, 1, 0)];
    c[0].ready_at = t(3);
    c[1].ready_at = t(1);
    c[2].ready_at = t(2);
    let mut plan = Plan::with_capacity(3);
    assert_eq!(f.plan(t(4), &c, &mut plan), Decision::Run);
    assert_eq!(plan.run, vec![1]);
    assert!(plan.drop.is_empty(), "fifo knows nothing of deadlines");
}

#[test]
fn timeout_pushes_full_batches_at_once_and_partial_ones_after_the_timeout() {
    let mut f = former(BatchPolicyKind::Timeout, 4, 3, false);
    let mut plan = Plan::with_capacity(3);
    let mut c = [cand(2, 0, 100, 0), cand(0, 1, 100, 0)];
    c[0].ready_at = t(5);
    c[1].ready_at = t(7);
    assert_eq!(
        f.plan(t(10), &c, &mut plan),
        Decision::Wait { until: Some(t(25)) }
    );
    assert_eq!(f.plan(t(25), &c, &mut plan), Decision::Run);
    // Round-robin from camera 0.
    assert_eq!(plan.run, vec![1, 0]);
    let full = [cand(0, 2, 100, 0), cand(1, 3, 100, 0), cand(2, 4, 100, 0)];
    assert_eq!(f.plan(t(26), &full, &mut plan), Decision::Run);
    assert_eq!(plan.run.len(), 3);
    assert_eq!(f.stats().runs_of(2), 1);
    assert_eq!(f.stats().runs_of(3), 1);
    assert_eq!(f.stats().holds(), 1);
}

#[test]
fn probes_follow_a_run_of_predicted_misses() {
    let mut f = former(BatchPolicyKind::Edf, 2, 1, false);
    teach(&mut f, 100, 0); // inflated by a stall: every frame looks doomed
    let mut plan = Plan::with_capacity(1);
    // As at every stage's gate: the first doomed frame is dropped, the second probes.
    {
        let c = [cand(0, 0, 50, 0)];
        assert_eq!(f.plan(t(0), &c, &mut plan), Decision::Wait { until: None });
        assert_eq!(plan.drop.len(), 1);
    }
    let c = [cand(0, 99, 50, 0)];
    assert_eq!(f.plan(t(0), &c, &mut plan), Decision::Run);
    assert!(plan.probe);
    assert_eq!(f.stats().probes(), 1);
}

fn arb_candidates() -> impl Strategy<Value = Vec<(u64, i32)>> {
    prop::collection::vec((1u64..200, -3i32..3), 1..10)
}

proptest! {
    /// Whatever the deadlines, costs and criticalities: every frame edf runs meets its deadline
    /// by the learned cost of the batch it runs in, and a hold never breaks a deadline.
    #[test]
    fn edf_never_schedules_a_batch_or_a_hold_that_breaks_a_deadline(
        frames in arb_candidates(),
        fixed in 0u64..30,
        per_row in 0u64..10,
        max_batch in 1usize..8,
        now_ms in 0u64..50,
        period in 5u64..60,
    ) {
        let cameras = frames.len() + 1;
        let mut f = former(BatchPolicyKind::Edf, max_batch, cameras, true);
        teach(&mut f, fixed, per_row);
        // The last camera (no frame waiting) is about to deliver.
        let now_ms = 200 + now_ms;
        let extra = CameraId::at(frames.len());
        f.on_ready(extra, t(now_ms - period / 2 - period), t(now_ms + 500));
        f.on_ready(extra, t(now_ms - period / 2), t(now_ms + 500));
        let c: Vec<Candidate> = frames
            .iter()
            .enumerate()
            .map(|(i, (d, crit))| cand(i as u16, i as u64, now_ms + d, *crit))
            .collect();
        let mut plan = Plan::with_capacity(cameras);
        let now = t(now_ms);
        match f.plan(now, &c, &mut plan) {
            Decision::Run => {
                let b = plan.run.len();
                prop_assert!(b >= 1 && b <= max_batch);
                if !plan.probe {
                    let finish = now.add_nanos(f.cost(b));
                    for &i in &plan.run {
                        prop_assert!(finish < c[i].deadline, "row {i} breaks its deadline");
                    }
                }
                for (i, _) in &plan.drop {
                    prop_assert!(!plan.run.contains(i));
                }
            }
            Decision::Wait { until: Some(until) } => {
                // After waiting, even with one more row the batch still meets every deadline.
                let live: Vec<usize> = (0..c.len())
                    .filter(|i| !plan.drop.iter().any(|(d, _)| d == i))
                    .collect();
                let worst = until.add_nanos(f.cost(live.len() + 1));
                for i in live {
                    prop_assert!(worst < c[i].deadline, "hold breaks frame {i}");
                }
            }
            Decision::Wait { until: None } => {
                prop_assert_eq!(plan.drop.len(), c.len(), "waits with nothing only when all dropped");
            }
        }
    }

    /// Under overload with one row per run, a frame is dropped only if it could not make it
    /// alone, or every kept frame less critical than it has a later deadline (it does not
    /// compete for the same engine time).
    #[test]
    fn overload_drops_the_least_critical_first(frames in arb_candidates(), cost in 5u64..40) {
        let mut f = former(BatchPolicyKind::Edf, 1, frames.len(), false);
        teach(&mut f, cost, 0);
        let c: Vec<Candidate> = frames
            .iter()
            .enumerate()
            .map(|(i, (d, crit))| cand(i as u16, i as u64, cost + d, *crit))
            .collect();
        let mut plan = Plan::with_capacity(c.len());
        f.plan(t(0), &c, &mut plan);
        let kept: Vec<usize> = (0..c.len())
            .filter(|i| !plan.drop.iter().any(|(d, _)| d == i))
            .collect();
        for (d, _) in &plan.drop {
            let alone = t(0).add_nanos(f.cost(1)) >= c[*d].deadline;
            for &k in &kept {
                prop_assert!(
                    alone || c[k].criticality >= c[*d].criticality || c[k].deadline >= c[*d].deadline,
                    "dropped frame {} (criticality {}) while frame {} (criticality {}, earlier deadline) was kept",
                    d, c[*d].criticality, k, c[k].criticality
                );
            }
        }
    }
}
