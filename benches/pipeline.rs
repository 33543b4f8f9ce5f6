//! Hand-over latency of the deadline pipeline with trivial work.
//!
//! * `hop/crossbeam_bounded`: one stage-to-stage hop over the bounded channel used between
//!   preprocess → infer → decode → publish (payload: a `FrameMeta`-sized frame), thread to
//!   thread, timed send → receive.
//! * `pipeline/five_stage_round_trip`: `Pipeline::submit` → the publish stage ran, through all
//!   five stage threads with every deadline check, the accounting and the monitor active.
//!
//! Criterion reports means; the per-frame distributions (p50/p99) of each hop inside the
//! running pipeline — time from a stage handing a frame over to the next stage starting its
//! work, entry checks included — and of submit → publish are recorded in hdrhistograms and
//! printed at the end.
//!
//! Run: `CARGO_TARGET_DIR=/work/targets/bench cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 2`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "../tests/pipeline_support.rs"]
mod pipeline_support;

use redline::deadline::{Clock, LatencyHistogram, SystemClock};
use redline::error::FrameError;
use redline::frame::Stamp;
use redline::pipeline::{
    FnStage, FrameHeader, FrameMeta, IngestStage, Pipeline, PipelineSettings, StageSet,
};

/// The pipeline tests' settings, with a budget no hop can miss.
fn settings() -> PipelineSettings {
    pipeline_support::settings(10_000.0)
}

struct StampOnly;

impl IngestStage for StampOnly {
    type Message = Stamp;
    type Frame = u64;
    fn header(&mut self, stamp: &Stamp) -> Result<FrameHeader, FrameError> {
        Ok(FrameHeader {
            stamp: *stamp,
            ..Default::default()
        })
    }
    fn load(&mut self, _stamp: Stamp, meta: &FrameMeta) -> Result<u64, FrameError> {
        Ok(meta.seq)
    }
}

type Hist = Arc<Mutex<LatencyHistogram>>;

fn hist() -> Hist {
    Arc::new(Mutex::new(LatencyHistogram::new()))
}

fn record(h: &Hist, ns: u64) {
    if let Ok(mut h) = h.lock() {
        h.record_ns(ns);
    }
}

fn print(name: &str, h: &LatencyHistogram) {
    let s = h.summary();
    println!(
        "{name:<34} n={:<8} p50={:>8.2} µs  p99={:>8.2} µs  p99.9={:>8.2} µs  max={:>9.2} µs",
        s.count,
        s.p50_ns as f64 / 1e3,
        s.p99_ns as f64 / 1e3,
        s.p999_ns as f64 / 1e3,
        s.max_ns as f64 / 1e3
    );
}

fn bench_hop(c: &mut Criterion) {
    // A payload the size of what moves between stages (metadata + a lease).
    type Payload = ([u8; 192], Instant);
    let (tx, rx) = crossbeam::channel::bounded::<Payload>(2);
    let (back_tx, back_rx) = crossbeam::channel::bounded::<Duration>(2);
    let echo = std::thread::spawn(move || {
        while let Ok((_, sent)) = rx.recv() {
            if back_tx.send(sent.elapsed()).is_err() {
                break;
            }
        }
    });
    let hop = hist();
    let hop_in_bench = Arc::clone(&hop);
    c.bench_function("hop/crossbeam_bounded", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = tx.send(([0u8; 192], Instant::now()));
                if let Ok(one_way) = back_rx.recv() {
                    total += one_way;
                    record(&hop_in_bench, one_way.as_nanos() as u64);
                }
            }
            total
        })
    });
    drop(tx);
    let _ = echo.join();
    if let Ok(h) = hop.lock() {
        print("hop crossbeam bounded (one way)", &h);
    };
}

fn bench_pipeline(c: &mut Criterion) {
    let clock = Arc::new(SystemClock::new());
    let hops: [Hist; 4] = std::array::from_fn(|_| hist());
    let end_to_end = hist();
    let published = Arc::new(AtomicU64::new(0));
    let waiting = |h: &Hist, clock: &Arc<SystemClock>| {
        let (h, clock) = (Arc::clone(h), Arc::clone(clock));
        move |x: u64, meta: &FrameMeta| {
            record(&h, clock.now().nanos_since(meta.handoff));
            Ok(x)
        }
    };
    let (sink_hist, sink_clock, sink_count) = (
        Arc::clone(&hops[3]),
        Arc::clone(&clock),
        Arc::clone(&published),
    );
    let stages = StageSet::single(
        StampOnly,
        FnStage(waiting(&hops[0], &clock)),
        FnStage(waiting(&hops[1], &clock)),
        FnStage(waiting(&hops[2], &clock)),
        FnStage(move |_x: u64, meta: &FrameMeta| {
            record(&sink_hist, sink_clock.now().nanos_since(meta.handoff));
            sink_count.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }),
    );
    let pipeline = Pipeline::start(&settings(), clock.clone(), stages).expect("start");
    let e2e = Arc::clone(&end_to_end);
    c.bench_function("pipeline/five_stage_round_trip", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let before = published.load(Ordering::SeqCst);
                let start = Instant::now();
                pipeline.submit(clock.ros_now());
                while published.load(Ordering::SeqCst) == before {
                    std::thread::yield_now();
                }
                let took = start.elapsed();
                total += took;
                record(&e2e, took.as_nanos() as u64);
            }
            total
        })
    });
    let (summary, _) = pipeline.shutdown().expect("shutdown");
    assert!(summary.accounting.balances());
    println!(
        "frames: received {} published {} dropped {}",
        summary.accounting.received,
        summary.accounting.published,
        summary.accounting.dropped.total()
    );
    let names = [
        "hop ingest → preprocess (slot)",
        "hop preprocess → infer (channel)",
        "hop infer → decode (channel)",
        "hop decode → publish (channel)",
    ];
    for (name, h) in names.iter().zip(&hops) {
        if let Ok(h) = h.lock() {
            print(name, &h);
        }
    }
    if let Ok(h) = end_to_end.lock() {
        print("submit → published (5 stages)", &h);
    };
}

criterion_group!(benches, bench_hop, bench_pipeline);
criterion_main!(benches);
