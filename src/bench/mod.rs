//! Benchmarks users run from the command line (`redline bench …`) that need more than a timer:
//! [`batching`] compares ways of sharing one engine between cameras on the virtual clock.

pub mod batching;
