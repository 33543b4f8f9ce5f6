//! `redline engine build`: prebuild the TensorRT engine for the config's model into the engine
//! cache (feature `tensorrt`), so the node never builds one on start.

use std::path::Path;

#[cfg(feature = "tensorrt")]
pub fn build(config_path: &Path) -> anyhow::Result<()> {
    let config = redline::Config::load(config_path)?;
    let (path, built) = redline::infer::tensorrt::build_engine(&config)?;
    if built {
        println!("built {}", path.display());
    } else {
        println!("up to date: {}", path.display());
    }
    Ok(())
}

#[cfg(not(feature = "tensorrt"))]
pub fn build(config_path: &Path) -> anyhow::Result<()> {
    redline::Config::load(config_path)?;
    anyhow::bail!(
        "this redline was built without TensorRT support: rebuild with `--features tensorrt`"
    )
}

/// The TensorRT part of `redline check` (backend, GPU, TensorRT version, engine cache state).
#[cfg(feature = "tensorrt")]
pub fn describe(config: &redline::Config) -> Option<String> {
    Some(redline::infer::tensorrt::describe(config).to_string())
}

#[cfg(not(feature = "tensorrt"))]
pub fn describe(config: &redline::Config) -> Option<String> {
    (config.model.backend == redline::config::BackendKind::TensorRt)
        .then(|| "tensorrt  not available in this build (feature `tensorrt`)".to_string())
}
