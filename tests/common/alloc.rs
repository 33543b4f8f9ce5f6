//! The counting global allocator behind every zero-allocation test. Each test binary installs
//! it with `#[global_allocator]`; it counts every allocation and reallocation process-wide
//! ([`total`]) and, separately, those made by the current thread while armed
//! ([`on_this_thread`]). Counting itself never allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct CountingAllocator;

static TOTAL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ON_THREAD: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    TOTAL.fetch_add(1, Ordering::SeqCst);
    if ARMED.with(Cell::get) {
        ON_THREAD.with(|c| c.set(c.get() + 1));
    }
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations so far, on every thread.
pub fn total() -> u64 {
    TOTAL.load(Ordering::SeqCst)
}

/// Run `f` and return its result with the allocations this thread made meanwhile.
pub fn on_this_thread<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ON_THREAD.with(Cell::get);
    ARMED.with(|a| a.set(true));
    let out = f();
    ARMED.with(|a| a.set(false));
    (out, ON_THREAD.with(Cell::get) - before)
}
