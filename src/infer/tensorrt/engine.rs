//! A deserialized TensorRT engine bound to fixed device buffers on the pipeline's stream:
//! contract validation at load, one warm-up enqueue, then CUDA graph capture (falling back to
//! plain `enqueueV3` when capture is refused), and output readback into pinned cached memory.

// Without the C++ shim (no TensorRT headers at build time) the FFI half is compiled out.
#![cfg_attr(not(redline_trt_shim), allow(dead_code, unused_imports))]

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Arc;

use cudarc::driver::{sys, CudaGraph, CudaSlice, DevicePtr};

use super::error::TrtError;
use super::library::TrtLibrary;
#[cfg(redline_trt_shim)]
use super::shim;
use crate::config::{ModelConfig, TensorDType, TensorLayout};
use crate::error::FrameError;
use crate::preprocess::cuda::{DeviceTensor, GpuContext, PinnedBuffer, PinnedUse};

/// TensorRT `DataType` values the node uses.
const TRT_FLOAT: i32 = 0;
const TRT_HALF: i32 = 1;
const MAX_RANK: usize = 8;

/// One engine I/O tensor with its device buffer.
pub struct IoTensor {
    pub name: String,
    /// Kept alive for the engine's lifetime: TensorRT is handed this pointer.
    _c_name: CString,
    pub is_input: bool,
    pub dtype: i32,
    pub shape: Vec<i64>,
    pub elements: usize,
    device: CudaSlice<u8>,
    /// Outputs only: where results come back to the host.
    host: Option<PinnedBuffer<f32>>,
}

/// How inference is launched after warm-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchMode {
    NotWarmedUp,
    CudaGraph,
    /// Capture was refused (the reason is kept for `redline check` and the logs).
    Enqueue {
        capture_refused: String,
    },
}

pub struct TrtEngine {
    gpu: Arc<GpuContext>,
    _library: Arc<TrtLibrary>,
    runtime: *mut c_void,
    engine: *mut c_void,
    io: Vec<IoTensor>,
    input: usize,
    graph: Option<CudaGraph>,
    mode: LaunchMode,
}

// SAFETY: the TensorRT objects are used from one thread at a time (`&mut self` for every call
// that touches them); moving them between threads is allowed by TensorRT.
unsafe impl Send for TrtEngine {}

