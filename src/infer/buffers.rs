//! Preallocated engine I/O buffers for a batch of up to `rows` frames: the input tensor
//! preprocessing writes into (row *i* is frame *i* of the batch) and the output buffers the
//! decoder reads row by row. Allocated once at start-up; they move between threads by value.

use std::sync::{Arc, Mutex, MutexGuard};

use tract_onnx::prelude::{DatumType, Tensor};

use super::contract::{ElementType, TensorSpec};
use crate::error::{FrameError, Stage};
use crate::preprocess::TensorMut;

/// The engine input for a batch of `rows` frames, shape `[rows, …]` of the per-row spec.
///
/// Its storage is one tract tensor, shared (by reference count, no copy) with the tract engine
/// while it runs; other backends read it in place. Preprocessing writes row *i* through
/// [`InputTensor::row_mut`]. The mutex is never contended: it lets an engine holding only
/// `&InputTensor` present the first *b* rows as a `[b, …]` tensor without copying them.
#[derive(Debug)]
pub struct InputTensor {
    tensor: Mutex<Arc<Tensor>>,
    spec: TensorSpec,
    rows: usize,
}

impl InputTensor {
    /// A zeroed tensor for `rows` frames of `spec` (one row's shape and element type; its first
    /// dimension is the batch dimension). Start-up: allocates. `rows` is at least 1.
    pub fn new(spec: &TensorSpec, rows: usize) -> Self {
        let rows = rows.max(1);
        let dt = match spec.element {
            ElementType::F32 => DatumType::F32,
            ElementType::F16 => DatumType::F16,
        };
        let shape = batch_shape(&spec.shape, rows);
        // Start-up invariant: zero_dt fails only for non-numeric types, never for f32/f16.
        let tensor = Tensor::zero_dt(dt, &shape).unwrap_or_default();
        Self {
            tensor: Mutex::new(Arc::new(tensor)),
            spec: spec.clone(),
            rows,
        }
    }

    /// The shape and type of one row (one frame).
    pub fn spec(&self) -> &TensorSpec {
        &self.spec
    }

    /// Rows (frames) this buffer holds.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Elements in one row.
    pub fn row_len(&self) -> usize {
        self.spec.len()
    }

    /// Row `i` as the preprocessing target, in the element type of the spec. Fails when `i` is
    /// out of range, or when the tensor is still shared with a running engine.
    pub fn row_mut(&mut self, i: usize) -> Result<TensorMut<'_>, FrameError> {
        let len = self.row_len();
        let range = i * len..(i + 1) * len;
        if i >= self.rows {
            return Err(FrameError::Engine);
        }
        match self.spec.element {
            ElementType::F32 => self
                .storage_mut::<f32>()?
                .get_mut(range)
                .map(TensorMut::F32)
                .ok_or(FrameError::Engine),
            ElementType::F16 => self
                .storage_mut::<half::f16>()?
                .get_mut(range)
                .map(TensorMut::F16)
                .ok_or(FrameError::Engine),
        }
    }

    /// Mutable f32 storage of every row; fails when the tensor is f16 or still shared with a
    /// running engine.
    pub fn as_f32_mut(&mut self) -> Result<&mut [f32], FrameError> {
        self.storage_mut::<f32>()
    }

    /// Mutable f16 storage of every row; fails when the tensor is f32 or still shared.
    pub fn as_f16_mut(&mut self) -> Result<&mut [half::f16], FrameError> {
        self.storage_mut::<half::f16>()
    }

    fn storage_mut<T: tract_onnx::prelude::Datum>(&mut self) -> Result<&mut [T], FrameError> {
        let busy = FrameError::PoolExhausted(Stage::Preprocess);
        let shared = self.tensor.get_mut().map_err(|_| busy)?;
        let tensor = Arc::get_mut(shared).ok_or(busy)?;
        tensor
            .to_plain_array_view_mut::<T>()
            .ok()
            .and_then(|view| view.into_slice())
            .ok_or(busy)
    }

    /// Run `f` over the storage of every row as bytes-in-place (f32 or f16), for backends that
    /// read the input where it lies (ONNX Runtime, the TensorRT upload). `None` when the lock is
    /// poisoned or the storage is not plain.
    pub fn with_storage<R>(&self, f: impl FnOnce(HostStorage<'_>) -> R) -> Option<R> {
        let guard = self.tensor.lock().ok()?;
        let storage = match self.spec.element {
            ElementType::F32 => HostStorage::F32(
                guard
                    .to_plain_array_view::<f32>()
                    .ok()
                    .and_then(|v| v.to_slice())?,
            ),
            ElementType::F16 => HostStorage::F16(
                guard
                    .to_plain_array_view::<half::f16>()
                    .ok()
                    .and_then(|v| v.to_slice())?,
            ),
        };
        Some(f(storage))
    }

    /// Lock the shared tract tensor (the tract engine reshapes it to the rows it runs).
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Arc<Tensor>>, FrameError> {
        self.tensor.lock().map_err(|_| FrameError::Engine)
    }

    /// The full `[rows, …]` shape.
    pub fn batch_shape(&self) -> Vec<usize> {
        batch_shape(&self.spec.shape, self.rows)
    }
}

