//! The Backend → Engine API and the CPU backend (tract); GPU backends behind features.
