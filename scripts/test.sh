#!/usr/bin/env bash
# The test command: sets up what the tests need on a fresh machine, then runs every test.
#  - a Python virtual environment (.venv) with the independent ROS 2 bag/CDR readers the
#    tests compare against (rosbags, mcap, mcap-ros2-support from PyPI);
#  - the shared test data is read from ../shared (override with REDLINE_SHARED).
# Tests whose inputs are missing print "SKIPPED: <reason>"; under CI=true the independent-reader
# tests fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/python-env.sh ]; then
  scripts/python-env.sh
fi
cargo test --all-targets "$@"
cargo test --doc "$@"
# The live ROS 2 tests, where ROS 2 is present (SKIPPED otherwise); REDLINE_LIVE_TESTS=0 leaves
# them to the caller (.ci/run runs them after installing ROS 2).
if [[ "${REDLINE_LIVE_TESTS:-1}" != 0 ]]; then
  scripts/live-tests.sh
fi
