//! The accounting identity `received = published + Σ dropped + in_flight` (with nothing left in
//! flight after shutdown) over thousands of frames with randomised stage delays, budgets, pool
//! sizes, queue sizes, bad inputs and engine errors (proptest; microsecond delays).

use std::sync::Arc;

use proptest::prelude::*;

#[path = "pipeline_support.rs"]
mod support;

use redline::deadline::SystemClock;
use redline::error::{DropReason, FrameError, Stage};
use redline::frame::{Lease, Pool};
use redline::pipeline::{FnStage, FrameMeta, Pipeline, StageSet};
use support::*;

/// A cheap deterministic pseudo-random number per (frame, stage).
fn mix(id: u64, salt: u64) -> u64 {
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

#[derive(Debug, Clone)]
struct Scenario {
    frames: u64,
    budget_ms: f64,
    max_delay_us: [u64; 4],
    gap_us: u64,
    frame_pool: usize,
    tensor_pool: usize,
    channel_capacity: usize,
    bad_every: u64,
    engine_error_every: u64,
    predictive: bool,
    seed: u64,
}

prop_compose! {
    fn scenario()(
        frames in 1500u64..2500,
        budget_ms in 0.2f64..5.0,
        max_delay_us in [0u64..150, 0u64..150, 0u64..300, 0u64..100],
        gap_us in 20u64..250,
        frame_pool in 2usize..5,
        tensor_pool in 1usize..4,
        channel_capacity in 1usize..4,
        bad_every in 5u64..200,
        engine_error_every in 5u64..200,
        predictive in any::<bool>(),
        seed in any::<u64>(),
    ) -> Scenario {
        Scenario {
            frames,
            budget_ms,
            max_delay_us,
            gap_us,
            frame_pool,
            tensor_pool,
            channel_capacity,
            bad_every,
            engine_error_every,
            predictive,
            seed,
        }
    }
}

fn run(sc: &Scenario) {
    let clock = Arc::new(SystemClock::new());
    let delay = move |stage: u64, id: u64, max: u64| {
        if max == 0 {
            0
        } else {
            mix(id, stage + 1) % max
        }
    };
    let seed = sc.seed;
    let d = sc.max_delay_us;
    let mut ingest = TestIngest::new(sc.frame_pool);
    ingest.delay_us = Arc::new(move |id| delay(0, id ^ seed, d[0]));
    let frames = ingest.frames.clone();
    let tensors: Pool<Vec<f32>> = Pool::new(sc.tensor_pool, |_| vec![0.0; 16]).unwrap();
    let tensors_check = tensors.clone();
    let engine_error_every = sc.engine_error_every;
    let published = Counter::default();
    let published_in_sink = published.clone();
    let stages = StageSet::single(
        ingest,
        FnStage(move |f: Lease<Vec<u8>>, _: &FrameMeta| {
            let id = frame_id(&f);
            spin_for(delay(1, id ^ seed, d[1]));
            let mut t = tensors
                .try_lease()
                .ok_or(FrameError::PoolExhausted(Stage::Preprocess))?;
            t[0] = id as f32;
            Ok((id, t))
        }),
        FnStage(move |(id, t): (u64, Lease<Vec<f32>>), _: &FrameMeta| {
            spin_for(delay(2, id ^ seed, d[2]));
            if id % engine_error_every == 0 {
                return Err(FrameError::Engine);
            }
            drop(t);
            Ok(id)
        }),
        FnStage(move |id: u64, _: &FrameMeta| {
            spin_for(delay(3, id ^ seed, d[3]));
            Ok(id)
        }),
        FnStage(move |_id: u64, _: &FrameMeta| {
            published_in_sink.add();
            Ok(())
        }),
    );
    let mut settings = settings(sc.budget_ms);
    settings.deadline.predictive = sc.predictive;
    settings.pipeline.channel_capacity = sc.channel_capacity;
    let pipeline = Pipeline::start(&settings, clock.clone(), stages).unwrap();
    for id in 0..sc.frames {
        let mut m = message_now(&*clock, id);
        m.bad = id % sc.bad_every == 0;
        pipeline.submit(m);
        // Sleep (not spin) between frames so the stage threads get the CPU.
        std::thread::sleep(std::time::Duration::from_micros(sc.gap_us));
    }
    let (summary, _) = pipeline.shutdown().unwrap();
    let a = summary.accounting;
    eprintln!(
        "published {} of {}; drops: {:?}",
        a.published,
        a.received,
        a.dropped.iter().collect::<Vec<_>>()
    );

    assert_eq!(a.received, sc.frames);
    assert_eq!(a.in_flight, 0, "{a:?}");
    assert!(a.balances(), "{a:?}");
    assert_eq!(a.published, published.get());
    assert_eq!(a.published, summary.latency.end_to_end.count());
    let bad = a.dropped.total_named("bad_input");
    assert!(bad <= sc.frames / sc.bad_every + 1);
    assert!(a.dropped.get(DropReason::EngineError) <= sc.frames / sc.engine_error_every + 1);
    if !sc.predictive {
        assert_eq!(a.dropped.total_named("predicted_miss"), 0);
    }
    // Every buffer is back in its pool.
    assert_eq!(frames.available(), frames.capacity());
    assert_eq!(tensors_check.available(), tensors_check.capacity());
    // The monitor saw every outcome the accounting saw.
    assert_eq!(summary.final_snapshot.drops, a.dropped);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn accounting_balances_under_random_delays(sc in scenario()) {
        run(&sc);
    }
}
