//! The `redline` command line: replay, detect, check, bench, engine.

fn main() -> anyhow::Result<()> {
    let config = redline::Config::load(&redline::Config::default_path())?;
    println!("{}", config.node_name);
    Ok(())
}
