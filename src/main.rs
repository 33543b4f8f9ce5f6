//! The `redline` command line: replay, detect, check, bench, engine.

mod cli;

fn main() -> anyhow::Result<()> {
    // Warnings (refused real-time requests, engine warm-up failures) go to stderr;
    // RUST_LOG=redline=debug shows per-frame drops.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    cli::run()
}
