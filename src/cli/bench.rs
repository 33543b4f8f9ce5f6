//! `redline bench preprocess`: time the fused preprocessing pass (one thread) on a synthetic
//! source image into a chosen network input, and optionally dump the tensor it wrote (for
//! `benches/compare_preprocess.sh`, which checks it against OpenCV's).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand, ValueEnum};
use half::f16;

use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{Kernel, PreprocessSpec, Preprocessor, TensorMut};

/// What to benchmark.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time the fused pass from a synthetic W×H source into the network input given by
    /// --size/--layout/--dtype/--resize (RGB, /255, pad 114 top-left), single thread.
    Preprocess(PreprocessArgs),
    /// Batching policies for N cameras sharing one engine, on the virtual clock.
    Batching(super::bench_batching::BatchingArgs),
    /// Engine runs of a model on a backend, thread count and batch size.
    Infer(super::bench_infer::InferArgs),
}

#[derive(Debug, Args)]
pub struct PreprocessArgs {
    /// Source width in pixels.
    #[arg(long)]
    width: u32,
    /// Source height in pixels.
    #[arg(long)]
    height: u32,
    /// Source encoding: rgb8, bgr8, rgba8, bgra8, mono8, uyvy (yuv422), yuyv (yuv422_yuy2).
    #[arg(long)]
    encoding: String,
    /// Network input size, WxH.
    #[arg(long, default_value = "640x640", value_parser = parse_size)]
    size: (u32, u32),
    #[arg(long, value_enum, default_value_t = Layout::Nchw)]
    layout: Layout,
    #[arg(long, value_enum, default_value_t = DType::F32)]
    dtype: DType,
    #[arg(long, value_enum, default_value_t = Resize::Letterbox)]
    resize: Resize,
    /// Row kernel: auto (the fastest this CPU runs), portable, portable-avx2, avx2 or avx512.
    #[arg(long, default_value = "auto")]
    kernel: String,
    /// Timed runs (after a few untimed warm-up runs).
    #[arg(long, default_value_t = 200)]
    iters: usize,
    /// What to time: wall (monotonic clock) or thread (this thread's CPU time, which a busy
    /// shared machine inflates less: time-slicing by other processes is not counted).
    #[arg(long, value_enum, default_value_t = Clock::Wall)]
    clock: Clock,
    /// Print JSON {"median_ns", "p99_ns", "iters", "kernel", "clock"}.
    #[arg(long)]
    json: bool,
    /// Write the tensor of the last run here (raw little-endian f32 or f16).
    #[arg(long)]
    dump: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum DType {
    F32,
    F16,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Clock {
    Wall,
    Thread,
}

/// Nanoseconds on `clock` (thread: `CLOCK_THREAD_CPUTIME_ID`).
fn now_ns(clock: Clock, start: Instant) -> u64 {
    match clock {
        Clock::Wall => start.elapsed().as_nanos() as u64,
        Clock::Thread => {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            (ts.tv_sec as u64).wrapping_mul(1_000_000_000) + ts.tv_nsec as u64
        }
    }
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum Resize {
    Letterbox,
    Stretch,
}

/// `WxH` with both in 1..=8192.
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?}: expected WxH, e.g. 640x640, each 1..=8192");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let dim = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=8192).contains(n))
    };
    Ok((dim(w).ok_or_else(bad)?, dim(h).ok_or_else(bad)?))
}

/// Deterministic bytes, the same pattern as `benches/preprocess.rs` and
/// `benches/opencv_preprocess.py`: `(i × 7 + i / 4099) mod 251`.
fn frame_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 4099) % 251) as u8).collect()
}

