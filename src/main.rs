//! The `redline` command line: replay, detect, check, bench, engine. User errors print their
//! chain of causes (no backtrace, whatever `RUST_BACKTRACE` says, unless `-v` asks for one);
//! log lines and clap's messages carry colour codes only when they go to a terminal.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::parse();
    let verbose = cli.verbose;
    if verbose {
        // Before any error exists: anyhow captures a backtrace into each error from now on.
        std::env::set_var("RUST_LIB_BACKTRACE", "1");
    }
    // Warnings (refused real-time requests, engine warm-up failures) go to stderr; -v adds
    // info; RUST_LOG=redline=debug shows per-frame drops.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(if verbose { "info" } else { "warn" })
            }),
        )
        .init();
    match cli::run(cli) {
        Ok(status) => status,
        Err(error) => {
            eprint!("{}", cli::describe_error(&error, verbose));
            ExitCode::FAILURE
        }
    }
}
