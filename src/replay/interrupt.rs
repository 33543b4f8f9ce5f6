//! Clean interruption of a replay: SIGINT (Ctrl-C) and SIGTERM set a flag instead of killing
//! the process, so the replay stops reading, drains the pipeline and writes a complete report
//! marked interrupted. The handler only stores the signal number in an atomic (async-signal
//! safe) and is installed with `SA_RESETHAND`: a second Ctrl-C kills the process as usual.
//!
//! [`install`] is for the command line (a library user keeps its own signal handling); the
//! replay driver asks [`requested`] between frames, whoever installed the handler.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

/// The signal received, 0 while none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The signals that interrupt a replay.
const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// A signal that stopped a replay.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Interrupt(libc::c_int);

impl Interrupt {
    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self.0 {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            _ => "a signal",
        }
    }

    /// The conventional exit status of a process stopped by this signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_status(self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(1)
    }
}

extern "C" fn on_signal(signal: libc::c_int) {
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// Handle SIGINT and SIGTERM by recording them (once; the default action returns after the
/// first). Call before the replay starts.
pub fn install() -> io::Result<()> {
    for signal in SIGNALS {
        // SAFETY: a zeroed sigaction is valid; we set the handler, an empty mask and flags, and
        // the handler only performs an atomic store.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
            if libc::sigemptyset(&mut action.sa_mask) != 0
                || libc::sigaction(signal, &action, std::ptr::null_mut()) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The interrupting signal received so far, if any.
pub fn requested() -> Option<Interrupt> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(Interrupt(signal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_and_name_follow_the_signal() {
        assert_eq!(Interrupt(libc::SIGINT).exit_status(), 130);
        assert_eq!(Interrupt(libc::SIGTERM).exit_status(), 143);
        assert_eq!(Interrupt(libc::SIGINT).name(), "SIGINT");
        assert_eq!(Interrupt(libc::SIGTERM).name(), "SIGTERM");
    }
}
