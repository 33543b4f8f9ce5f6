//! `redline replay [BAG]`: replay a rosbag2 recording through the real pipeline on live
//! deadlines, print the summary, write the report and the output recording. The exit status is
//! the verdict's: 0 when it passed, 1 when it did not (a gate failed, nothing was published,
//! the bag was damaged, or — without gates — the run ended at ERROR or STALE), 130 / 143 when
//! SIGINT / SIGTERM stopped it (after draining and writing the report).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use redline::replay::{self, interrupt, FaultSpec, Gates, Pacing, ReplayClock, ReplayOptions};
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
    /// Which clock runs the replay: `wall` (the stage threads on the system clock) or `virtual`
    /// (time advanced by the cost model in `virtual_clock`, or by --costs-from: the same bag,
    /// config and seed give the same report.json on any machine).
    #[arg(long, value_enum, default_value_t = ClockArg::Wall)]
    clock: ClockArg,
    /// With --clock virtual: the seed of the cost draws (default: virtual_clock.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// With --clock virtual: take each stage's cost distribution from an earlier report.json.
    #[arg(long, value_name = "REPORT_JSON")]
    costs_from: Option<PathBuf>,
    /// No progress bar (it is also off when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// `--clock`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ClockArg {
    Wall,
    Virtual,
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

pub fn run(args: ReplayArgs, config_path: PathBuf) -> anyhow::Result<ExitCode> {
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
    let clock = match (args.clock, &args.costs_from) {
        (ClockArg::Wall, None) if args.seed.is_some() => bail!("--seed needs --clock virtual"),
        (ClockArg::Wall, None) => ReplayClock::Wall,
        (ClockArg::Wall, Some(_)) => bail!("--costs-from needs --clock virtual"),
        (ClockArg::Virtual, None) => ReplayClock::Virtual(Box::new(
            replay::virtual_costs::costs_from_config(&config, args.seed),
        )),
        (ClockArg::Virtual, Some(report)) => {
            ReplayClock::Virtual(Box::new(replay::virtual_costs::costs_from_report(
                report,
                args.seed.unwrap_or(config.virtual_clock.seed),
            )?))
        }
    };
    let bag = args.bag.unwrap_or_else(sample_bag);
    replay::check_out_dir(&args.out, &bag)?;
    let opts = ReplayOptions {
        bag: bag.clone(),
        config,
        config_origin: config_path.display().to_string(),
        out_dir: args.out,
        cameras: args.topic.into_iter().chain(args.cameras).collect(),
        pacing,
        clock,
        faults,
        gates: Gates {
            max_miss_ratio: args.gate_miss_ratio,
            max_p99_ms: args.gate_p99_ms,
        },
        progress: !args.no_progress,
    };
    interrupt::install().context("cannot install the SIGINT/SIGTERM handler")?;
    let outcome =
        replay::run(&opts).with_context(|| format!("replay of {} failed", bag.display()))?;
    print!("{}", render_summary(&outcome.report));
    println!(
        "\nreport: {} and {}",
        outcome.files.json.display(),
        outcome.files.html.display()
    );
    if let Some(signal) = interrupt::requested() {
        eprintln!(
            "redline replay: interrupted by {}; the report covers the {} frames read before it",
            signal.name(),
            outcome.report.frames.received
        );
        return Ok(ExitCode::from(signal.exit_status()));
    }
    let verdict = &outcome.report.verdict;
    if !verdict.passed {
        eprintln!(
            "redline replay: {}: {}",
            verdict.badge,
            verdict.reasons.join("; ")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
