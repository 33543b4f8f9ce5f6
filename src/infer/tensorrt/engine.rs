//! A deserialized TensorRT engine bound to fixed device buffers on the pipeline's stream, sized
//! for `max_batch` rows: contract validation at load (per-row shapes; the batch range from the
//! engine's optimisation profile, checked by resolving the outputs for the largest batch),
//! `setInputShape` per batch size, one warm-up enqueue and one CUDA graph capture per batch
//! size (falling back to plain `enqueueV3` when capture is refused), and output readback of
//! the rows run into pinned cached memory.

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
use crate::infer::HostStorage;
use crate::preprocess::cuda::{DeviceTensor, GpuContext, PinnedBuffer, PinnedUse};

/// TensorRT `DataType` values the node uses.
const TRT_FLOAT: i32 = 0;
const TRT_HALF: i32 = 1;
const MAX_RANK: usize = 8;

/// One engine I/O tensor with its device buffer (sized for `max_batch` rows).
pub struct IoTensor {
    pub name: String,
    /// Kept alive for the engine's lifetime: TensorRT is handed this pointer.
    _c_name: CString,
    pub is_input: bool,
    pub dtype: i32,
    /// The shape of one row (batch dimension 1).
    pub shape: Vec<i64>,
    /// Elements in one row.
    pub row_elements: usize,
    device: CudaSlice<u8>,
    /// Outputs only: where results come back to the host (`max_batch` rows).
    host: Option<PinnedBuffer<f32>>,
}

/// How inference is launched after warm-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LaunchMode {
    NotWarmedUp,
    /// One captured CUDA graph per batch size 1..=max_batch.
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
    /// Rows one run takes (the config's `max_batch`, capped by the engine's profile).
    max_batch: usize,
    /// Why the engine runs fewer rows than configured, if it does.
    batch_limit: Option<String>,
    /// Whether the input's batch dimension is dynamic (set per run with `setInputShape`).
    dynamic_batch: bool,
    /// The batch size the context's input shape is set to now.
    current_rows: usize,
    /// `graphs[b - 1]`: the captured launch for a batch of b.
    graphs: Vec<CudaGraph>,
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

/// The shape the model config demands of one row of the input tensor.
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

/// Whether per-batch output shapes (`batched`, for a batch of `rows`) are the per-row shapes
/// with the batch dimension scaled: `[rows, rest…]` for each output `[1, rest…]`.
pub fn outputs_batch(per_row: &[Vec<i64>], batched: &[Vec<i64>], rows: i64) -> bool {
    per_row.len() == batched.len()
        && per_row.iter().zip(batched).all(|(one, many)| {
            one.len() == many.len()
                && one.first() == Some(&1)
                && many.first() == Some(&rows)
                && one[1..] == many[1..]
        })
}

