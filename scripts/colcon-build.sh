#!/usr/bin/env bash
# Builds redline with colcon, as a ROS 2 user does (colcon-ros-cargo → `cargo ament-build`,
# release, feature ros2), and installs it into a colcon workspace outside the repository:
# `scripts/colcon-build.sh [WS]`, WS defaulting to $REDLINE_COLCON_WS or
# ~/.cache/redline/colcon-ws. Afterwards: `source WS/install/setup.bash`, then
# `ros2 launch redline redline.launch.py`. The workspace's build/redline is cargo's target
# directory, kept between runs. Sources ROS 2 if it is not; installs the colcon tools (pinned)
# with pip if they are missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/ros-common.sh
source "$repo/scripts/ros-common.sh"
ws="${1:-$(redline_colcon_ws)}"
mkdir -p "$ws"
ws="$(cd "$ws" && pwd)"
case "$ws/" in
  "$repo"/*) echo "colcon-build.sh: the workspace $ws must be outside the repository" >&2; exit 2 ;;
esac
redline_source_ros || { echo "colcon-build.sh: ROS 2 not found: source /opt/ros/<distro>/setup.bash" >&2; exit 1; }
redline_ensure_colcon || { echo "colcon-build.sh: colcon or cargo-ament-build missing after pip install" >&2; exit 1; }
cd "$ws"  # colcon writes log/ and colcon-ros-cargo its .cargo/config.toml here
colcon build --base-paths "$repo" --build-base "$ws/build" --install-base "$ws/install" \
  --packages-select redline \
  --cargo-args --release --features ros2
echo "redline installed in $ws/install: source $ws/install/setup.bash"
