//! `redline detect IMAGE`: decode the image, run preprocessing, the engine and the decoder once,
//! and print the detections in source pixels.

use std::path::Path;

use anyhow::bail;

/// Detect objects in `image` with the model of `config_path`.
pub fn run(_image: &Path, _config_path: &Path, _json: bool) -> anyhow::Result<()> {
    bail!("redline detect needs the fused preprocessing (branch `preprocess`), not merged yet")
}
