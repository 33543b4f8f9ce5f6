//! Real-time setup: core pinning, SCHED_FIFO, memory locking — each refusal a warning, never a
//! crash (ARCHITECTURE §10).
//!
//! * [`setup_current_thread`] pins the calling stage thread to its configured core
//!   (`core_affinity`) and requests SCHED_FIFO at its configured priority
//!   (`pthread_setschedparam`); it returns a [`ThreadGrant`] saying what was granted.
//! * [`lock_memory`] reads `RLIMIT_MEMLOCK` first and locks with `MCL_CURRENT` (after the pools
//!   are preallocated); `MCL_FUTURE` is added only when the limit is unlimited, because with a
//!   finite limit it makes later allocations fail and the process abort.
//! * [`RtReport`] collects both for the start-up report.

use serde::Serialize;

use crate::config::StageThreadConfig;
use crate::error::Stage;

/// Why a real-time request was not granted.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "refused")]
pub enum Refusal {
    /// The core does not exist or is outside this process's CPU set.
    CoreUnavailable { core: usize },
    /// `pthread_setschedparam(SCHED_FIFO)` failed with this errno (EPERM: no CAP_SYS_NICE and
    /// RLIMIT_RTPRIO too low).
    SchedulerRefused { priority: u8, errno: i32 },
    /// `RLIMIT_MEMLOCK` could not be read (errno).
    MemlockLimitUnknown { errno: i32 },
    /// `mlockall` failed with this errno (ENOMEM: the memory exceeds RLIMIT_MEMLOCK).
    MlockallRefused { errno: i32 },
    /// The platform has no such facility.
    Unsupported,
}

/// What one stage thread was granted.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThreadGrant {
    pub stage: Stage,
    /// Core the thread is pinned to.
    pub pinned_core: Option<usize>,
    /// SCHED_FIFO priority in force.
    pub fifo_priority: Option<u8>,
    /// Pinning refused (when one was requested).
    pub pin_refused: Option<Refusal>,
    /// SCHED_FIFO refused (when one was requested).
    pub priority_refused: Option<Refusal>,
}

impl ThreadGrant {
    /// True when everything requested was granted.
    pub fn fully_granted(&self) -> bool {
        self.pin_refused.is_none() && self.priority_refused.is_none()
    }
}

/// Outcome of the memory-locking request.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "memory")]
pub enum MemoryLock {
    /// `pipeline.lock_memory` is false.
    NotRequested,
    /// Locked; `future` tells whether `MCL_FUTURE` was used too.
    Locked {
        future: bool,
    },
    Refused {
        reason: Refusal,
    },
}

/// Everything the real-time setup granted, for the start-up report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RtReport {
    pub threads: Vec<ThreadGrant>,
    pub memory: MemoryLock,
}

impl RtReport {
    /// True when every request was granted.
    pub fn fully_granted(&self) -> bool {
        self.threads.iter().all(ThreadGrant::fully_granted)
            && !matches!(self.memory, MemoryLock::Refused { .. })
    }
}

/// Pin the calling thread and set its scheduler as `config` asks for `stage`. Never fails:
/// refusals are logged at WARN and reported.
pub fn setup_current_thread(stage: Stage, config: &StageThreadConfig) -> ThreadGrant {
    let mut grant = ThreadGrant {
        stage,
        pinned_core: None,
        fifo_priority: None,
        pin_refused: None,
        priority_refused: None,
    };
    if let Some(core) = config.core {
        if pin_to_core(core) {
            grant.pinned_core = Some(core);
        } else {
            let refusal = Refusal::CoreUnavailable { core };
            tracing::warn!(
                stage = stage.name(),
                core,
                "core pinning refused: core not available to this process; running unpinned"
            );
            grant.pin_refused = Some(refusal);
        }
    }
    if let Some(priority) = config.priority {
        match set_fifo_priority(priority) {
            Ok(()) => grant.fifo_priority = Some(priority),
            Err(refusal) => {
                tracing::warn!(stage = stage.name(), priority, ?refusal, "SCHED_FIFO refused (needs CAP_SYS_NICE or RLIMIT_RTPRIO ≥ priority); running SCHED_OTHER");
                grant.priority_refused = Some(refusal);
            }
        }
    }
    grant
}

fn pin_to_core(core: usize) -> bool {
    let available = core_affinity::get_core_ids().unwrap_or_default();
    match available.into_iter().find(|c| c.id == core) {
        Some(id) => core_affinity::set_for_current(id),
        None => false,
    }
}

