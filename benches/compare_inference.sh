#!/usr/bin/env bash
# Side by side, in one run: tract vs redline's ONNX Runtime backend vs ONNX Runtime's own Python
# API (benches/onnxruntime_infer.py), same model, same input, same thread count, for YOLOX-nano
# (the shared copy: ../shared/models/yolox_nano.onnx, never committed) and the committed SSDLite,
# at one thread and at all threads. The three tools take turns in ROUNDS rounds (rotating order,
# so load drift hits all alike); median and p99 are over all ITERS samples of each. Prints a
# Markdown table and the ratio redline-ORT / ORT-Python (target <= 1.10).
#
# Usage: benches/compare_inference.sh
#   env: REDLINE_SHARED (default ../shared), ITERS (100 per tool and row), ROUNDS (4),
#        THREADS_ALL (default: nproc), ORT_DYLIB_PATH (default: the .venv onnxruntime wheel),
#        CARGO_TARGET_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${REDLINE_SHARED:-../shared}"
ITERS="${ITERS:-100}"
ROUNDS="${ROUNDS:-4}"
THREADS_ALL="${THREADS_ALL:-$(nproc)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

scripts/python-env.sh
PY=.venv/bin/python
LIB="${ORT_DYLIB_PATH:-$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -n 1)}"
cargo build --release --features onnxruntime --bin redline
BIN="$CARGO_TARGET_DIR/release/redline"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# name | config | model file | input scale
MODELS=("pedestrian_ssdlite|config/redline.yaml|models/pedestrian_ssdlite.onnx|0.00392156862745098")
if [[ -f "$SHARED/models/yolox_nano.onnx" ]]; then
    YOLOX="$(cd "$SHARED/models" && pwd)/yolox_nano.onnx"
    sed "s#../../shared/models/yolox_nano.onnx#$YOLOX#" config/yolox_nano.yaml >"$WORK/yolox_nano.yaml"
    MODELS=("yolox_nano|$WORK/yolox_nano.yaml|$YOLOX|1.0" "${MODELS[@]}")
else
    echo "SKIPPED yolox_nano: $SHARED/models/yolox_nano.onnx is absent (set REDLINE_SHARED)" >&2
fi
THREADS=(1)
[[ "$THREADS_ALL" -gt 1 ]] && THREADS+=("$THREADS_ALL")
PER_ROUND=$(( (ITERS + ROUNDS - 1) / ROUNDS ))

run_tool() { # tool model config file scale threads -> one JSON line
    local tool=$1 cfg=$3 file=$4 scale=$5 threads=$6 pin=()
    [[ "$threads" == 1 ]] && taskset -c 0 true 2>/dev/null && pin=(taskset -c 0)
    case "$tool" in
    tract | onnxruntime)
        "${pin[@]}" "$BIN" bench infer --config "$cfg" --model "$file" --backend "$tool" \
            --onnxruntime-library "$LIB" --threads "$threads" --iters "$PER_ROUND" --json ;;
    python)
        "${pin[@]}" "$PY" benches/onnxruntime_infer.py --model "$file" --threads "$threads" \
            --scale "$scale" --iters "$PER_ROUND" ;;
    esac
}

RESULTS="$WORK/results.jsonl"
TOOLS=(tract onnxruntime python)
for round in $(seq 1 "$ROUNDS"); do
    for spec in "${MODELS[@]}"; do
        IFS='|' read -r name cfg file scale <<<"$spec"
        for threads in "${THREADS[@]}"; do
            for k in 0 1 2; do
                tool=${TOOLS[$(( (k + round) % 3 ))]}
                json=$(run_tool "$tool" "$name" "$cfg" "$file" "$scale" "$threads")
                printf '{"tool":"%s","name":"%s","threads":%s,"result":%s}\n' \
                    "$tool" "$name" "$threads" "$json" >>"$RESULTS"
            done
        done
    done
    echo "round $round/$ROUNDS done" >&2
done

"$PY" - "$RESULTS" <<'PY'
import json, math, sys
from collections import defaultdict
samples, libs = defaultdict(list), {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    samples[(r["name"], r["threads"], r["tool"])] += r["result"]["samples_ms"]
    libs[r["tool"]] = r["result"]["library"]
def stat(xs):
    s = sorted(xs)
    at = lambda q: s[min(len(s), max(1, math.ceil(len(s) * q))) - 1]
    return at(0.5), at(0.99), len(s)
print()
print("| model | threads | tract median / p99 ms | redline ONNX Runtime median / p99 ms | ONNX Runtime Python median / p99 ms | redline ORT ÷ ORT Python (median) | tract ÷ ORT Python (median) |")
print("|---|---|---|---|---|---|---|")
worst = 0.0
for name, threads in sorted({(k[0], k[1]) for k in samples}, key=lambda k: (k[0], k[1])):
    t = stat(samples[(name, threads, "tract")])
    o = stat(samples[(name, threads, "onnxruntime")])
    p = stat(samples[(name, threads, "python")])
    worst = max(worst, o[0] / p[0])
    print(f"| {name} | {threads} | {t[0]:.2f} / {t[1]:.2f} | {o[0]:.2f} / {o[1]:.2f} | "
          f"{p[0]:.2f} / {p[1]:.2f} | {o[0] / p[0]:.2f} | {t[0] / p[0]:.2f} |")
n = min(len(v) for v in samples.values())
print()
print(f"{n} runs per cell. tract runs on one thread at any setting. Libraries: "
      + "; ".join(f"{k}: {v}" for k, v in sorted(libs.items())))
print(f"worst redline-ORT / ORT-Python median ratio: {worst:.2f} (target <= 1.10)")
PY