/// Run the benchmark.
pub fn run(what: BenchCommand) -> anyhow::Result<()> {
    let args = match what {
        BenchCommand::Preprocess(args) => args,
        BenchCommand::Batching(args) => return super::bench_batching::run(args),
        BenchCommand::Infer(args) => return super::bench_infer::run(args),
    };
    let enc = PixelEncoding::parse(&args.encoding)
        .ok_or_else(|| anyhow!("--encoding {:?}: unknown encoding", args.encoding))?;
    let (width, height) = (args.width, args.height);
    let step = match enc {
        PixelEncoding::Uyvy | PixelEncoding::Yuyv => (width as usize).div_ceil(2) * 4,
        e => width as usize * e.bytes_per_pixel(),
    };
    let data = frame_bytes(step * height as usize);
    let limits = ImageLimits {
        max_width: width.max(1),
        max_height: height.max(1),
    };
    let view = ImageView::new(width, height, step, enc, &data, limits)
        .map_err(|k| anyhow!("image {width}x{height} {}: {}", args.encoding, k.name()))?;
    let spec = PreprocessSpec {
        width: args.size.0,
        height: args.size.1,
        layout: match args.layout {
            Layout::Nchw => TensorLayout::Nchw,
            Layout::Nhwc => TensorLayout::Nhwc,
        },
        dtype: match args.dtype {
            DType::F32 => TensorDType::F32,
            DType::F16 => TensorDType::F16,
        },
        channel_order: ChannelOrder::Rgb,
        resize: match args.resize {
            Resize::Letterbox => ResizeMode::Letterbox,
            Resize::Stretch => ResizeMode::Stretch,
        },
        anchor: LetterboxAnchor::TopLeft,
        pad_value: 114,
        scale: 1.0 / 255.0,
        mean: [0.0; 3],
        std: [1.0; 3],
    };
    let mut pre = match args.kernel.as_str() {
        "auto" => Preprocessor::new(spec),
        name => {
            let kernel = Kernel::parse(name).ok_or_else(|| {
                anyhow!("--kernel {name:?}: expected auto, portable, portable-avx2, avx2 or avx512")
            })?;
            Preprocessor::with_kernel(spec, kernel)?
        }
    };
    let n = spec.tensor_len();
    let (mut t32, mut t16) = (vec![0f32; n], vec![f16::ZERO; n]);
    let mut once = || -> anyhow::Result<()> {
        let out = match spec.dtype {
            TensorDType::F32 => TensorMut::F32(&mut t32),
            TensorDType::F16 => TensorMut::F16(&mut t16),
        };
        pre.run(&view, out)?;
        Ok(())
    };
    let iters = args.iters.max(1);
    for _ in 0..(iters / 10).clamp(3, 50) {
        once()?;
    }
    let mut times = Vec::with_capacity(iters);
    let epoch = Instant::now();
    for _ in 0..iters {
        let t0 = now_ns(args.clock, epoch);
        once()?;
        times.push(now_ns(args.clock, epoch).saturating_sub(t0));
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    let p99 = times[((times.len() * 99) / 100).min(times.len() - 1)];
    let kernel = pre.kernel().name();
    if let Some(path) = &args.dump {
        let bytes: Vec<u8> = match spec.dtype {
            TensorDType::F32 => t32.iter().flat_map(|v| v.to_le_bytes()).collect(),
            TensorDType::F16 => t16.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        std::fs::write(path, bytes)
            .with_context(|| format!("writing the tensor to {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "median_ns": median, "p99_ns": p99, "iters": iters, "kernel": kernel,
                "clock": format!("{:?}", args.clock).to_lowercase(),
            })
        );
    } else {
        let name = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
        println!(
            "preprocess {width}x{height} {} -> {}x{} {} {} {} ({kernel} kernel): median {median} \
             ns, p99 {p99} ns ({iters} iters, {} clock)",
            enc.name(),
            spec.width,
            spec.height,
            name(&args.layout),
            name(&args.dtype),
            name(&args.resize),
            name(&args.clock),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_name_the_value() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert_eq!(parse_size("416X416"), Ok((416, 416)));
        for bad in ["640", "0x640", "640x", "x", "9000x10", "axb"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }
}
