//! Waiting, in a test, until a running pipeline has answered every frame submitted so far
//! (so the next frame supersedes nothing). Spins without allocating: the zero-allocation tests
//! call it between counted frames. And letting a pipeline idle, so that its warm-up covers
//! what happens only when a stage thread waits.

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

/// Let the pipeline idle, then run `frames` (e.g. one frame): warm-up for the zero-allocation
/// tests, so that it covers what happens only when the pipeline waits. A stage thread that never
/// had to wait builds its blocking context (crossbeam's per-thread `Context` and the channel's
/// waiter list: two allocations) the first time it does — on a busy machine in the middle of a
/// measurement, while on a quiet one the next frame comes while it is still spinning. The pause
/// is longer than the watchdog's longest period (250 ms), so the watchdog thread has run too.
pub fn idle_then(frames: impl FnOnce()) {
    std::thread::sleep(std::time::Duration::from_millis(300));
    frames();
}
