//! The few ONNX Runtime C API calls the per-frame path makes directly, so that a run allocates
//! nothing on the Rust side: tensors created over our own buffers (`OrtValue`s that own no
//! data), binding them, running with the binding, and turning a failed `OrtStatus` into text.

use std::ffi::{c_void, CStr};
use std::ptr::NonNull;

use ort::sys::{
    ONNXTensorElementDataType, OrtIoBinding, OrtMemoryInfo, OrtSession, OrtStatusPtr, OrtValue,
};

use crate::error::FrameError;

/// The largest tensor rank handled without allocating.
pub const MAX_RANK: usize = 8;

/// Release a status; `Ok` when it was null (success).
pub fn check(status: OrtStatusPtr) -> Result<(), String> {
    if status.0.is_null() {
        return Ok(());
    }
    let api = ort::api();
    // SAFETY: a non-null status from the API; its message is valid until it is released.
    let text = unsafe {
        let msg = (api.GetErrorMessage)(status.0);
        let text = if msg.is_null() {
            "unknown ONNX Runtime error".to_string()
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        (api.ReleaseStatus)(status.0);
        text
    };
    Err(text)
}

/// Release a status on the per-frame path without formatting its message (no allocation
/// on our side).
fn check_quiet(status: OrtStatusPtr) -> Result<(), FrameError> {
    if status.0.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null status from the API, released exactly once.
    unsafe { (ort::api().ReleaseStatus)(status.0) };
    Err(FrameError::Engine)
}

/// A tensor `OrtValue` over memory it does not own.
#[derive(Debug)]
pub struct BorrowedTensor {
    value: NonNull<OrtValue>,
}

// SAFETY: an OrtValue is a plain object; it is used from one thread at a time (the engine's).
unsafe impl Send for BorrowedTensor {}

impl BorrowedTensor {
    /// A tensor of `shape` and `element` type over `bytes` bytes at `data`.
    ///
    /// # Safety
    /// `data` must stay valid for `bytes` bytes for as long as the value is bound and run.
    pub unsafe fn new(
        memory: *const OrtMemoryInfo,
        data: *mut c_void,
        bytes: usize,
        shape: &[i64],
        element: ONNXTensorElementDataType,
    ) -> Result<Self, String> {
        let mut out: *mut OrtValue = std::ptr::null_mut();
        // SAFETY: the caller vouches for `data`; `shape` is valid for its length.
        check(unsafe {
            (ort::api().CreateTensorWithDataAsOrtValue)(
                memory,
                data,
                bytes,
                shape.as_ptr(),
                shape.len(),
                element,
                &mut out,
            )
        })?;
        NonNull::new(out)
            .map(|value| Self { value })
            .ok_or_else(|| "CreateTensorWithDataAsOrtValue returned null".to_string())
    }

    pub fn as_ptr(&self) -> *const OrtValue {
        self.value.as_ptr()
    }
}

impl Drop for BorrowedTensor {
    fn drop(&mut self) {
        // SAFETY: created by CreateTensorWithDataAsOrtValue, released once. An IoBinding that
        // still holds it keeps its own reference.
        unsafe { (ort::api().ReleaseValue)(self.value.as_ptr()) };
    }
}

/// Bind `value` as input (`output == false`) or output `name` of `binding`.
///
/// # Safety
/// `binding` must be a live binding; `name` NUL-terminated.
unsafe fn bind_status(
    binding: *mut OrtIoBinding,
    name: &CStr,
    value: &BorrowedTensor,
    output: bool,
) -> OrtStatusPtr {
    let api = ort::api();
    // SAFETY: per the caller; the value is live.
    unsafe {
        if output {
            (api.BindOutput)(binding, name.as_ptr(), value.as_ptr())
        } else {
            (api.BindInput)(binding, name.as_ptr(), value.as_ptr())
        }
    }
}

/// Bind as [`bind_status`] on the per-frame path.
///
/// # Safety
/// As [`bind_status`].
pub unsafe fn bind(
    binding: *mut OrtIoBinding,
    name: &CStr,
    value: &BorrowedTensor,
    output: bool,
) -> Result<(), FrameError> {
    // SAFETY: per the caller.
    check_quiet(unsafe { bind_status(binding, name, value, output) })
}

/// Bind as [`bind_status`], returning ONNX Runtime's message on failure (start-up only).
///
/// # Safety
/// As [`bind_status`].
pub unsafe fn bind_verbose(
    binding: *mut OrtIoBinding,
    name: &CStr,
    value: &BorrowedTensor,
    output: bool,
) -> Result<(), String> {
    // SAFETY: per the caller.
    check(unsafe { bind_status(binding, name, value, output) })
}

/// Run `session` with everything bound in `binding`.
///
/// # Safety
/// Both must be live; every bound value's memory must be valid.
pub unsafe fn run(
    session: *mut OrtSession,
    binding: *const OrtIoBinding,
) -> Result<(), FrameError> {
    // SAFETY: per the caller.
    check_quiet(unsafe { (ort::api().RunWithBinding)(session, std::ptr::null(), binding) })
}

/// The execution providers compiled into the loaded library (e.g. `CPUExecutionProvider`).
pub fn available_providers() -> Vec<String> {
    let api = ort::api();
    let mut list: *mut *mut std::ffi::c_char = std::ptr::null_mut();
    let mut count: std::ffi::c_int = 0;
    // SAFETY: out-params are valid; the list is released below with its count.
    if check(unsafe { (api.GetAvailableProviders)(&mut list, &mut count) }).is_err()
        || list.is_null()
    {
        return Vec::new();
    }
    let names = (0..count.max(0) as usize)
        .filter_map(|i| {
            // SAFETY: `list` holds `count` NUL-terminated strings.
            let p = unsafe { *list.add(i) };
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        })
        .collect();
    // SAFETY: releasing what GetAvailableProviders returned.
    let _ = check(unsafe { (api.ReleaseAvailableProviders)(list, count) });
    names
}
