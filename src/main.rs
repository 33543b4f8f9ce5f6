//! The `redline` command line: replay, detect, check, bench.

mod cli;

fn main() -> anyhow::Result<()> {
    cli::run()
}
