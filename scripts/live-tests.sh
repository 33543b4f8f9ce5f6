#!/usr/bin/env bash
# Runs the live ROS 2 tests (tests/ros_live.rs, feature ros2) and prints their summary lines.
# Sources ROS 2 if it is not sourced (/opt/ros/<distro>); the `ros2 launch` test uses the colcon
# install in $REDLINE_INSTALL, by default the one scripts/colcon-build.sh made, if there is one.
# Without ROS 2 it prints SKIPPED and succeeds, except under CI=true, where a live test that
# cannot run is a failure (CI installs ROS 2 and the package first).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ros-common.sh
source scripts/ros-common.sh
ci=0; [[ "${CI:-}" == true ]] && ci=1
if ! redline_source_ros; then
  if ((ci)); then
    echo "live-tests.sh: no ROS 2 found under CI=true (/opt/ros/<distro>/setup.bash)" >&2
    exit 1
  fi
  echo "SKIPPED: live ROS 2 tests: no ROS 2 found (source /opt/ros/<distro>/setup.bash)"
  exit 0
fi
ws="$(redline_colcon_ws)"
if [[ -z "${REDLINE_INSTALL:-}" && -f "$ws/install/setup.bash" ]]; then
  export REDLINE_INSTALL="$ws/install"
fi
scripts/python-env.sh  # .venv: tools/publish_bag.py's bag readers
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --features ros2 --test ros_live -- --nocapture 2>&1 | tee "$log"
if ((ci)) && grep -q 'SKIPPED' "$log"; then
  echo "live-tests.sh: a live test was SKIPPED under CI=true" >&2
  exit 1
fi