/// A tensor as the engine first describes it.
#[cfg(redline_trt_shim)]
struct Described {
    c_name: CString,
    name: String,
    is_input: bool,
    dtype: i32,
    shape: Vec<i64>,
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
                max_batch: 1,
                batch_limit: None,
                dynamic_batch: false,
                current_rows: 1,
                graphs: Vec::new(),
                mode: LaunchMode::NotWarmedUp,
            };
            this.bind(model)?;
            Ok(this)
        }
    }

    #[cfg(redline_trt_shim)]
    fn describe_io(&self) -> Result<Vec<Described>, TrtError> {
        // SAFETY (whole fn): `self.engine` is a live shim engine; names are NUL-terminated.
        let count = unsafe { shim::redline_trt_io_count(self.engine) };
        let mut out = Vec::new();
        for i in 0..count {
            let raw = unsafe { shim::redline_trt_io_name(self.engine, i) };
            if raw.is_null() {
                return Err(TrtError::Contract(format!("I/O tensor {i} has no name")));
            }
            let c_name = unsafe { CStr::from_ptr(raw) }.to_owned();
            let name = c_name.to_string_lossy().into_owned();
            let is_input = unsafe { shim::redline_trt_io_mode(self.engine, c_name.as_ptr()) } == 1;
            let dtype = unsafe { shim::redline_trt_io_dtype(self.engine, c_name.as_ptr()) };
            let shape = self.shape_of(&c_name, ShapeSource::Engine)?;
            out.push(Described {
                c_name,
                name,
                is_input,
                dtype,
                shape,
            });
        }
        Ok(out)
    }

    #[cfg(redline_trt_shim)]
    fn shape_of(&self, name: &CStr, source: ShapeSource) -> Result<Vec<i64>, TrtError> {
        let mut dims = [0i64; MAX_RANK];
        // SAFETY: `self.engine` is live, `name` NUL-terminated, `dims` holds MAX_RANK values.
        let rank = unsafe {
            match source {
                ShapeSource::Engine => shim::redline_trt_io_shape(
                    self.engine,
                    name.as_ptr(),
                    0,
                    dims.as_mut_ptr(),
                    MAX_RANK as i32,
                ),
                ShapeSource::Context => shim::redline_trt_io_shape(
                    self.engine,
                    name.as_ptr(),
                    1,
                    dims.as_mut_ptr(),
                    MAX_RANK as i32,
                ),
                ShapeSource::ProfileMax => shim::redline_trt_profile_shape(
                    self.engine,
                    name.as_ptr(),
                    2,
                    dims.as_mut_ptr(),
                    MAX_RANK as i32,
                ),
            }
        };
        if rank < 0 || rank as usize > MAX_RANK {
            return Err(TrtError::Contract(format!(
                "tensor {}: unusable rank {rank}",
                name.to_string_lossy()
            )));
        }
        Ok(dims[..rank as usize].to_vec())
    }

    /// Set the input to a batch of `rows` (only when its batch dimension is dynamic).
    fn set_rows(&mut self, rows: usize) -> bool {
        if rows == self.current_rows {
            return true;
        }
        if !self.dynamic_batch {
            return false;
        }
        #[cfg(redline_trt_shim)]
        {
            let t = &self.io[self.input];
            let mut dims = [0i64; MAX_RANK];
            let rank = t.shape.len().min(MAX_RANK);
            dims[..rank].copy_from_slice(&t.shape[..rank]);
            dims[0] = rows as i64;
            // SAFETY: the engine is live; the name is NUL-terminated; dims holds `rank` values.
            let ok = unsafe {
                shim::redline_trt_set_input_shape(
                    self.engine,
                    t._c_name.as_ptr(),
                    dims.as_ptr(),
                    rank as i32,
                )
            } == 1;
            if ok {
                self.current_rows = rows;
            }
            ok
        }
        #[cfg(not(redline_trt_shim))]
        {
            false
        }
    }

    #[cfg(redline_trt_shim)]
    fn bind(&mut self, model: &ModelConfig) -> Result<(), TrtError> {
        let described = self.describe_io()?;
        let row = expected_input_shape(model);
        let want_dtype = match model.dtype {
            TensorDType::F32 => TRT_FLOAT,
            TensorDType::F16 => TRT_HALF,
        };
        let inputs: Vec<&Described> = described.iter().filter(|d| d.is_input).collect();
        let [input] = inputs.as_slice() else {
            return Err(TrtError::Contract(format!(
                "the engine has {} inputs {:?}; redline feeds exactly one (model.input_name {:?})",
                inputs.len(),
                inputs.iter().map(|d| &d.name).collect::<Vec<_>>(),
                model.input_name
            )));
        };
        if input.name != model.input_name {
            return Err(TrtError::Contract(format!(
                "engine input is {:?}, model.input_name is {:?}",
                input.name, model.input_name
            )));
        }
        if !input_shape_compatible(&input.shape, &row) {
            return Err(TrtError::Contract(format!(
                "input {} has shape {:?}, the config needs {row:?} per frame",
                input.name, input.shape
            )));
        }
        if input.dtype != want_dtype {
            return Err(TrtError::Contract(format!(
                "input {} has TensorRT data type {}, the config needs {:?}",
                input.name, input.dtype, model.dtype
            )));
        }
        for d in described.iter().filter(|d| !d.is_input) {
            if d.dtype != TRT_FLOAT {
                return Err(TrtError::Contract(format!(
                    "output {} is TensorRT data type {}; redline decodes f32 outputs",
                    d.name, d.dtype
                )));
            }
        }
        for wanted in &model.outputs {
            if !described.iter().any(|t| !t.is_input && &t.name == wanted) {
                return Err(TrtError::Contract(format!(
                    "engine has no output named {wanted:?} (model.outputs)"
                )));
            }
        }

        // The batch range: the profile's max when the batch dimension is dynamic, else 1.
        let dynamic = input.shape.contains(&-1);
        self.dynamic_batch = input.shape.first() == Some(&-1);
        let profile_max = if self.dynamic_batch {
            self.shape_of(&input.c_name, ShapeSource::ProfileMax)?
                .first()
                .copied()
                .unwrap_or(1)
                .max(1) as usize
        } else {
            1
        };
        let set_shape = |engine: *mut c_void, rows: usize| -> Result<(), TrtError> {
            if !dynamic {
                return Ok(());
            }
            let mut dims = row.clone();
            dims[0] = rows as i64;
            // SAFETY: the engine is live; names NUL-terminated; dims holds `dims.len()` values.
            let ok = unsafe {
                shim::redline_trt_set_input_shape(
                    engine,
                    input.c_name.as_ptr(),
                    dims.as_ptr(),
                    dims.len() as i32,
                )
            };
            if ok == 0 {
                return Err(TrtError::Contract(format!(
                    "setInputShape({}, {dims:?}) refused",
                    input.name
                )));
            }
            Ok(())
        };
        let outputs: Vec<&Described> = described.iter().filter(|d| !d.is_input).collect();
        let output_shapes = |this: &Self| -> Result<Vec<Vec<i64>>, TrtError> {
            outputs
                .iter()
                .map(|d| this.shape_of(&d.c_name, ShapeSource::Context))
                .collect()
        };
        set_shape(self.engine, 1)?;
        let per_row = output_shapes(self)?;
        let mut max_batch = model.max_batch.min(profile_max).max(1);
        self.batch_limit = if model.max_batch <= 1 {
            None
        } else if !self.dynamic_batch {
            Some(
                "the engine's input has a fixed batch of 1 (rebuild with `redline engine build`)"
                    .into(),
            )
        } else if profile_max < model.max_batch {
            Some(format!(
                "the engine's optimisation profile allows at most {profile_max} rows (the model did not build for {}; see `redline engine build`)",
                model.max_batch
            ))
        } else {
            None
        };
        if max_batch > 1 {
            set_shape(self.engine, max_batch)?;
            let batched = output_shapes(self)?;
            if !outputs_batch(&per_row, &batched, max_batch as i64) {
                self.batch_limit = Some(format!(
                    "for a batch of {max_batch} the outputs come out as {batched:?}, not the per-frame shapes {per_row:?} with the batch scaled"
                ));
                max_batch = 1;
                set_shape(self.engine, 1)?;
            }
        }
        self.max_batch = max_batch;
        self.current_rows = max_batch;

        let mut out_ix = 0;
        for d in described {
            let shape = if d.is_input {
                row.clone()
            } else {
                let s = per_row[out_ix].clone();
                out_ix += 1;
                s
            };
            let row_elements = elements(&shape).ok_or_else(|| {
                TrtError::Contract(format!("tensor {}: unresolved shape {shape:?}", d.name))
            })?;
            let count = row_elements * max_batch;
            let bytes = count * if d.dtype == TRT_HALF { 2 } else { 4 };
            let stream = self.gpu.stream();
            let device = stream.alloc_zeros::<u8>(bytes.max(256)).map_err(|e| {
                TrtError::Cuda(crate::preprocess::cuda::GpuError::Driver {
                    during: "cuMemAlloc",
                    message: format!("{e:?}"),
                })
            })?;
            let host = if d.is_input {
                None
            } else {
                Some(PinnedBuffer::new(&self.gpu, count, PinnedUse::Readback)?)
            };
            let (ptr, _sync) = device.device_ptr(stream);
            // cuMemAlloc returns 256-byte aligned addresses, as setTensorAddress requires.
            // SAFETY: the engine is live, the name NUL-terminated, the buffer outlives it.
            if unsafe {
                shim::redline_trt_set_tensor_address(
                    self.engine,
                    d.c_name.as_ptr(),
                    ptr as *mut c_void,
                )
            } == 0
            {
                return Err(TrtError::Contract(format!(
                    "setTensorAddress({}) refused",
                    d.name
                )));
            }
            drop(_sync);
            if d.is_input {
                self.input = self.io.len();
            }
            self.io.push(IoTensor {
                name: d.name,
                _c_name: d.c_name,
                is_input: d.is_input,
                dtype: d.dtype,
                shape,
                row_elements,
                device,
                host,
            });
        }
        Ok(())
    }

    /// Rows one run takes.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Why the engine runs fewer rows than `model.max_batch` asks for, if it does.
    pub fn batch_limit(&self) -> Option<&str> {
        self.batch_limit.as_deref()
    }

    /// Row `row` of the input tensor, where the CUDA preprocessing kernel writes frame `row`.
    pub fn input_row(&self, row: usize) -> Option<DeviceTensor> {
        let t = &self.io[self.input];
        if row >= self.max_batch {
            return None;
        }
        let (ptr, _sync) = t.device.device_ptr(self.gpu.stream());
        let bytes = if t.dtype == TRT_HALF { 2 } else { 4 };
        Some(DeviceTensor {
            ptr: ptr + (row * t.row_elements * bytes) as u64,
            len: t.row_elements,
            dtype: if t.dtype == TRT_HALF {
                TensorDType::F16
            } else {
                TensorDType::F32
            },
        })
    }

    /// The whole input tensor (row 0 first), for a batch of one.
    pub fn input(&self) -> DeviceTensor {
        let t = &self.io[self.input];
        let (ptr, _sync) = t.device.device_ptr(self.gpu.stream());
        DeviceTensor {
            ptr,
            len: t.row_elements * self.max_batch,
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

    /// Capture the enqueue of a batch of `rows` into a CUDA graph (the shape is set first and
    /// one plain enqueue runs before capture, as TensorRT requires after a shape change).
    fn capture(&mut self, rows: usize) -> Result<CudaGraph, String> {
        if !self.set_rows(rows) {
            return Err(format!("setInputShape for a batch of {rows} refused"));
        }
        if !self.enqueue_raw() {
            return Err(format!("enqueueV3 for a batch of {rows} failed"));
        }
        self.gpu.synchronize().map_err(|e| e.to_string())?;
        let stream = self.gpu.stream().clone();
        stream
            .begin_capture(sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
            .map_err(|e| format!("cuStreamBeginCapture: {e:?}"))?;
        let enqueued = self.enqueue_raw();
        match stream.end_capture(sys::CUgraphInstantiate_flags(0)) {
            Ok(Some(graph)) if enqueued => Ok(graph),
            Ok(_) => Err("enqueueV3 during capture failed or captured nothing".to_string()),
            Err(e) => Err(format!("cuStreamEndCapture/cuGraphInstantiate: {e:?}")),
        }
    }

    /// One warm-up inference per batch size (synchronised), capturing a CUDA graph for each.
    pub fn warm_up(&mut self) -> Result<(), TrtError> {
        if !self.enqueue_raw() {
            return Err(TrtError::Runtime {
                during: "warm-up enqueueV3",
                message: "enqueueV3 returned false".into(),
            });
        }
        self.gpu.synchronize()?;
        let mut graphs = Vec::with_capacity(self.max_batch);
        let mut refused = None;
        for rows in 1..=self.max_batch {
            match self.capture(rows) {
                Ok(graph) => graphs.push(graph),
                Err(reason) => {
                    refused = Some(reason);
                    break;
                }
            }
        }
        self.mode = match refused {
            None => {
                self.graphs = graphs;
                LaunchMode::CudaGraph
            }
            Some(reason) => {
                tracing::warn!(%reason, "CUDA graph capture refused; using enqueueV3 per run");
                LaunchMode::Enqueue {
                    capture_refused: reason,
                }
            }
        };
        // Exercise the chosen path once per batch size before reporting ready.
        for rows in 1..=self.max_batch {
            self.infer_rows(rows).map_err(|_| TrtError::Runtime {
                during: "warm-up inference",
                message: format!("launch of a batch of {rows} failed"),
            })?;
        }
        self.gpu.synchronize()?;
        Ok(())
    }

    /// Copies the first `rows` rows of a host-preprocessed input to the device input (CPU
    /// preprocessing path).
    pub fn upload_input(&mut self, host: HostStorage<'_>, rows: usize) -> Result<(), FrameError> {
        let t = &self.io[self.input];
        let n = rows * t.row_elements;
        if rows == 0 || rows > self.max_batch {
            return Err(FrameError::Engine);
        }
        let (dst, _sync) = t.device.device_ptr(self.gpu.stream());
        let stream = self.gpu.stream().cu_stream();
        // SAFETY: the device buffer holds `max_batch` rows of the input's element type and `n`
        // elements of that type are copied; the copy is ordered on the stream before the
        // inference that reads it.
        match host {
            HostStorage::F32(v) if t.dtype == TRT_FLOAT => {
                let src = v.get(..n).ok_or(FrameError::Engine)?;
                unsafe { cudarc::driver::result::memcpy_htod_async(dst, src, stream) }
            }
            HostStorage::F16(v) if t.dtype == TRT_HALF => {
                let src = v.get(..n).ok_or(FrameError::Engine)?;
                unsafe { cudarc::driver::result::memcpy_htod_async(dst, src, stream) }
            }
            _ => return Err(FrameError::Engine),
        }
        .map_err(|_| FrameError::Engine)
    }

    /// Enqueues inference of the first `rows` rows and the output copies (asynchronous).
    pub fn infer_rows(&mut self, rows: usize) -> Result<(), FrameError> {
        if rows == 0 || rows > self.max_batch || !self.set_rows(rows) {
            return Err(FrameError::Engine);
        }
        match self.graphs.get(rows - 1) {
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
            let dst = host
                .as_mut_slice()
                .map_err(|_| FrameError::Engine)?
                .get_mut(..rows * t.row_elements)
                .ok_or(FrameError::Engine)?;
            // SAFETY: `dst` is pinned and holds `rows` rows of f32, as does the start of `src`.
            unsafe { cudarc::driver::result::memcpy_dtoh_async(dst, src, stream) }
                .map_err(|_| FrameError::Engine)?;
        }
        Ok(())
    }

    /// Enqueues inference of a batch of one (see [`TrtEngine::infer_rows`]).
    pub fn infer(&mut self) -> Result<(), FrameError> {
        self.infer_rows(1)
    }

    /// Waits for the last inference and returns the first `rows` rows of output `name`.
    pub fn output_rows(&mut self, name: &str, rows: usize) -> Result<&[f32], FrameError> {
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
            .map_err(|_| FrameError::Engine)?
            .get(..rows * t.row_elements)
            .ok_or(FrameError::Engine)
    }

    /// Waits for the last inference and returns row 0 of output `name`.
    pub fn output(&mut self, name: &str) -> Result<&[f32], FrameError> {
        self.output_rows(name, 1)
    }
}

/// Where [`TrtEngine::shape_of`] reads a shape.
#[cfg(redline_trt_shim)]
#[derive(Copy, Clone)]
enum ShapeSource {
    /// As built (dynamic dims are -1).
    Engine,
    /// As the execution context resolves it for the current input shape.
    Context,
    /// Optimisation profile 0's max.
    ProfileMax,
}

impl Drop for TrtEngine {
    fn drop(&mut self) {
        self.graphs.clear();
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
    fn batched_outputs_must_scale_the_batch_dimension_only() {
        let per_row = vec![vec![1, 3549, 85]];
        assert!(outputs_batch(&per_row, &[vec![4, 3549, 85]], 4));
        // A reshape to a constant 1 folds the batch into the anchors: not a batch.
        assert!(!outputs_batch(&per_row, &[vec![1, 4 * 3549, 85]], 4));
        assert!(!outputs_batch(
            &per_row,
            &[vec![4, 3549, 85], vec![4, 1]],
            4
        ));
        assert!(!outputs_batch(
            &[vec![2, 3549, 85]],
            &[vec![8, 3549, 85]],
            4
        ));
    }

    #[test]
    fn element_count_rejects_unresolved_dims() {
        assert_eq!(elements(&[1, 3, 4, 5]), Some(60));
        assert_eq!(elements(&[1, -1, 4]), None);
    }
}
