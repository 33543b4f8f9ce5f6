//! `redline replay [BAG]`: replay a rosbag2 recording through the real pipeline on live
//! deadlines, print the summary, write the report and the output recording, and fail (exit
//! status 1) when a gate fails or the bag was damaged.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;

use redline::replay::{self, FaultSpec, Gates, Pacing, ReplayOptions};
use redline::report::render_summary;
use redline::Config;

/// Arguments of `redline replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// rosbag2 directory or .mcap/.db3 file (default: the bundled sample bag, data/sample).
    bag: Option<PathBuf>,
    /// Config file (default: config/redline.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output directory for report.json, report.html, output.mcap and metadata.yaml.
    #[arg(long, default_value = "out/replay")]
    out: PathBuf,
    /// Image topic to replay as a camera (repeatable; default: the configured cameras present
    /// in the bag, else every image topic, each a camera named after its topic).
    #[arg(long = "camera", value_name = "TOPIC")]
    cameras: Vec<String>,
    /// One image topic to replay (the same as a single --camera).
    #[arg(long, conflicts_with = "cameras")]
    topic: Option<String>,
    /// Play at R × the recorded rate (0.001 to 1000).
    #[arg(long, conflicts_with = "max_speed", allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Play as fast as the pipeline takes frames (stamps are the delivery times).
    #[arg(long)]
    max_speed: bool,
    /// Inject a fault (repeatable): infer:delay=120ms,frames=20..40 · infer:error,frames=50..52 ·
    /// sensor:silence=2s,at=5s · sensor:burst=5,at=3s · stamp:jump=-3s,frame=10
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,
    /// Fail when deadline misses / frames received exceeds X.
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    gate_miss_ratio: Option<f64>,
    /// Fail when the end-to-end p99 latency exceeds Y milliseconds.
    #[arg(long, value_name = "Y", allow_negative_numbers = true)]
    gate_p99_ms: Option<f64>,
    /// No progress bar (it is also off when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

impl ReplayArgs {
    /// The `--config` given, if any.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config.clone()
    }
}

/// The bag replayed when none is given.
fn sample_bag() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("sample")
}

pub fn run(args: ReplayArgs, config_path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&config_path)?;
    let faults = args
        .faults
        .iter()
        .map(|s| FaultSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let pacing = match (args.rate, args.max_speed) {
        (_, true) => Pacing::MaxSpeed,
        (Some(r), false) => Pacing::rate(r).map_err(anyhow::Error::msg)?,
        (None, false) => Pacing::Recorded,
    };
    for (name, value) in [
        ("--gate-miss-ratio", args.gate_miss_ratio),
        ("--gate-p99-ms", args.gate_p99_ms),
    ] {
        if let Some(v) = value {
            if !v.is_finite() || v < 0.0 {
                bail!("{name} {v}: must be a number ≥ 0");
            }
        }
    }
    let bag = args.bag.unwrap_or_else(sample_bag);
    replay::check_out_dir(&args.out, &bag)?;
    let opts = ReplayOptions {
        bag: bag.clone(),
        config,
        config_origin: config_path.display().to_string(),
        out_dir: args.out,
        cameras: args.topic.into_iter().chain(args.cameras).collect(),
        pacing,
        faults,
        gates: Gates {
            max_miss_ratio: args.gate_miss_ratio,
            max_p99_ms: args.gate_p99_ms,
        },
        progress: !args.no_progress,
    };
    let outcome =
        replay::run(&opts).with_context(|| format!("replay of {} failed", bag.display()))?;
    print!("{}", render_summary(&outcome.report));
    println!(
        "\nreport: {} and {}",
        outcome.files.json.display(),
        outcome.files.html.display()
    );
    let failed: Vec<String> = outcome
        .report
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("gate {} failed: {:.4} > {:.4}", g.name, g.actual, g.limit))
        .chain(outcome.report.errors.iter().cloned())
        .collect();
    if !failed.is_empty() {
        bail!("replay did not pass:\n  {}", failed.join("\n  "));
    }
    Ok(())
}
