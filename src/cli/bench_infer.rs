//! `redline bench infer`: time `Engine::run` of the config's model (or `--model`) on a chosen
//! backend, thread count and batch size, on a fixed synthetic input, one run at a time after a
//! warm-up. Prints a summary, or JSON with every sample for side-by-side scripts
//! (benches/compare_inference.sh).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Context};
use clap::Args;

use redline::config::BackendKind;
use redline::infer::{load_engine, MAX_BATCH_LIMIT};
use redline::Config;

/// Options of `redline bench infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// Config file (default: config/redline.yaml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Backend: tract, onnxruntime or tensorrt (default: the config's).
    #[arg(long)]
    backend: Option<String>,
    /// Model file (default: the config's model.path; the rest of model.* must fit it).
    #[arg(long)]
    model: Option<PathBuf>,
    /// ONNX Runtime library (default: model.onnxruntime_library, else ORT_DYLIB_PATH).
    #[arg(long)]
    onnxruntime_library: Option<PathBuf>,
    /// CPU threads per inference (default: the config's model.threads).
    #[arg(long)]
    threads: Option<usize>,
    /// Rows per run.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Timed runs.
    #[arg(long, default_value_t = 100)]
    iters: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Print JSON: backend, library, model, threads, batch, load_ms, median_ms, p99_ms, mean_ms,
    /// min_ms, max_ms, samples_ms.
    #[arg(long)]
    json: bool,
}

/// Run the benchmark.
pub fn run(args: InferArgs) -> anyhow::Result<()> {
    let config_path = args.config.unwrap_or_else(Config::default_path);
    let mut model = Config::load(&config_path)?.model;
    if let Some(b) = &args.backend {
        model.backend = match b.as_str() {
            "tract" => BackendKind::Tract,
            "onnxruntime" => BackendKind::OnnxRuntime,
            "tensorrt" => BackendKind::TensorRt,
            other => {
                return Err(anyhow!(
                    "--backend {other:?}: one of tract, onnxruntime, tensorrt"
                ))
            }
        };
    }
    if let Some(m) = args.model {
        model.path = m;
    }
    if let Some(l) = args.onnxruntime_library {
        model.onnxruntime_library = Some(l);
    }
    if let Some(t) = args.threads {
        if !(1..=256).contains(&t) {
            return Err(anyhow!("--threads {t}: must be 1..=256"));
        }
        model.threads = t;
    }
    if !(1..=MAX_BATCH_LIMIT).contains(&args.batch) {
        return Err(anyhow!(
            "--batch {}: must be 1..={MAX_BATCH_LIMIT}",
            args.batch
        ));
    }
    model.max_batch = args.batch;
    let iters = args.iters.max(1);

    let t0 = Instant::now();
    let mut engine = load_engine(&model).context("loading the model")?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    if engine.max_batch() < args.batch {
        return Err(anyhow!(
            "--batch {}: {}",
            args.batch,
            engine.info().to_string().replace('\n', "; ")
        ));
    }
    let mut input = engine.new_input();
    let mut outputs = engine.new_outputs();
    // The same values benches/onnxruntime_infer.py feeds: ((i × 7919) mod 255) × model.scale.
    if let Ok(data) = input.as_f32_mut() {
        for (i, v) in data.iter_mut().enumerate() {
            *v = ((i * 7919) % 255) as f32 * model.scale;
        }
    }
    let frames: Vec<u64> = (0..args.batch as u64).collect();
    for _ in 0..args.warmup {
        engine.run(&frames, &input, &mut outputs)?;
    }
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        engine.run(&frames, &input, &mut outputs)?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    let at =
        |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1];
    let median = at(0.5);
    let p99 = at(0.99);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let info = engine.info();
    let name = model
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "backend": info.backend,
                "library": info.library,
                "model": name,
                "threads": model.threads,
                "batch": args.batch,
                "iters": iters,
                "load_ms": load_ms,
                "median_ms": median,
                "p99_ms": p99,
                "mean_ms": mean,
                "min_ms": sorted[0],
                "max_ms": sorted[sorted.len() - 1],
                "samples_ms": samples,
            })
        );
    } else {
        println!("{info}");
        println!(
            "{name}: batch {}, {} thread(s): median {median:.2} ms, p99 {p99:.2} ms, mean {mean:.2} ms over {iters} runs (load {load_ms:.0} ms)",
            args.batch, model.threads
        );
    }
    Ok(())
}
