#!/usr/bin/env python3
"""ONNX Runtime's own Python API on the same job as `redline bench infer`: one model, the same
thread count (intra-op; inter-op 1, sequential), all graph optimisations, the CPU provider, the
same synthetic input (((i * 7919) mod 255) * scale), a warm-up, then one timed `session.run` at a
time. Prints JSON with the same keys (median_ms, p99_ms, mean_ms, min_ms, max_ms, samples_ms)."""

import argparse
import json
import math
import time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0 / 255.0)
    args = ap.parse_args()

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    session = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - t0) * 1e3
    inp = session.get_inputs()[0]
    shape = [args.batch] + [int(d) if isinstance(d, int) else 1 for d in inp.shape[1:]]
    n = int(np.prod(shape))
    x = ((np.arange(n, dtype=np.int64) * 7919) % 255).astype(np.float32) * np.float32(args.scale)
    x = x.reshape(shape)
    feeds = {inp.name: x}
    for _ in range(args.warmup):
        session.run(None, feeds)
    samples = []
    for _ in range(max(1, args.iters)):
        t = time.perf_counter_ns()
        session.run(None, feeds)
        samples.append((time.perf_counter_ns() - t) / 1e6)
    s = sorted(samples)

    def at(q):
        return s[min(len(s), max(1, math.ceil(len(s) * q))) - 1]

    print(json.dumps({
        "backend": "onnxruntime-python",
        "library": f"onnxruntime {ort.__version__} (Python)",
        "model": args.model.rsplit("/", 1)[-1],
        "threads": args.threads,
        "batch": args.batch,
        "iters": len(samples),
        "load_ms": load_ms,
        "median_ms": at(0.5),
        "p99_ms": at(0.99),
        "mean_ms": sum(samples) / len(samples),
        "min_ms": s[0],
        "max_ms": s[-1],
        "samples_ms": samples,
    }))


if __name__ == "__main__":
    main()
