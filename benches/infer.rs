//! Inference benchmarks on YOLOX-nano (the shared copy, `$REDLINE_SHARED/models/yolox_nano.onnx`):
//!
//! * `tract_batch`: how tract should batch. redline's engine (one concrete plan per batch size)
//!   with `max_batch: 1` and `max_batch: 4` at 1 and 4 rows, against one plan with a symbolic
//!   batch dimension at 1 and 4 rows (the alternative, measured ~4× slower at one row).
//!   Throughput is per frame, so the 4-row results compare per-frame cost directly.
//! * `onnxruntime` (feature `onnxruntime`, library from `ORT_DYLIB_PATH` or the `.venv` wheel):
//!   the same engine calls on ONNX Runtime, one intra-op thread.
//!
//! `cargo bench --bench infer [--features onnxruntime]`

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redline::config::ModelConfig;
use redline::infer::{load_engine, Engine};
use redline::Config;
use tract_onnx::prelude::*;

fn shared_yolox() -> Option<PathBuf> {
    let root = std::env::var_os("REDLINE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let model = root.join("models/yolox_nano.onnx");
    if model.is_file() {
        Some(model)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (set REDLINE_SHARED)",
            model.display()
        );
        None
    }
}

fn yolox_config(model: &Path) -> ModelConfig {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    let text = std::fs::read_to_string(dir.join("yolox_nano.yaml"))
        .expect("config/yolox_nano.yaml")
        .replace(
            "../../shared/models/yolox_nano.onnx",
            &model.display().to_string(),
        );
    Config::from_yaml_str(&text, "yolox_nano.yaml", &dir)
        .expect("valid yolox config")
        .model
}

/// Time `engine` running `rows` rows (throughput in frames).
fn bench_engine(c: &mut Criterion, group: &str, name: &str, cfg: &ModelConfig, rows: usize) {
    let mut engine = load_engine(cfg).expect("load");
    assert!(engine.max_batch() >= rows, "{}", engine.info());
    let mut input = engine.new_input();
    let mut outputs = engine.new_outputs();
    for (i, v) in input
        .as_f32_mut()
        .expect("f32 input")
        .iter_mut()
        .enumerate()
    {
        *v = ((i * 7919) % 255) as f32;
    }
    let frames: Vec<u64> = (0..rows as u64).collect();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function(name, |b| {
        b.iter(|| engine.run(&frames, &input, &mut outputs).expect("run"))
    });
    g.finish();
}

fn with_batch(cfg: &ModelConfig, max_batch: usize) -> ModelConfig {
    let mut c = cfg.clone();
    c.max_batch = max_batch;
    c
}

fn tract_batch(c: &mut Criterion) {
    let Some(model) = shared_yolox() else { return };
    let cfg = yolox_config(&model);
    // redline's engine: one concrete plan per batch size.
    bench_engine(c, "tract_batch", "engine_max1_rows1", &cfg, 1);
    bench_engine(
        c,
        "tract_batch",
        "engine_max4_rows1",
        &with_batch(&cfg, 4),
        1,
    );
    bench_engine(
        c,
        "tract_batch",
        "engine_max4_rows4",
        &with_batch(&cfg, 4),
        4,
    );

    // The alternative it was measured against: one plan with a symbolic batch dimension.
    let parsed = tract_onnx::onnx().model_for_path(&model).expect("parse");
    let n = parsed.symbols.sym("N");
    let plan = parsed
        .with_input_fact(
            0,
            InferenceFact::dt_shape(
                f32::datum_type(),
                [n.to_dim(), 3.to_dim(), 416.to_dim(), 416.to_dim()],
            ),
        )
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .expect("symbolic plan");
    for rows in [1usize, 4] {
        let input: Tensor =
            tract_ndarray::Array4::<f32>::from_shape_fn((rows, 3, 416, 416), |(b, c, y, x)| {
                (((((b * 3 + c) * 416 + y) * 416 + x) * 7919) % 255) as f32
            })
            .into();
        let input = input.into_tvalue();
        let mut state = plan.spawn().expect("state");
        let mut g = c.benchmark_group("tract_batch");
        g.throughput(Throughput::Elements(rows as u64));
        g.bench_function(format!("symbolic_plan_rows{rows}"), |b| {
            b.iter(|| state.run(tvec!(input.clone())).expect("run"))
        });
        g.finish();
    }
}

#[cfg(feature = "onnxruntime")]
fn onnxruntime(c: &mut Criterion) {
    let Some(model) = shared_yolox() else { return };
    let lib = std::env::var_os("ORT_DYLIB_PATH")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
            std::fs::read_dir(venv).ok()?.flatten().find_map(|py| {
                let capi = py.path().join("site-packages/onnxruntime/capi");
                std::fs::read_dir(capi)
                    .ok()?
                    .flatten()
                    .map(|f| f.path())
                    .find(|f| {
                        f.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("libonnxruntime.so"))
                    })
            })
        });
    let Some(lib) = lib else {
        eprintln!("SKIPPED: no ONNX Runtime library (ORT_DYLIB_PATH or scripts/python-env.sh)");
        return;
    };
    let mut cfg = yolox_config(&model);
    cfg.backend = redline::config::BackendKind::OnnxRuntime;
    cfg.onnxruntime_library = Some(lib);
    bench_engine(c, "onnxruntime", "yolox_nano_rows1", &cfg, 1);
    bench_engine(
        c,
        "onnxruntime",
        "yolox_nano_max4_rows4",
        &with_batch(&cfg, 4),
        4,
    );
}

#[cfg(not(feature = "onnxruntime"))]
fn onnxruntime(_: &mut Criterion) {
    eprintln!("SKIPPED: onnxruntime benchmarks need --features onnxruntime");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = tract_batch, onnxruntime
}
criterion_main!(benches);
