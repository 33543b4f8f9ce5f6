//! Waiting, in a test, until a running pipeline has answered every frame submitted so far
//! (so the next frame supersedes nothing). Spins without allocating: the zero-allocation tests
//! call it between counted frames.

use redline::deadline::AccountingSnapshot;

/// Yield until `accounting()` shows `submitted` frames received and none in flight.
pub fn wait_until_settled(submitted: u64, accounting: impl Fn() -> AccountingSnapshot) {
    loop {
        let a = accounting();
        if a.in_flight == 0 && a.received == submitted {
            return;
        }
        std::thread::yield_now();
    }
}
