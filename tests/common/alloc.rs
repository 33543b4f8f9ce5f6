//! The counting global allocator behind every zero-allocation test. Each test binary installs
//! it with `#[global_allocator]`. It counts only the threads a test measures, never the whole
//! process: the test harness's own threads (libtest's main thread, which keeps allocating for
//! its bookkeeping while the test thread already runs, and any other test of the same binary)
//! cannot leak into a count, however busy the machine is.
//!
//! - [`on_this_thread`]: the allocations the calling thread makes while `f` runs;
//! - [`on_this_and_named_threads`]: the same, plus those of every thread whose name starts with
//!   a prefix (e.g. the pipeline's stage threads, `redline-…`) while `f` runs.
//!
//! Counting itself never allocates: a thread-local flag and counter, and (for named threads)
//! the kernel's copy of the thread name read into a stack buffer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct CountingAllocator;

thread_local! {
    /// This thread is being measured ([`on_this_thread`]).
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// Allocations this thread made while armed.
    static ON_THREAD: Cell<u64> = const { Cell::new(0) };
}

/// A measurement of named threads is running; its prefix is `PREFIX_PTR[..PREFIX_LEN]`.
static NAMED_ACTIVE: AtomicBool = AtomicBool::new(false);
static PREFIX_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static PREFIX_LEN: AtomicUsize = AtomicUsize::new(0);
/// Allocations by named threads during the running measurement.
static ON_NAMED: AtomicU64 = AtomicU64::new(0);
/// One named-thread measurement at a time.
static NAMED_MEASUREMENT: Mutex<()> = Mutex::new(());

fn count() {
    if ARMED.with(Cell::get) {
        ON_THREAD.with(|c| c.set(c.get() + 1));
    } else if NAMED_ACTIVE.load(Ordering::SeqCst) && this_thread_has_prefix() {
        ON_NAMED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Whether the kernel's name of this thread (at most 15 bytes) starts with the measured prefix.
fn this_thread_has_prefix() -> bool {
    let len = PREFIX_LEN.load(Ordering::SeqCst);
    let ptr = PREFIX_PTR.load(Ordering::SeqCst);
    if ptr.is_null() {
        return false;
    }
    // SAFETY: PREFIX_PTR/PREFIX_LEN describe a `&'static str` set before NAMED_ACTIVE.
    let prefix = unsafe { std::slice::from_raw_parts(ptr, len) };
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes (NUL-terminated) into the buffer.
    if unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) } != 0 {
        return false;
    }
    let name_len = name.iter().position(|&b| b == 0).unwrap_or(16);
    let compared = prefix.len().min(15);
    name_len >= compared && name[..compared] == prefix[..compared]
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

/// Run `f` and return its result with the allocations this thread made meanwhile.
pub fn on_this_thread<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ON_THREAD.with(Cell::get);
    let was_armed = ARMED.with(|a| a.replace(true));
    let out = f();
    ARMED.with(|a| a.set(was_armed));
    (out, ON_THREAD.with(Cell::get) - before)
}

/// Run `f` and return its result with the allocations made meanwhile by this thread and by
/// every thread whose name starts with `prefix` (compared on the first 15 bytes, as much of a
/// name as Linux keeps). Other threads are not counted.
pub fn on_this_and_named_threads<T>(prefix: &'static str, f: impl FnOnce() -> T) -> (T, u64) {
    let _one = NAMED_MEASUREMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    PREFIX_PTR.store(prefix.as_ptr().cast_mut(), Ordering::SeqCst);
    PREFIX_LEN.store(prefix.len(), Ordering::SeqCst);
    ON_NAMED.store(0, Ordering::SeqCst);
    NAMED_ACTIVE.store(true, Ordering::SeqCst);
    let (out, own) = on_this_thread(f);
    NAMED_ACTIVE.store(false, Ordering::SeqCst);
    (out, own + ON_NAMED.load(Ordering::SeqCst))
}

/// How many threads of this process have a name starting with `prefix` (from
/// `/proc/self/task/*/comm`; allocates, so call it outside a measurement). The tests that
/// measure named threads check with it that the threads they mean to count exist under that
/// name, so a renamed thread cannot silently fall out of the count.
pub fn threads_named(prefix: &str) -> usize {
    let compared = &prefix.as_bytes()[..prefix.len().min(15)];
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read(t.ok()?.path().join("comm")).ok())
                .filter(|comm| comm.starts_with(compared))
                .count()
        })
        .unwrap_or(0)
}
