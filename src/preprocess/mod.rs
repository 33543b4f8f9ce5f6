//! The fused preprocessing pass: raw image bytes straight into the engine input tensor.
#[cfg(feature = "cuda")]
pub mod cuda;
