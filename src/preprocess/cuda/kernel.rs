//! The CUDA source of the fused preprocessing kernel, its by-value parameter block, and its
//! NVRTC compilation.

use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};

use super::error::GpuError;

/// CUDA C source of the kernel (compiled at start-up; no CUDA headers needed).
pub const KERNEL_SOURCE: &str = include_str!("kernel.cu");
/// Entry point name in [`KERNEL_SOURCE`].
pub const KERNEL_NAME: &str = "redline_preprocess";

/// Mirrors `RedlinePreprocessParams` in `kernel.cu` field for field (passed by value).
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct KernelParams {
    pub src: u64,
    pub dst: u64,
    pub src_w: i32,
    pub src_h: i32,
    pub src_step: i32,
    pub encoding: i32,
    pub dst_w: i32,
    pub dst_h: i32,
    pub roi_x: i32,
    pub roi_y: i32,
    pub roi_w: i32,
    pub roi_h: i32,
    pub src_per_dst_x: f32,
    pub src_per_dst_y: f32,
    pub nhwc: i32,
    pub f16: i32,
    pub bgr_out: i32,
    pub pad: f32,
    pub mul: [f32; 3],
    pub add: [f32; 3],
}

// SAFETY: plain `repr(C)` data with the same layout as the CUDA struct; no pointers the host
// dereferences.
unsafe impl cudarc::driver::DeviceRepr for KernelParams {}

/// Compiles [`KERNEL_SOURCE`] to PTX with NVRTC. `arch` is e.g. `"compute_87"`; `None` lets
/// NVRTC pick its default virtual architecture (loadable by any newer device).
pub fn compile_kernel_ptx(arch: Option<&'static str>) -> Result<Ptx, GpuError> {
    // SAFETY: only probes whether the library can be opened.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(GpuError::NoNvrtc);
    }
    let opts = CompileOptions {
        arch,
        name: Some("redline_preprocess.cu".to_string()),
        fmad: Some(true),
        ..Default::default()
    };
    compile_ptx_with_opts(KERNEL_SOURCE, opts).map_err(|e| GpuError::Compile(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_layout_matches_the_cuda_struct() {
        // 2 pointers, then 12 + 4 four-byte scalars and the two 3-float arrays.
        assert_eq!(std::mem::size_of::<KernelParams>(), 16 + 4 * (12 + 4 + 6));
        assert_eq!(std::mem::align_of::<KernelParams>(), 8);
    }

    #[test]
    fn source_defines_the_entry_point_and_every_field() {
        assert!(KERNEL_SOURCE.contains(&format!("__global__ void {KERNEL_NAME}(")));
        for field in [
            "src_per_dst_x",
            "bgr_out",
            "nhwc",
            "f16",
            "mul[3]",
            "add[3]",
        ] {
            assert!(KERNEL_SOURCE.contains(field), "kernel lacks {field}");
        }
    }
}
