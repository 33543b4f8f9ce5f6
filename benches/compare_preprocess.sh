#!/usr/bin/env bash
# Side-by-side: redline's fused pass (criterion) vs OpenCV (benches/opencv_preprocess.py), one
# thread each, same job and input: 1920x1080 bgr8 -> 640x640 letterboxed RGB NCHW f32 /255.
# Prints both medians and the ratios against issue 3's targets (<= 0.6x resize+numpy,
# <= 0.25x resize+copyMakeBorder+blobFromImage).
#
# Usage: benches/compare_preprocess.sh        (env: CARGO_TARGET_DIR, PYTHON, MEASURE, ITERS)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
PY="${PYTHON:-.venv/bin/python}"
if ! "$PY" -c "import cv2, numpy" 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet opencv-python-headless numpy
    PY=.venv/bin/python
fi
JOB=letterbox_1080p_bgr8_nchw_f32
taskset -c 0 true 2>/dev/null && PIN=(taskset -c 0) || PIN=()
"${PIN[@]}" cargo bench --bench preprocess -- --warm-up-time 1 \
    --measurement-time "${MEASURE:-3}" "^${JOB}\$"
CV_JSON=$("${PIN[@]}" "$PY" benches/opencv_preprocess.py "${ITERS:-300}")
"$PY" - "$CARGO_TARGET_DIR/criterion/$JOB/new/estimates.json" "$CV_JSON" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["median"]["point_estimate"]
cv = json.loads(sys.argv[2])
numpy_ns = cv["resize_numpy"]["median_ns"]
blob_ns = cv["resize_border_blob"]["median_ns"]
print(f"OpenCV {cv['opencv_version']}, {cv['threads']} thread")
print(f"redline fused pass                          median {ours / 1e6:7.3f} ms")
print(f"cv2.resize + numpy                          median {numpy_ns / 1e6:7.3f} ms"
      f"   ratio {ours / numpy_ns:.3f} (target <= 0.60)")
print(f"cv2.resize + copyMakeBorder + blobFromImage median {blob_ns / 1e6:7.3f} ms"
      f"   ratio {ours / blob_ns:.3f} (target <= 0.25)")
PY
