//! Real-time setup: core pinning, SCHED_FIFO, memory locking — each refusal a warning, never a crash.
