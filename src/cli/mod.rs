//! Subcommand definitions (clap derive), dispatch, and how an error is shown. `anyhow` lives
//! only at this edge.

mod bench;
mod bench_batching;
mod bench_infer;
mod check;
mod detect;
mod engine;
mod replay;

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// redline: a camera perception node that answers on time or not at all.
#[derive(Debug, Parser)]
#[command(name = "redline", version, about)]
pub struct Cli {
    /// Verbose: info logs, and a backtrace with an error.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a rosbag2 recording through the pipeline on live deadlines and report.
    Replay {
        #[command(flatten)]
        args: replay::ReplayArgs,
    },
    /// Detect objects in one image file (JPEG/PNG) and print them.
    Detect {
        /// The image file.
        image: PathBuf,
        /// Config file (default: config/redline.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print JSON: [{"class", "score", "box_xyxy": [x1, y1, x2, y2]}] in source pixels.
        #[arg(long)]
        json: bool,
    },
    /// Validate the config and the model contract; print what was checked.
    Check {
        /// Config file (default: config/redline.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// TensorRT engine management (feature `tensorrt`).
    Engine {
        #[command(subcommand)]
        what: EngineCommand,
    },
    /// Micro-benchmarks.
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EngineCommand {
    /// Build (or confirm up to date) the engine for the config's model in the engine cache.
    Build {
        /// Config file (default: config/redline.yaml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// The config path given, or the default one.
fn config_path(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(redline::Config::default_path)
}

/// Parse the command line (clap exits on `--help` or a usage error, with colour only on a
/// terminal).
pub fn parse() -> Cli {
    Cli::parse()
}

/// Run the subcommand; the exit status says whether it passed (`redline replay`: 1 when the
/// verdict fails, 128 + the signal when interrupted).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let done = |()| ExitCode::SUCCESS;
    match cli.command {
        Command::Replay { args } => {
            let config = args.config_path();
            replay::run(args, config_path(config))
        }
        Command::Detect {
            image,
            config,
            json,
        } => detect::run(&image, &config_path(config), json).map(done),
        Command::Check { config } => check::run(&config_path(config)).map(done),
        Command::Bench { what } => bench::run(what).map(done),
        Command::Engine {
            what: EngineCommand::Build { config },
        } => engine::build(&config_path(config)).map(done),
    }
}

/// An error for people: `Error: …` and its causes. The backtrace anyhow may have captured
/// (`RUST_BACKTRACE=1`) is shown only when `verbose`: a user error is not a crash.
pub fn describe_error(error: &anyhow::Error, verbose: bool) -> String {
    if verbose {
        return format!("Error: {error:?}\n");
    }
    let mut s = format!("Error: {error}\n");
    let causes: Vec<String> = error.chain().skip(1).map(ToString::to_string).collect();
    if !causes.is_empty() {
        s.push_str("\nCaused by:\n");
        for (i, cause) in causes.iter().enumerate() {
            if causes.len() == 1 {
                let _ = writeln!(s, "    {cause}");
            } else {
                let _ = writeln!(s, "    {i}: {cause}");
            }
        }
    }
    s
}
