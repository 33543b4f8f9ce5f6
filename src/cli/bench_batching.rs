//! `redline bench batching`: one batching policy on N synthetic cameras sharing one engine, on
//! the virtual clock; prints the miss ratio, latency tails and mean batch (JSON with `--json`).

use anyhow::{anyhow, bail};
use clap::Args;

use redline::bench::batching::{self, BatchingBench};
use redline::config::{BatchPolicyKind, CostSpec};

/// Arguments of `redline bench batching`.
#[derive(Debug, Args)]
pub struct BatchingArgs {
    /// Number of cameras.
    #[arg(long, default_value_t = 8)]
    cameras: usize,
    /// Frames per second of each camera (phases staggered across the period).
    #[arg(long, default_value_t = 30.0)]
    rate: f64,
    /// Capture → publish budget of every frame, milliseconds.
    #[arg(long, default_value_t = 50.0)]
    budget_ms: f64,
    /// Cost of one engine run over b rows, e.g. "4ms+1.5ms*b±10%".
    #[arg(long, default_value = "4ms+1.5ms*b±10%")]
    engine_cost: String,
    /// fifo (one node per camera sharing the engine), timeout (nvstreammux-style), edf (redline).
    #[arg(long, default_value = "edf")]
    policy: String,
    /// Rows one engine run takes (edf, timeout; default: the number of cameras).
    #[arg(long)]
    max_batch: Option<usize>,
    /// The timeout policy's push timeout, milliseconds (default: one camera period).
    #[arg(long)]
    timeout_ms: Option<f64>,
    /// Virtual seconds to simulate.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// edf: never hold a batch open for a frame about to arrive.
    #[arg(long)]
    no_hold: bool,
    /// Percentile of measured engine costs the former plans with (deadline.cost_percentile).
    #[arg(long, default_value_t = 99.0)]
    cost_percentile: f64,
    /// Seed of the cost draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON: miss_ratio, p50_ms, p99_ms, max_ms, mean_batch, per_camera[…].
    #[arg(long)]
    json: bool,
}

pub fn run(args: BatchingArgs) -> anyhow::Result<()> {
    let policy = BatchPolicyKind::parse(&args.policy)
        .ok_or_else(|| anyhow!("--policy {:?}: must be fifo, timeout or edf", args.policy))?;
    if !(1..=redline::config::MAX_CAMERAS).contains(&args.cameras) {
        bail!(
            "--cameras {}: must be 1 to {}",
            args.cameras,
            redline::config::MAX_CAMERAS
        );
    }
    for (name, v, max) in [
        ("--rate", args.rate, 1000.0),
        ("--budget-ms", args.budget_ms, 60_000.0),
        ("--seconds", args.seconds, 3600.0),
    ] {
        if !(v.is_finite() && v > 0.0 && v <= max) {
            bail!("{name} {v}: must be a number > 0 and ≤ {max}");
        }
    }
    let engine_cost = CostSpec::parse(&args.engine_cost)?;
    let timeout_ms = args.timeout_ms.unwrap_or(1000.0 / args.rate);
    if !(timeout_ms.is_finite() && timeout_ms > 0.0) {
        bail!("--timeout-ms {timeout_ms}: must be a number > 0");
    }
    let result = batching::run(&BatchingBench {
        cameras: args.cameras,
        rate_hz: args.rate,
        budget_ms: args.budget_ms,
        engine_cost,
        policy,
        max_batch: args.max_batch.unwrap_or(args.cameras).clamp(1, 64),
        timeout_ms,
        seconds: args.seconds,
        seed: args.seed,
        hold: !args.no_hold,
        cost_percentile: args.cost_percentile.clamp(1.0, 100.0),
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        let o = &result.overall;
        println!(
            "{} cameras at {} Hz, budget {} ms, engine {}, policy {}: miss ratio {:.2} %, \
             p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, mean batch {:.2}",
            result.cameras,
            result.rate_hz,
            result.budget_ms,
            result.engine_cost,
            result.policy,
            o.miss_ratio * 100.0,
            o.p50_ms,
            o.p99_ms,
            o.max_ms,
            result.mean_batch
        );
        for (i, c) in result.per_camera.iter().enumerate() {
            println!(
                "  cam{i}: {}/{} published, miss ratio {:.2} %, p99 {:.1} ms",
                c.published,
                c.delivered,
                c.miss_ratio * 100.0,
                c.p99_ms
            );
        }
    }
    Ok(())
}
