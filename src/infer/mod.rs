//! The Backend → Engine API and the CPU backend (tract); GPU backends behind features.
#[cfg(feature = "tensorrt")]
pub mod tensorrt;