/// The input storage of every row, read in place.
#[derive(Copy, Clone, Debug)]
pub enum HostStorage<'a> {
    F32(&'a [f32]),
    F16(&'a [half::f16]),
}

/// `shape` with its first (batch) dimension set to `rows`.
pub fn batch_shape(shape: &[usize], rows: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    match s.first_mut() {
        Some(first) => *first = rows,
        None => s.push(rows),
    }
    s
}

/// One output per decoder slot, in decoder order, each holding `rows` rows of contiguous f32 in
/// the model's layout (row *i* = frame *i* of the batch).
#[derive(Clone, Debug)]
pub struct OutputBuffers {
    specs: Vec<TensorSpec>,
    data: Vec<Vec<f32>>,
    rows: usize,
}

impl OutputBuffers {
    /// Zeroed buffers for `rows` frames of `specs` (each one row's shape). Start-up: allocates.
    /// `rows` is at least 1.
    pub fn new(specs: &[TensorSpec], rows: usize) -> Self {
        let rows = rows.max(1);
        Self {
            specs: specs.to_vec(),
            data: specs.iter().map(|s| vec![0.0; s.len() * rows]).collect(),
            rows,
        }
    }

    /// Number of outputs.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when there are no outputs.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Rows (frames) each output holds.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Row `row` of output `output` (decoder order); empty when either is out of range.
    pub fn row(&self, output: usize, row: usize) -> &[f32] {
        let len = self.row_len(output);
        self.data
            .get(output)
            .and_then(|d| d.get(row * len..(row + 1) * len))
            .unwrap_or(&[])
    }

    /// Mutable row `row` of output `output`; empty when either is out of range.
    pub fn row_mut(&mut self, output: usize, row: usize) -> &mut [f32] {
        let len = self.row_len(output);
        self.data
            .get_mut(output)
            .and_then(|d| d.get_mut(row * len..(row + 1) * len))
            .unwrap_or(&mut [])
    }

    /// The first `rows` rows of output `output` as one slice (engines write a batch at once);
    /// empty when out of range.
    pub fn rows_mut(&mut self, output: usize, rows: usize) -> &mut [f32] {
        let len = self.row_len(output);
        self.data
            .get_mut(output)
            .and_then(|d| d.get_mut(..rows * len))
            .unwrap_or(&mut [])
    }

    /// Every row of output `i` (decoder order); empty when out of range.
    pub fn get(&self, i: usize) -> &[f32] {
        self.data.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every row of output `i`, mutable (for engines and tests); empty when out of range.
    pub fn get_mut(&mut self, i: usize) -> &mut [f32] {
        self.data
            .get_mut(i)
            .map(Vec::as_mut_slice)
            .unwrap_or(&mut [])
    }

    /// The shape of one row of output `i`.
    pub fn spec(&self, i: usize) -> Option<&TensorSpec> {
        self.specs.get(i)
    }

    fn row_len(&self, output: usize) -> usize {
        self.specs.get(output).map_or(0, TensorSpec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(shape: &[usize], element: ElementType) -> TensorSpec {
        TensorSpec {
            name: "t".into(),
            shape: shape.to_vec(),
            element,
        }
    }

    #[test]
    fn input_rows_are_disjoint_slices_of_one_tensor() {
        let mut input = InputTensor::new(&spec(&[1, 3, 2, 2], ElementType::F32), 3);
        assert_eq!(input.rows(), 3);
        assert_eq!(input.batch_shape(), vec![3, 3, 2, 2]);
        for i in 0..3 {
            match input.row_mut(i).unwrap() {
                TensorMut::F32(row) => {
                    assert_eq!(row.len(), 12);
                    row.fill(i as f32 + 1.0);
                }
                TensorMut::F16(_) => panic!("f32 spec gave an f16 row"),
            }
        }
        assert!(input.row_mut(3).is_err());
        let all = input
            .with_storage(|s| match s {
                HostStorage::F32(v) => v.to_vec(),
                HostStorage::F16(_) => Vec::new(),
            })
            .unwrap();
        assert_eq!(all.len(), 36);
        assert!(all[..12].iter().all(|&v| v == 1.0));
        assert!(all[12..24].iter().all(|&v| v == 2.0));
        assert!(all[24..].iter().all(|&v| v == 3.0));
    }

    #[test]
    fn f16_input_rows_and_zero_rows_means_one() {
        let mut input = InputTensor::new(&spec(&[1, 4], ElementType::F16), 0);
        assert_eq!(input.rows(), 1);
        assert!(matches!(input.row_mut(0), Ok(TensorMut::F16(r)) if r.len() == 4));
        assert!(matches!(
            input.with_storage(|s| matches!(s, HostStorage::F16(v) if v.len() == 4)),
            Some(true)
        ));
    }

    #[test]
    fn a_shared_input_is_busy() {
        let mut input = InputTensor::new(&spec(&[1, 4], ElementType::F32), 2);
        let held = Arc::clone(&*input.lock().unwrap());
        assert_eq!(
            input.row_mut(0).err(),
            Some(FrameError::PoolExhausted(Stage::Preprocess))
        );
        drop(held);
        assert!(input.row_mut(1).is_ok());
    }

    #[test]
    fn output_rows_address_one_frame_each() {
        let specs = [
            spec(&[1, 2, 4], ElementType::F32),
            spec(&[1, 2, 1], ElementType::F32),
        ];
        let mut out = OutputBuffers::new(&specs, 2);
        assert_eq!((out.len(), out.rows()), (2, 2));
        out.row_mut(0, 1).fill(7.0);
        out.row_mut(1, 0).fill(3.0);
        assert_eq!(out.row(0, 0), &[0.0; 8]);
        assert_eq!(out.row(0, 1), &[7.0; 8]);
        assert_eq!(out.row(1, 0), &[3.0; 2]);
        assert_eq!(out.get(0).len(), 16);
        assert_eq!(out.rows_mut(0, 1).len(), 8);
        assert!(out.row(0, 2).is_empty());
        assert!(out.row(2, 0).is_empty());
        assert!(out.rows_mut(0, 3).is_empty());
    }
}
