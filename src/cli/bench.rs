//! `redline bench preprocess`: time one frame of the fused preprocessing pass (single thread)
//! from a synthetic W×H image into a 640×640 NCHW f32 letterbox.

use std::time::Instant;

use anyhow::anyhow;
use clap::Subcommand;

use redline::config::{ChannelOrder, LetterboxAnchor, ResizeMode, TensorDType, TensorLayout};
use redline::frame::{ImageLimits, ImageView, PixelEncoding};
use redline::preprocess::{PreprocessSpec, Preprocessor, TensorMut};

/// What to benchmark.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// One frame of the fused pass into a 640×640 NCHW f32 letterbox, single thread.
    Preprocess {
        #[arg(long)]
        width: u32,
        #[arg(long)]
        height: u32,
        /// Pixel encoding: rgb8, bgr8, rgba8, bgra8, mono8.
        #[arg(long)]
        encoding: String,
        #[arg(long, default_value_t = 200)]
        iters: usize,
        /// Print JSON {"median_ns", "p99_ns"}.
        #[arg(long)]
        json: bool,
    },
    /// Batching policies for N cameras sharing one engine, on the virtual clock.
    Batching(super::bench_batching::BatchingArgs),
    /// Engine runs of a model on a backend, thread count and batch size.
    Infer(super::bench_infer::InferArgs),
}

/// Run the benchmark.
pub fn run(what: BenchCommand) -> anyhow::Result<()> {
    let (width, height, encoding, iters, json) = match what {
        BenchCommand::Preprocess {
            width,
            height,
            encoding,
            iters,
            json,
        } => (width, height, encoding, iters, json),
        BenchCommand::Batching(args) => return super::bench_batching::run(args),
        BenchCommand::Infer(args) => return super::bench_infer::run(args),
    };
    let enc =
        PixelEncoding::parse(&encoding).ok_or_else(|| anyhow!("unknown encoding {encoding:?}"))?;
    let step = width as usize * enc.bytes_per_pixel();
    let data: Vec<u8> = (0..step * height as usize)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let limits = ImageLimits {
        max_width: width.max(1),
        max_height: height.max(1),
    };
    let view = ImageView::new(width, height, step, enc, &data, limits)
        .map_err(|k| anyhow!("image {width}x{height} {encoding}: {}", k.name()))?;
    let spec = PreprocessSpec {
        width: 640,
        height: 640,
        layout: TensorLayout::Nchw,
        dtype: TensorDType::F32,
        channel_order: ChannelOrder::Rgb,
        resize: ResizeMode::Letterbox,
        anchor: LetterboxAnchor::Center,
        pad_value: 114,
        scale: 1.0 / 255.0,
        mean: [0.0; 3],
        std: [1.0; 3],
    };
    let mut out = vec![0f32; spec.tensor_len()];
    let mut pre = Preprocessor::new(spec);
    pre.run(&view, TensorMut::F32(&mut out))?;
    let iters = iters.max(1);
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        pre.run(&view, TensorMut::F32(&mut out))?;
        times.push(t.elapsed().as_nanos() as u64);
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    let p99 = times[((times.len() * 99) / 100).min(times.len() - 1)];
    if json {
        println!(
            "{}",
            serde_json::json!({"median_ns": median, "p99_ns": p99})
        );
    } else {
        println!("preprocess {width}x{height} {encoding} -> 640x640 nchw f32 letterbox: median {median} ns, p99 {p99} ns ({iters} iters)");
    }
    Ok(())
}
