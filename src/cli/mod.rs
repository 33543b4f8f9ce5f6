//! Subcommand definitions (clap derive) and dispatch. `anyhow` lives only at this edge.

mod bench;
mod bench_infer;
mod check;
mod detect;
mod engine;
mod replay;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// redline: a camera perception node that answers on time or not at all.
#[derive(Debug, Parser)]
#[command(name = "redline", version, about)]
struct Cli {
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

/// Parse the command line and run the subcommand.
pub fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Replay { args } => {
            let config = args.config_path();
            replay::run(args, config_path(config))
        }
        Command::Detect {
            image,
            config,
            json,
        } => detect::run(&image, &config_path(config), json),
        Command::Check { config } => check::run(&config_path(config)),
        Command::Bench { what } => bench::run(what),
        Command::Engine {
            what: EngineCommand::Build { config },
        } => engine::build(&config_path(config)),
    }
}
