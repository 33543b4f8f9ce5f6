#!/usr/bin/env bash
# GPU checks of issue 6 for a session that is lent the device machine (an H200 with CUDA 13,
# no TensorRT, no network, no cargo registry). Two halves:
#
#   scripts/gpu_check.sh prepare
#       On the development machine: builds the CUDA preprocessing parity test
#       (tests/gpu_preprocess.rs) and the preprocessing benches (with the `cuda` group) as
#       optimised x86-64 binaries into .device/ (ignored by git). The device cannot build:
#       nothing downloads there, so the binaries travel instead of the sources' dependencies.
#
#   device run:  command "bash scripts/gpu_check.sh run", carry [".device"], timeout_s 420
#       On the device machine: finds NVRTC (CUDA 13 there; cudarc asks for libnvrtc.so.12, so a
#       link under that name is put first on LD_LIBRARY_PATH — the NVRTC C API is unchanged),
#       then writes under $OUT: gpu.txt (nvidia-smi), parity.log (CPU-vs-GPU parity for every
#       encoding, with the max error per case) and bench.log (criterion: GPU event time of
#       upload + kernel, and host wall time, 1920×1080 bgr8 → 640×640 NCHW f32).
#       Put the numbers in README "GPU deployment" with the GPU named.
set -euo pipefail
cd "$(dirname "$0")/.."

prepare() {
    mkdir -p .device
    local test_bin bench_bin
    test_bin=$(cargo test --release --features cuda --test gpu_preprocess --no-run \
        --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "gpu_preprocess":
        print(m["executable"])')
    bench_bin=$(cargo bench --features cuda --bench preprocess --no-run \
        --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "preprocess":
        print(m["executable"])')
    cp "$test_bin" .device/gpu_preprocess
    cp "$bench_bin" .device/bench_preprocess
    strip .device/gpu_preprocess .device/bench_preprocess
    du -sh .device/*
    echo "carry .device (the working tree plus carried files must stay under 64 MiB)"
}

find_nvrtc() {
    local candidates
    candidates=$(ls /usr/local/cuda*/lib64/libnvrtc.so* /usr/lib/x86_64-linux-gnu/libnvrtc.so* \
        2>/dev/null || true)
    if [[ -z "$candidates" ]]; then
        candidates=$(python3 - <<'PY' 2>/dev/null || true
import glob, site
for base in site.getsitepackages():
    for path in sorted(glob.glob(base + "/nvidia/**/libnvrtc.so*", recursive=True)):
        print(path)
PY
)
    fi
    # The real library, not the builtins companion.
    echo "$candidates" | grep -v builtins | grep 'libnvrtc.so' | head -1
}

run_on_device() {
    local out=${OUT:-out/gpu_check}
    mkdir -p "$out"
    nvidia-smi > "$out/gpu.txt" 2>&1 || true
    local nvrtc
    nvrtc=$(find_nvrtc)
    echo "NVRTC: ${nvrtc:-none found}" | tee -a "$out/gpu.txt"
    if [[ -n "$nvrtc" ]]; then
        mkdir -p /tmp/nvrtc12
        ln -sf "$nvrtc" /tmp/nvrtc12/libnvrtc.so.12
        ln -sf "$nvrtc" /tmp/nvrtc12/libnvrtc.so
        # The builtins library is found next to the real one.
        for b in "$(dirname "$nvrtc")"/libnvrtc-builtins.so*; do
            [[ -e "$b" ]] && ln -sf "$b" /tmp/nvrtc12/
        done
        export LD_LIBRARY_PATH="/tmp/nvrtc12:$(dirname "$nvrtc"):${LD_LIBRARY_PATH:-}"
        export REDLINE_NVRTC_LIB=/tmp/nvrtc12/libnvrtc.so.12
    fi
    set +e
    timeout 120 .device/gpu_preprocess --nocapture --test-threads 1 2>&1 | tee "$out/parity.log"
    echo "parity exit ${PIPESTATUS[0]}" | tee -a "$out/parity.log"
    timeout 240 .device/bench_preprocess --bench cuda_ --warm-up-time 2 --measurement-time 5 \
        --noplot 2>&1 | tee "$out/bench.log"
    echo "bench exit ${PIPESTATUS[0]}" | tee -a "$out/bench.log"
}

case "${1:-}" in
    prepare) prepare ;;
    run) run_on_device ;;
    *) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
