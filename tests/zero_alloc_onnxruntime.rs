//! What a steady-state ONNX Runtime run allocates. Two counters: the crate's counting global
//! allocator (every Rust allocation on this thread: must be zero — redline's side of a run,
//! binding our pooled buffers, allocates nothing), and a `malloc` interposer in this test
//! binary that counts every C/C++ heap allocation in the process (ONNX Runtime's own, which it
//! makes inside `RunWithBinding`: reported, not ours to remove). YOLOX-nano and SSD, batches of
//! one; YOLOX also at varying batch sizes over two pooled buffers.

mod common;

use common::onnxruntime::on_onnxruntime;
use redline::infer::{load_engine, Engine};
use redline::Config;

#[global_allocator]
static GLOBAL: common::alloc::CountingAllocator = common::alloc::CountingAllocator;

/// Counts `malloc`-family calls from any library while armed. Defined in the executable, these
/// symbols take precedence over glibc's for every shared object, ONNX Runtime included; they
/// forward to glibc's implementations, so `free` stays glibc's.
mod c_heap {
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    static ARMED: AtomicBool = AtomicBool::new(false);
    static COUNT: AtomicU64 = AtomicU64::new(0);

    extern "C" {
        fn __libc_malloc(size: usize) -> *mut c_void;
        fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
        fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
        fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    }

    fn count() {
        if ARMED.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[no_mangle]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        count();
        unsafe { __libc_malloc(size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        count();
        unsafe { __libc_calloc(n, size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
        count();
        unsafe { __libc_realloc(p, size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
        count();
        unsafe { __libc_memalign(align, size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
        count();
        unsafe { __libc_memalign(align, size) }
    }

    #[no_mangle]
    pub unsafe extern "C" fn posix_memalign(
        out: *mut *mut c_void,
        align: usize,
        size: usize,
    ) -> i32 {
        count();
        if !align.is_power_of_two() || align % std::mem::size_of::<usize>() != 0 {
            return libc_einval();
        }
        let p = unsafe { __libc_memalign(align, size) };
        if p.is_null() {
            return 12; // ENOMEM
        }
        unsafe { *out = p };
        0
    }

    fn libc_einval() -> i32 {
        22
    }

    /// Run `f` and return its result with the C heap allocations made meanwhile (all threads).
    pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
        let before = COUNT.load(Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
        let out = f();
        ARMED.store(false, Ordering::SeqCst);
        (out, COUNT.load(Ordering::SeqCst) - before)
    }
}

/// Proof the interposer sees allocations made inside a shared library (here glibc's own
/// `strdup`): without it, a zero from ONNX Runtime would mean nothing.
#[test]
fn the_interposer_counts_allocations_made_inside_shared_libraries() {
    extern "C" {
        fn strdup(s: *const std::ffi::c_char) -> *mut std::ffi::c_char;
        fn free(p: *mut std::ffi::c_void);
    }
    let (p, n) = c_heap::counted(|| unsafe { strdup(c"counted".as_ptr()) });
    unsafe { free(p.cast()) };
    assert!(n >= 1, "strdup's malloc was not seen");
}

/// Steady-state runs of `engine` over two pooled input/output buffers at batch sizes `sizes`:
/// (Rust allocations on this thread, C heap allocations per run).
fn measure(engine: &mut Box<dyn Engine>, sizes: &[usize], runs: usize) -> (u64, f64) {
    let mut inputs = [engine.new_input(), engine.new_input()];
    let mut outputs = [engine.new_outputs(), engine.new_outputs()];
    for input in &mut inputs {
        for (i, v) in input.as_f32_mut().unwrap().iter_mut().enumerate() {
            *v = ((i * 7919) % 255) as f32 / 255.0;
        }
    }
    let frames: Vec<u64> = (0..64).collect();
    let mut step = |k: usize| {
        let b = sizes[k % sizes.len()];
        let j = (k / sizes.len()) % 2;
        engine
            .run(&frames[..b], &inputs[j], &mut outputs[j])
            .unwrap();
    };
    // Warm-up: every (buffer, batch size) pair once, and a few more runs.
    for k in 0..(sizes.len() * 2 + 4) {
        step(k);
    }
    let ((_, rust), c) =
        c_heap::counted(|| common::alloc::on_this_thread(|| (0..runs).for_each(&mut step)));
    (rust, c as f64 / runs as f64)
}

#[test]
fn onnxruntime_runs_allocate_nothing_on_the_rust_side() {
    if !cfg!(feature = "onnxruntime") {
        eprintln!("SKIPPED: built without feature `onnxruntime`");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and built without feature `onnxruntime`");
        }
        return;
    }
    let Some(lib) = common::onnxruntime::library() else {
        return;
    };
    let ssd = on_onnxruntime(Config::load(&Config::default_path()).unwrap().model, &lib);
    let mut engine = load_engine(&ssd).unwrap();
    let (rust, c) = measure(&mut engine, &[1], 20);
    eprintln!(
        "MEASURED onnxruntime pedestrian_ssdlite, batch 1: {rust} Rust allocations, {c:.1} C/C++ heap allocations per run (inside ONNX Runtime)"
    );
    assert_eq!(rust, 0, "the Rust side of a run allocated {rust} times");

    let Some(yolox) = common::photos::yolox_config() else {
        return;
    };
    let mut cfg = on_onnxruntime(yolox.model, &lib);
    cfg.max_batch = 3;
    let mut engine = load_engine(&cfg).unwrap();
    assert_eq!(engine.max_batch(), 3);
    let (rust, c) = measure(&mut engine, &[1, 3, 2], 12);
    eprintln!(
        "MEASURED onnxruntime yolox_nano, batches of 1, 3, 2 over two buffers: {rust} Rust allocations, {c:.1} C/C++ heap allocations per run (inside ONNX Runtime)"
    );
    assert_eq!(rust, 0, "the Rust side of a run allocated {rust} times");
}
