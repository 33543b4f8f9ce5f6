//! The soak: the bundled sample bag looped at its recorded rate (10 Hz) through the real node
//! stages (CDR ingest, JPEG decode, fused preprocessing, tract SSDLite, decode + NMS, a sink
//! that serialises `vision_msgs/Detection2DArray`) on the system clock, for a bounded time,
//! with random faults drawn from a seeded generator: engine stalls and engine errors (through
//! the replay's fault injector), truncated messages (`bad_input`), stamps jumping back
//! (`stale_on_arrival`) and into the future (`clock_skew`), bursts (frames back to back) and
//! sensor pauses. Checked: the process's resident memory is flat after warm-up (sampled every
//! second), every frame submitted is accounted for at the end, and the drops are the faults'.
//!
//! Ignored by default (it runs for minutes): `scripts/soak.sh [SECONDS]`, or
//! `REDLINE_SOAK_SECONDS=600 cargo test --release --test soak -- --ignored --nocapture`.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::perception::CountingSink;
use redline::bag::Bag;
use redline::deadline::{Clock, SystemClock};
use redline::frame::Stamp;
use redline::infer::{load_warm, EngineFault, FaultKind};
use redline::pipeline::{Pipeline, PipelineSettings};
use redline::stages;
use redline::Config;

/// A small seeded generator (xorshift64*): the same faults for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 1.0 < p
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Resident set size of this process, bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// What the generator did, to compare with the accounting.
#[derive(Default, Debug)]
struct Injected {
    truncated: u64,
    stamps_back: u64,
    stamps_future: u64,
    bursts: u64,
    pauses: u64,
}

#[test]
#[ignore = "runs for minutes: scripts/soak.sh [SECONDS]"]
fn looped_sample_with_random_faults_keeps_memory_flat_and_accounting_balanced() {
    let seconds: u64 = std::env::var("REDLINE_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("REDLINE_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let bag = Bag::open(&common::repo().join("data/sample")).unwrap();
    let topic = bag.topics()[0].name.clone();
    let frames: Vec<Vec<u8>> = bag.messages(&topic).map(|m| m.unwrap().data).collect();
    assert_eq!(frames.len(), 45);

    let mut rng = Rng(seed.max(1));
    // Engine faults on about 2 % of the frames: stalls of 50–400 ms, and errors.
    let total = seconds * 10 + 100;
    let mut schedule = Vec::new();
    let mut seq = 0;
    while seq < total {
        seq += 20 + rng.below(80);
        let len = 1 + rng.below(3);
        let kind = if rng.chance(0.3) {
            FaultKind::Error
        } else {
            FaultKind::Delay(Duration::from_millis(50 + rng.below(350)))
        };
        schedule.push(EngineFault {
            frames: seq..seq + len,
            kind,
        });
    }
    let engine_faults = schedule.len();

    let mut config = Config::load(&Config::default_path()).unwrap();
    config.pipeline.lock_memory = false;
    // A debug build's tract is slow; the budget is about the rules, not the machine.
    config.deadline.budget_ms = if cfg!(debug_assertions) {
        2000.0
    } else {
        300.0
    };
    let engine = load_warm(&config.model, schedule).unwrap();
    let sink = CountingSink::new(config.model.class_names.clone());
    let published = sink.frames.clone();
    let stage_set = stages::build::<Vec<u8>, _>(&config, engine, sink);
    let clock = Arc::new(SystemClock::new());
    let pipeline = Pipeline::start(
        &PipelineSettings::from_config(&config),
        clock.clone(),
        stage_set,
    )
    .unwrap();

    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let warm_until = start + Duration::from_secs((seconds / 5).max(5));
    let mut injected = Injected::default();
    let mut submitted = 0u64;
    let mut rss_at_warm: Option<u64> = None;
    let mut rss_max_after = 0u64;
    let mut next_sample = start;
    let mut due = start;
    let mut k = 0usize;
    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_sample {
            let rss = rss_bytes();
            if now >= warm_until {
                rss_at_warm.get_or_insert(rss);
                rss_max_after = rss_max_after.max(rss);
            }
            next_sample += Duration::from_secs(1);
        }
        if now < due {
            std::thread::sleep((due - now).min(Duration::from_millis(5)));
            continue;
        }
        due += Duration::from_millis(100);
        if rng.chance(0.005) {
            // The camera pauses for 0.6–1.5 s (past the 500 ms sensor timeout).
            injected.pauses += 1;
            due += Duration::from_millis(600 + rng.below(900));
            continue;
        }
        let burst = if rng.chance(0.01) {
            injected.bursts += 1;
            3 + rng.below(5) as usize
        } else {
            1
        };
        for _ in 0..burst {
            let mut message = frames[k % frames.len()].clone();
            k += 1;
            let mut stamp = clock.ros_now();
            if rng.chance(0.01) {
                injected.stamps_back += 1;
                stamp = Stamp::from_nanos(stamp.as_nanos() - 3_000_000_000);
            } else if rng.chance(0.005) {
                injected.stamps_future += 1;
                stamp = Stamp::from_nanos(stamp.as_nanos() + 3_000_000_000);
            }
            message[4..8].copy_from_slice(&stamp.sec.to_le_bytes());
            message[8..12].copy_from_slice(&stamp.nanosec.to_le_bytes());
            if rng.chance(0.01) {
                injected.truncated += 1;
                let keep = 16 + rng.below(message.len() as u64 / 2) as usize;
                message.truncate(keep);
            }
            pipeline.submit(message);
            submitted += 1;
        }
    }
    let (summary, _) = pipeline.shutdown().unwrap();
    let a = summary.accounting;
    let rss_at_warm = rss_at_warm.unwrap_or(0);
    let drops: Vec<String> = a
        .dropped
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    let growth = rss_max_after.saturating_sub(rss_at_warm);
    eprintln!(
        "SOAK {seconds} s (seed {seed}, {} build): {submitted} frames submitted, {} published, \
         dropped [{}]; injected {injected:?} and {engine_faults} engine fault ranges; RSS {:.1} MiB \
         after warm-up, max {:.1} MiB after (growth {:.2} MiB); final level {}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        a.published,
        drops.join(", "),
        rss_at_warm as f64 / 1048576.0,
        rss_max_after as f64 / 1048576.0,
        growth as f64 / 1048576.0,
        summary.final_level.name(),
    );
    assert_eq!(a.received, submitted, "{a:?}");
    assert!(a.balances() && a.in_flight == 0, "{a:?}");
    assert_eq!(a.published, published.load(Ordering::SeqCst));
    assert!(a.published > submitted / 2, "{a:?}");
    // Every truncated message is a counted bad input unless a newer frame superseded it before
    // it was parsed (in a burst); likewise stamps moved back (stale on arrival) and into the
    // future (clock skew).
    let superseded = a.dropped.total_named("superseded");
    let bad = a.dropped.total_named("bad_input");
    assert!(bad <= injected.truncated, "{drops:?}");
    assert!(bad + superseded >= injected.truncated, "{drops:?}");
    assert!(a.dropped.total_named("stale_on_arrival") <= injected.stamps_back);
    assert!(a.dropped.total_named("clock_skew") <= injected.stamps_future);
    assert!(
        growth < 16 * 1024 * 1024,
        "RSS grew {growth} bytes after warm-up ({rss_at_warm} → {rss_max_after})"
    );
}
