#!/usr/bin/env bash
# The test command: sets up what the tests need on a fresh machine, then runs every test.
#  - a Python virtual environment (.venv) with the independent ROS 2 bag/CDR readers the
#    tests compare against (rosbags, mcap, mcap-ros2-support from PyPI);
#  - the shared test data is read from ../shared (override with REDLINE_SHARED).
# Every test binary runs even when an earlier one fails (--no-fail-fast). Tests whose inputs are
# missing print "SKIPPED: <reason>"; after the run this script lists every such line with the
# test that printed it (no --nocapture needed), and exits non-zero when any test failed. Under
# CI=true the independent-reader tests fail instead of skipping.
# The ONNX Runtime backend is built in (feature `onnxruntime`; its library is the wheel's, from
# .venv) so its tests run against the real library.
# Arguments are passed to `cargo test` (e.g. --release, --features ros2); the full output is
# kept in target/test-output.log.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/python-env.sh ]; then
  scripts/python-env.sh || exit
fi
mkdir -p target
log=target/test-output.log
: >"$log"

# --show-output prints the captured output of passing tests (only of those that printed
# something), which is where their SKIPPED lines are.
cargo test --all-targets --no-fail-fast --features onnxruntime "$@" -- --show-output 2>&1 | tee -a "$log"
targets=${PIPESTATUS[0]}
cargo test --doc --no-fail-fast --features onnxruntime "$@" 2>&1 | tee -a "$log"
docs=${PIPESTATUS[0]}
# The live ROS 2 tests, where ROS 2 is present (SKIPPED otherwise); REDLINE_LIVE_TESTS=0 leaves
# them to the caller (.ci/run runs them after installing ROS 2).
live=0
if [[ "${REDLINE_LIVE_TESTS:-1}" != 0 ]]; then
  scripts/live-tests.sh 2>&1 | tee -a "$log"
  live=${PIPESTATUS[0]}
fi

# "SKIPPED: why" lines, each with the test binary and test that printed it.
skipped=$(awk '
  /^ *Running / { bin = $2; t = ""; next }
  /^---- .* (stdout|stderr) ----$/ { t = $0; sub(/^---- /, "", t); sub(/ (stdout|stderr) ----$/, "", t); next }
  /SKIPPED:/ {
    line = $0; sub(/^.*SKIPPED: */, "", line)
    printf "  %s%s: %s\n", bin, (t == "" ? "" : " " t), line
  }
' "$log" | sort -u)
echo
if [ -n "$skipped" ]; then
  echo "SKIPPED — what did not run ($(printf '%s\n' "$skipped" | wc -l) lines):"
  printf '%s\n' "$skipped"
else
  echo "SKIPPED: none (every test ran)"
fi
if [ "$targets" -ne 0 ] || [ "$docs" -ne 0 ] || [ "$live" -ne 0 ]; then
  echo "FAILED: cargo test exited $targets (tests and benches), $docs (doc tests) and $live (live ROS 2 tests); see $log"
  exit 1
fi
echo "all tests passed; full output in $log"