#[cfg(target_os = "linux")]
fn set_fifo_priority(priority: u8) -> Result<(), Refusal> {
    let param = libc::sched_param {
        sched_priority: i32::from(priority),
    };
    // SAFETY: plain FFI call on the current thread with a valid, initialised sched_param.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Refusal::SchedulerRefused {
            priority,
            errno: rc,
        })
    }
}

#[cfg(not(target_os = "linux"))]
fn set_fifo_priority(_priority: u8) -> Result<(), Refusal> {
    Err(Refusal::Unsupported)
}

/// Lock the process's memory, as safely as the limits allow. Call after preallocation.
pub fn lock_memory(requested: bool) -> MemoryLock {
    if !requested {
        return MemoryLock::NotRequested;
    }
    let result = lock_memory_now();
    if let MemoryLock::Refused { reason } = result {
        tracing::warn!(?reason, "memory locking refused; pages may be swapped out (raise RLIMIT_MEMLOCK or grant CAP_IPC_LOCK)");
    }
    result
}

#[cfg(target_os = "linux")]
fn lock_memory_now() -> MemoryLock {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the valid `limit` struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } != 0 {
        return MemoryLock::Refused {
            reason: Refusal::MemlockLimitUnknown {
                errno: last_errno(),
            },
        };
    }
    // MCL_FUTURE with a finite limit makes later allocations fail (and the process abort).
    let future = limit.rlim_cur == libc::RLIM_INFINITY;
    let flags = if future {
        libc::MCL_CURRENT | libc::MCL_FUTURE
    } else {
        libc::MCL_CURRENT
    };
    // SAFETY: mlockall takes only flags.
    if unsafe { libc::mlockall(flags) } == 0 {
        MemoryLock::Locked { future }
    } else {
        MemoryLock::Refused {
            reason: Refusal::MlockallRefused {
                errno: last_errno(),
            },
        }
    }
}

#[cfg(target_os = "linux")]
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(not(target_os = "linux"))]
fn lock_memory_now() -> MemoryLock {
    MemoryLock::Refused {
        reason: Refusal::Unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_requested_nothing_refused() {
        let g = setup_current_thread(Stage::Infer, &StageThreadConfig::default());
        assert!(g.fully_granted());
        assert_eq!((g.pinned_core, g.fifo_priority), (None, None));
        assert_eq!(lock_memory(false), MemoryLock::NotRequested);
    }

    #[test]
    fn an_absent_core_is_a_refusal_not_a_crash() {
        let g = std::thread::spawn(|| {
            setup_current_thread(
                Stage::Decode,
                &StageThreadConfig {
                    core: Some(1023),
                    priority: None,
                },
            )
        })
        .join()
        .unwrap();
        assert_eq!(g.pin_refused, Some(Refusal::CoreUnavailable { core: 1023 }));
        assert_eq!(g.pinned_core, None);
    }

    #[test]
    fn pinning_to_core_zero_is_granted() {
        let g = std::thread::spawn(|| {
            setup_current_thread(
                Stage::Ingest,
                &StageThreadConfig {
                    core: Some(0),
                    priority: None,
                },
            )
        })
        .join()
        .unwrap();
        assert_eq!(g.pinned_core, Some(0));
    }

    #[test]
    fn fifo_request_is_granted_or_reported() {
        let g = std::thread::spawn(|| {
            setup_current_thread(
                Stage::Publish,
                &StageThreadConfig {
                    core: None,
                    priority: Some(10),
                },
            )
        })
        .join()
        .unwrap();
        // Either the process may use SCHED_FIFO, or the refusal carries the errno.
        match g.priority_refused {
            None => assert_eq!(g.fifo_priority, Some(10)),
            Some(Refusal::SchedulerRefused { priority, errno }) => {
                assert_eq!(priority, 10);
                assert_ne!(errno, 0);
                assert_eq!(g.fifo_priority, None);
            }
            Some(other) => panic!("unexpected refusal {other:?}"),
        }
    }

    #[test]
    fn memory_locking_never_uses_future_with_a_finite_limit() {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) },
            0
        );
        match lock_memory(true) {
            MemoryLock::Locked { future } => {
                assert_eq!(future, limit.rlim_cur == libc::RLIM_INFINITY);
                // Undo so other tests allocate freely.
                unsafe { libc::munlockall() };
            }
            MemoryLock::Refused { reason } => {
                assert!(matches!(reason, Refusal::MlockallRefused { .. }))
            }
            MemoryLock::NotRequested => panic!("was requested"),
        }
        // Allocating after the call still works (MCL_FUTURE was not used with a finite limit).
        let big = vec![1u8; 64 << 20];
        assert_eq!(big[12345], 1);
    }
}
