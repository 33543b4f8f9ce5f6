//! Preallocated engine I/O buffers: the input tensor preprocessing writes into, and the output
//! buffers the decoder reads. Allocated once at start-up; they move between threads by value.

use std::sync::Arc;

use tract_onnx::prelude::{DatumType, Tensor};

use super::contract::{ElementType, TensorSpec};
use crate::error::{FrameError, Stage};

/// The engine input for one frame. Its storage is a tract tensor shared (by reference count,
/// no copy) with the engine while it runs; preprocessing writes into it through
/// [`InputTensor::as_f32_mut`] / [`InputTensor::as_f16_mut`].
#[derive(Debug)]
pub struct InputTensor {
    tensor: Arc<Tensor>,
    spec: TensorSpec,
}

impl InputTensor {
    /// A zeroed tensor of `spec`'s shape and element type (start-up: allocates).
    pub fn new(spec: &TensorSpec) -> Self {
        let dt = match spec.element {
            ElementType::F32 => DatumType::F32,
            ElementType::F16 => DatumType::F16,
        };
        // Start-up invariant: zero_dt fails only for non-numeric types, never for f32/f16.
        let tensor = Tensor::zero_dt(dt, &spec.shape).unwrap_or_default();
        Self {
            tensor: Arc::new(tensor),
            spec: spec.clone(),
        }
    }

    /// The shape and type this buffer holds.
    pub fn spec(&self) -> &TensorSpec {
        &self.spec
    }

    /// Mutable f32 storage; fails when the tensor is f16 or still shared with a running engine.
    pub fn as_f32_mut(&mut self) -> Result<&mut [f32], FrameError> {
        self.storage_mut::<f32>()
    }

    /// Mutable f16 storage; fails when the tensor is f32 or still shared with a running engine.
    pub fn as_f16_mut(&mut self) -> Result<&mut [half::f16], FrameError> {
        self.storage_mut::<half::f16>()
    }

    fn storage_mut<T: tract_onnx::prelude::Datum>(&mut self) -> Result<&mut [T], FrameError> {
        let busy = FrameError::PoolExhausted(Stage::Preprocess);
        let tensor = Arc::get_mut(&mut self.tensor).ok_or(busy)?;
        tensor
            .to_plain_array_view_mut::<T>()
            .ok()
            .and_then(|view| view.into_slice())
            .ok_or(busy)
    }

    /// The storage as the preprocessing target, in the element type of the spec.
    pub fn tensor_mut(&mut self) -> Result<crate::preprocess::TensorMut<'_>, FrameError> {
        match self.spec.element {
            ElementType::F32 => self.as_f32_mut().map(crate::preprocess::TensorMut::F32),
            ElementType::F16 => self.as_f16_mut().map(crate::preprocess::TensorMut::F16),
        }
    }

    /// Read access (tests, other backends copying to device memory).
    pub fn as_f32(&self) -> Option<&[f32]> {
        self.tensor
            .to_plain_array_view::<f32>()
            .ok()
            .and_then(|v| v.to_slice())
    }

    /// The shared tract tensor, for the tract engine.
    pub(crate) fn shared(&self) -> &Arc<Tensor> {
        &self.tensor
    }
}

/// One output per decoder slot, in decoder order, as contiguous f32 in the model's layout.
#[derive(Clone, Debug)]
pub struct OutputBuffers {
    specs: Vec<TensorSpec>,
    data: Vec<Vec<f32>>,
}

impl OutputBuffers {
    /// Zeroed buffers for `specs` (start-up: allocates).
    pub fn new(specs: &[TensorSpec]) -> Self {
        Self {
            specs: specs.to_vec(),
            data: specs.iter().map(|s| vec![0.0; s.len()]).collect(),
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

    /// Output `i` (decoder order); empty when out of range.
    pub fn get(&self, i: usize) -> &[f32] {
        self.data.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Mutable output `i` (for engines and tests); empty when out of range.
    pub fn get_mut(&mut self, i: usize) -> &mut [f32] {
        self.data
            .get_mut(i)
            .map(Vec::as_mut_slice)
            .unwrap_or(&mut [])
    }

    /// The shape of output `i`.
    pub fn spec(&self, i: usize) -> Option<&TensorSpec> {
        self.specs.get(i)
    }
}
