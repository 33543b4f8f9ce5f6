#!/usr/bin/env bash
# Side-by-side: redline's fused pass vs OpenCV on the six jobs of issue 14, same input bytes,
# one thread each, pinned to one core, in one run. Builds the release `redline`, sets up the
# OpenCV venv (.venv-bench, git-ignored) on first use, then runs benches/opencv_preprocess.py,
# which times `redline bench preprocess` and OpenCV (cv2.resize + numpy; cv2.resize +
# copyMakeBorder + cv2.dnn.blobFromImage) job by job, checks that redline's tensor matches
# OpenCV's, and prints one table with the ratios against the targets (<= 0.6x and <= 0.25x).
#
# Usage: benches/compare_preprocess.sh [--iters N] [--clock wall|thread] [--kernel K] [--json F]
#   env: PYTHON (an interpreter with cv2 and numpy), CORE (the core to pin to, default 1),
#        CARGO_TARGET_DIR.
# --clock thread times each run by its thread's CPU time, which other processes on a busy
# machine inflate less than the wall clock (default: wall).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
PY="${PYTHON:-.venv-bench/bin/python}"
if ! "$PY" -c "import cv2, numpy" 2>/dev/null; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet opencv-python-headless numpy
    PY=.venv-bench/bin/python
fi
cargo build --release --quiet --bin redline
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
CORE="${CORE:-1}"
PIN=()
if taskset -c "$CORE" true 2>/dev/null; then
    PIN=(taskset -c "$CORE")
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(nproc) cores, pinned to core $CORE"
"${PIN[@]}" "$PY" benches/opencv_preprocess.py --redline "$CARGO_TARGET_DIR/release/redline" "$@"
