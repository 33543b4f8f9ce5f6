//! The `redline` command line: detect, check, bench (replay and engine come with their modules).

mod cli;

fn main() -> anyhow::Result<()> {
    cli::run()
}
