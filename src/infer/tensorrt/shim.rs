//! The C ABI of cpp/trt_shim.cpp. When the build script found no TensorRT headers the shim is
//! absent; then every entry point here returns [`TrtError::ShimNotBuilt`]-worthy failures and
//! [`SHIM_BUILT`] is false.

#![allow(dead_code)]
#![cfg_attr(not(redline_trt_shim), allow(unused_imports))]

use std::ffi::{c_char, c_void};

/// Whether the C++ shim was compiled into this binary.
pub const SHIM_BUILT: bool = cfg!(redline_trt_shim);

#[cfg(redline_trt_shim)]
extern "C" {
    pub fn redline_trt_shim_major() -> i32;
    pub fn redline_trt_runtime_create(
        create_fn: *mut c_void,
        err: *mut c_char,
        err_cap: usize,
    ) -> *mut c_void;
    pub fn redline_trt_runtime_destroy(rt: *mut c_void);
    pub fn redline_trt_engine_deserialize(
        rt: *mut c_void,
        blob: *const c_void,
        size: usize,
        err: *mut c_char,
        err_cap: usize,
    ) -> *mut c_void;
    pub fn redline_trt_engine_destroy(engine: *mut c_void);
    pub fn redline_trt_io_count(engine: *mut c_void) -> i32;
    pub fn redline_trt_io_name(engine: *mut c_void, index: i32) -> *const c_char;
    pub fn redline_trt_io_mode(engine: *mut c_void, name: *const c_char) -> i32;
    pub fn redline_trt_io_dtype(engine: *mut c_void, name: *const c_char) -> i32;
    pub fn redline_trt_io_shape(
        engine: *mut c_void,
        name: *const c_char,
        from_context: i32,
        dims: *mut i64,
        cap: i32,
    ) -> i32;
    pub fn redline_trt_profile_shape(
        engine: *mut c_void,
        name: *const c_char,
        which: i32,
        dims: *mut i64,
        cap: i32,
    ) -> i32;
    pub fn redline_trt_set_input_shape(
        engine: *mut c_void,
        name: *const c_char,
        dims: *const i64,
        rank: i32,
    ) -> i32;
    pub fn redline_trt_set_tensor_address(
        engine: *mut c_void,
        name: *const c_char,
        ptr: *mut c_void,
    ) -> i32;
    pub fn redline_trt_enqueue(engine: *mut c_void, stream: *mut c_void) -> i32;
    pub fn redline_trt_build_from_onnx(
        create_builder_fn: *mut c_void,
        create_parser_fn: *mut c_void,
        onnx_path: *const c_char,
        fp16: i32,
        max_batch: i32,
        row_dims: *const i64,
        row_rank: i32,
        out_blob: *mut *const c_void,
        out_size: *mut usize,
        err: *mut c_char,
        err_cap: usize,
    ) -> *mut c_void;
    pub fn redline_trt_blob_destroy(blob: *mut c_void);
}

/// The TensorRT major the shim's headers had, or `None` without a shim.
pub fn shim_major() -> Option<i32> {
    #[cfg(redline_trt_shim)]
    {
        // SAFETY: returns a compile-time constant.
        Some(unsafe { redline_trt_shim_major() })
    }
    #[cfg(not(redline_trt_shim))]
    {
        None
    }
}

/// Turns the NUL-terminated error buffer the shim fills into a string.
pub fn message(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    if bytes.is_empty() {
        "no error message".to_string()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
