#!/usr/bin/env bash
# Creates (idempotently) the Python environment `.venv` used by the golden-byte generator and
# the independent MCAP reader (tools/read_mcap.py), and that carries ONNX Runtime's shared
# library for the onnxruntime backend's tests and benchmarks
# (.venv/lib/python3.*/site-packages/onnxruntime/capi/libonnxruntime.so.*). Fast when it is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS=(rosbags==0.11.9 mcap==1.6.0 mcap-ros2-support==0.6.0 onnxruntime==1.32.0)
STAMP=.venv/.redline-pins
WANT="${PINS[*]}"
if [[ -x .venv/bin/python && -f $STAMP && "$(cat "$STAMP")" == "$WANT" ]]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
echo "$WANT" > "$STAMP"