fn elements(shape: &[i64]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

/// The shape the model config demands of the input tensor.
pub fn expected_input_shape(model: &ModelConfig) -> Vec<i64> {
    let (h, w) = (i64::from(model.input_height), i64::from(model.input_width));
    match model.layout {
        TensorLayout::Nchw => vec![1, 3, h, w],
        TensorLayout::Nhwc => vec![1, h, w, 3],
    }
}

/// Checks an engine input shape (with `-1` for dynamic dims) against the configured one.
pub fn input_shape_compatible(engine: &[i64], expected: &[i64]) -> bool {
    engine.len() == expected.len()
        && engine
            .iter()
            .zip(expected)
            .all(|(&e, &x)| e == -1 || e == x)
}

impl TrtEngine {
    /// Deserializes `plan`, validates it against `model`, allocates every I/O buffer once.
    #[cfg_attr(not(redline_trt_shim), allow(unused_variables))]
    pub fn load(
        gpu: Arc<GpuContext>,
        library: Arc<TrtLibrary>,
        plan: &[u8],
        model: &ModelConfig,
    ) -> Result<Self, TrtError> {
        #[cfg(not(redline_trt_shim))]
        {
            Err(TrtError::ShimNotBuilt)
        }
        #[cfg(redline_trt_shim)]
        {
            let mut err = [0 as c_char; 512];
            // SAFETY: create_runtime is createInferRuntime_INTERNAL from the loaded library;
            // CUDA was checked usable (a GpuContext exists) before this call.
            let runtime = unsafe {
                shim::redline_trt_runtime_create(
                    library.create_runtime,
                    err.as_mut_ptr(),
                    err.len(),
                )
            };
            if runtime.is_null() {
                return Err(TrtError::Runtime {
                    during: "createInferRuntime",
                    message: shim::message(&err),
                });
            }
            // SAFETY: runtime is valid; plan outlives the call.
            let engine = unsafe {
                shim::redline_trt_engine_deserialize(
                    runtime,
                    plan.as_ptr().cast(),
                    plan.len(),
                    err.as_mut_ptr(),
                    err.len(),
                )
            };
            if engine.is_null() {
                // SAFETY: runtime came from redline_trt_runtime_create.
                unsafe { shim::redline_trt_runtime_destroy(runtime) };
                return Err(TrtError::Runtime {
                    during: "deserializeCudaEngine",
                    message: shim::message(&err),
                });
            }
            let mut this = Self {
                gpu,
                _library: library,
                runtime,
                engine,
                io: Vec::new(),
                input: 0,
                graph: None,
                mode: LaunchMode::NotWarmedUp,
            };
            this.bind(model)?;
            Ok(this)
        }
    }

    #[cfg(redline_trt_shim)]
    fn bind(&mut self, model: &ModelConfig) -> Result<(), TrtError> {
        // SAFETY (whole fn): `self.engine` is a live shim engine; names are NUL-terminated.
        let count = unsafe { shim::redline_trt_io_count(self.engine) };
        let expected = expected_input_shape(model);
        let want_dtype = match model.dtype {
            TensorDType::F32 => TRT_FLOAT,
            TensorDType::F16 => TRT_HALF,
        };
        let mut found_input = None;
        for i in 0..count {
            let raw = unsafe { shim::redline_trt_io_name(self.engine, i) };
            if raw.is_null() {
                return Err(TrtError::Contract(format!("I/O tensor {i} has no name")));
            }
            let c_name = unsafe { CStr::from_ptr(raw) }.to_owned();
            let name = c_name.to_string_lossy().into_owned();
            let is_input = unsafe { shim::redline_trt_io_mode(self.engine, c_name.as_ptr()) } == 1;
            let dtype = unsafe { shim::redline_trt_io_dtype(self.engine, c_name.as_ptr()) };
            let mut dims = [0i64; MAX_RANK];
            let rank = unsafe {
                shim::redline_trt_io_shape(
                    self.engine,
                    c_name.as_ptr(),
                    0,
                    dims.as_mut_ptr(),
                    MAX_RANK as i32,
                )
            };
            if rank < 0 || rank as usize > MAX_RANK {
                return Err(TrtError::Contract(format!(
                    "tensor {name}: unusable rank {rank}"
                )));
            }
            let mut shape = dims[..rank as usize].to_vec();
            if is_input {
                if name != model.input_name {
                    return Err(TrtError::Contract(format!(
                        "engine input is {name:?}, model.input_name is {:?}",
                        model.input_name
                    )));
                }
                if !input_shape_compatible(&shape, &expected) {
                    return Err(TrtError::Contract(format!(
                        "input {name} has shape {shape:?}, the config needs {expected:?}"
                    )));
                }
                if dtype != want_dtype {
                    return Err(TrtError::Contract(format!(
                        "input {name} has TensorRT data type {dtype}, the config needs {:?}",
                        model.dtype
                    )));
                }
                if shape.contains(&-1) {
                    let ok = unsafe {
                        shim::redline_trt_set_input_shape(
                            self.engine,
                            c_name.as_ptr(),
                            expected.as_ptr(),
                            expected.len() as i32,
                        )
                    };
                    if ok == 0 {
                        return Err(TrtError::Contract(format!(
                            "setInputShape({name}, {expected:?}) refused"
                        )));
                    }
                }
                shape = expected.clone();
                found_input = Some(self.io.len());
            } else {
                let rank = unsafe {
                    shim::redline_trt_io_shape(
                        self.engine,
                        c_name.as_ptr(),
                        1,
                        dims.as_mut_ptr(),
                        MAX_RANK as i32,
                    )
                };
                shape = dims[..rank.clamp(0, MAX_RANK as i32) as usize].to_vec();
                if dtype != TRT_FLOAT {
                    return Err(TrtError::Contract(format!(
                        "output {name} is TensorRT data type {dtype}; redline decodes f32 outputs"
                    )));
                }
            }
            let count = elements(&shape).ok_or_else(|| {
                TrtError::Contract(format!("tensor {name}: unresolved shape {shape:?}"))
            })?;
            let bytes = count * if dtype == TRT_HALF { 2 } else { 4 };
            let stream = self.gpu.stream();
            let device = stream.alloc_zeros::<u8>(bytes.max(256)).map_err(|e| {
                TrtError::Cuda(crate::preprocess::cuda::GpuError::Driver {
                    during: "cuMemAlloc",
                    message: format!("{e:?}"),
                })
            })?;
            let host = if is_input {
                None
            } else {
                Some(PinnedBuffer::new(&self.gpu, count, PinnedUse::Readback)?)
            };
            let (ptr, _sync) = device.device_ptr(stream);
            // cuMemAlloc returns 256-byte aligned addresses, as setTensorAddress requires.
            if unsafe {
                shim::redline_trt_set_tensor_address(
                    self.engine,
                    c_name.as_ptr(),
                    ptr as *mut c_void,
                )
            } == 0
            {
                return Err(TrtError::Contract(format!(
                    "setTensorAddress({name}) refused"
                )));
            }
            drop(_sync);
            self.io.push(IoTensor {
                name,
                _c_name: c_name,
                is_input,
                dtype,
                shape,
                elements: count,
                device,
                host,
            });
        }
        self.input = found_input.ok_or_else(|| {
            TrtError::Contract(format!("engine has no input named {:?}", model.input_name))
        })?;
        for wanted in &model.outputs {
            if !self.io.iter().any(|t| !t.is_input && &t.name == wanted) {
                return Err(TrtError::Contract(format!(
                    "engine has no output named {wanted:?} (model.outputs)"
                )));
            }
        }
        Ok(())
    }

    /// The input tensor the CUDA preprocessing kernel writes into.
    pub fn input(&self) -> DeviceTensor {
        let t = &self.io[self.input];
        let (ptr, _sync) = t.device.device_ptr(self.gpu.stream());
        DeviceTensor {
            ptr,
            len: t.elements,
            dtype: if t.dtype == TRT_HALF {
                TensorDType::F16
            } else {
                TensorDType::F32
            },
        }
    }

    pub fn io(&self) -> &[IoTensor] {
        &self.io
    }

    pub fn launch_mode(&self) -> &LaunchMode {
        &self.mode
    }

    fn enqueue_raw(&mut self) -> bool {
        #[cfg(redline_trt_shim)]
        {
            // SAFETY: the engine is live and every tensor address was set in `bind`.
            unsafe {
                shim::redline_trt_enqueue(self.engine, self.gpu.stream().cu_stream() as *mut c_void)
                    == 1
            }
        }
        #[cfg(not(redline_trt_shim))]
        {
            false
        }
    }

    /// One warm-up inference (synchronised), then CUDA graph capture of the enqueue.
    pub fn warm_up(&mut self) -> Result<(), TrtError> {
        if !self.enqueue_raw() {
            return Err(TrtError::Runtime {
                during: "warm-up enqueueV3",
                message: "enqueueV3 returned false".into(),
            });
        }
        self.gpu.synchronize()?;
        let stream = self.gpu.stream().clone();
        let refused = match stream
            .begin_capture(sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
        {
            Err(e) => Some(format!("cuStreamBeginCapture: {e:?}")),
            Ok(()) => {
                let enqueued = self.enqueue_raw();
                match stream.end_capture(sys::CUgraphInstantiate_flags(0)) {
                    Ok(Some(graph)) if enqueued => {
                        self.graph = Some(graph);
                        None
                    }
                    Ok(_) => {
                        Some("enqueueV3 during capture failed or captured nothing".to_string())
                    }
                    Err(e) => Some(format!("cuStreamEndCapture/cuGraphInstantiate: {e:?}")),
                }
            }
        };
        self.mode = match refused {
            None => LaunchMode::CudaGraph,
            Some(reason) => {
                tracing::warn!(%reason, "CUDA graph capture refused; using enqueueV3 per frame");
                LaunchMode::Enqueue {
                    capture_refused: reason,
                }
            }
        };
        // Exercise the chosen path once before reporting ready.
        self.infer().map_err(|_| TrtError::Runtime {
            during: "warm-up inference",
            message: "launch failed".into(),
        })?;
        self.gpu.synchronize()?;
        Ok(())
    }

    /// Copies a host-preprocessed f32 input to the device input (CPU preprocessing path).
    pub fn upload_input_f32(&mut self, host: &[f32]) -> Result<(), FrameError> {
        let t = &self.io[self.input];
        if t.dtype != TRT_FLOAT || host.len() != t.elements {
            return Err(FrameError::Engine);
        }
        let (dst, _sync) = t.device.device_ptr(self.gpu.stream());
        // SAFETY: the device buffer holds `elements` f32 values; the copy is ordered on the
        // stream before the inference that reads it.
        unsafe {
            cudarc::driver::result::memcpy_htod_async(dst, host, self.gpu.stream().cu_stream())
        }
        .map_err(|_| FrameError::Engine)
    }

    /// Enqueues inference and the output copies on the stream (asynchronous).
    pub fn infer(&mut self) -> Result<(), FrameError> {
        match &self.graph {
            Some(graph) => graph.launch().map_err(|_| FrameError::Engine)?,
            None => {
                if !self.enqueue_raw() {
                    return Err(FrameError::Engine);
                }
            }
        }
        let stream = self.gpu.stream().cu_stream();
        for t in self.io.iter_mut().filter(|t| !t.is_input) {
            let Some(host) = t.host.as_mut() else {
                continue;
            };
            let (src, _sync) = t.device.device_ptr(self.gpu.stream());
            let dst = host.as_mut_slice().map_err(|_| FrameError::Engine)?;
            // SAFETY: `dst` is pinned and holds exactly `elements` f32 values, as does `src`.
            unsafe { cudarc::driver::result::memcpy_dtoh_async(dst, src, stream) }
                .map_err(|_| FrameError::Engine)?;
        }
        Ok(())
    }

    /// Waits for the last `infer` and returns output `name` (in host memory).
    pub fn output(&mut self, name: &str) -> Result<&[f32], FrameError> {
        self.gpu
            .stream()
            .synchronize()
            .map_err(|_| FrameError::Engine)?;
        let t = self
            .io
            .iter()
            .find(|t| !t.is_input && t.name == name)
            .ok_or(FrameError::Engine)?;
        t.host
            .as_ref()
            .ok_or(FrameError::Engine)?
            .as_slice()
            .map_err(|_| FrameError::Engine)
    }
}

impl Drop for TrtEngine {
    fn drop(&mut self) {
        self.graph = None;
        let _ = self.gpu.synchronize();
        #[cfg(redline_trt_shim)]
        // SAFETY: both pointers came from the shim and are freed exactly once.
        unsafe {
            shim::redline_trt_engine_destroy(self.engine);
            shim::redline_trt_runtime_destroy(self.runtime);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_dims_accept_the_configured_size_only() {
        assert!(input_shape_compatible(&[1, 3, 640, 640], &[1, 3, 640, 640]));
        assert!(input_shape_compatible(&[-1, 3, -1, -1], &[1, 3, 416, 416]));
        assert!(!input_shape_compatible(
            &[1, 3, 416, 416],
            &[1, 3, 640, 640]
        ));
        assert!(!input_shape_compatible(
            &[1, 640, 640, 3],
            &[1, 3, 640, 640]
        ));
        assert!(!input_shape_compatible(&[3, 640, 640], &[1, 3, 640, 640]));
    }

    #[test]
    fn element_count_rejects_unresolved_dims() {
        assert_eq!(elements(&[1, 3, 4, 5]), Some(60));
        assert_eq!(elements(&[1, -1, 4]), None);
    }
}
