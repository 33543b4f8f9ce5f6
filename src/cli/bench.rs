//! `redline bench preprocess`: time one frame of the fused preprocessing pass.

use clap::Subcommand;

/// What to benchmark.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// One frame of the fused pass into a 640×640 NCHW f32 letterbox, single thread.
    Preprocess {
        #[arg(long)]
        width: u32,
        #[arg(long)]
        height: u32,
        /// Pixel encoding: rgb8, bgr8, rgba8, bgra8, mono8.
        #[arg(long)]
        encoding: String,
        #[arg(long, default_value_t = 200)]
        iters: usize,
        /// Print JSON {"median_ns", "p99_ns"}.
        #[arg(long)]
        json: bool,
    },
}

/// Run the benchmark.
pub fn run(what: BenchCommand) -> anyhow::Result<()> {
    match what {
        BenchCommand::Preprocess { .. } => {
            anyhow::bail!("redline bench preprocess needs the fused preprocessing (branch `preprocess`), not merged yet")
        }
    }
}
