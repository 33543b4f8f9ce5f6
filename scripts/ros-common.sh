# Shared by scripts/live-tests.sh, scripts/colcon-build.sh and .ci/run (source it, bash only):
# finding and sourcing ROS 2, the colcon workspace's location, and the colcon tools.

# The colcon workspace redline is built and installed into: outside the repository, kept
# between runs (its build/ directory is cargo's target dir, so a rebuild only does what changed).
redline_colcon_ws() {
  echo "${REDLINE_COLCON_WS:-${XDG_CACHE_HOME:-$HOME/.cache}/redline/colcon-ws}"
}

# Source ROS 2 unless it is sourced already: the first of /opt/ros/{humble,jazzy,…}/setup.bash.
# setup.bash reads unset variables, so `set -u` is lifted while it runs. Returns 1 without ROS 2.
redline_source_ros() {
  if [[ -n "${AMENT_PREFIX_PATH:-}" && -n "${ROS_DISTRO:-}" ]]; then
    return 0
  fi
  local setup nounset=0
  for setup in /opt/ros/humble/setup.bash /opt/ros/jazzy/setup.bash /opt/ros/*/setup.bash; do
    if [[ -f "$setup" ]]; then
      [[ $- == *u* ]] && nounset=1
      set +u
      # shellcheck disable=SC1090
      source "$setup"
      ((nounset)) && set -u
      return 0
    fi
  done
  return 1
}

# colcon with the cargo plugins (colcon-ros-cargo brings colcon-cargo and cargo-ament-build),
# pinned, installed with pip for the Python that runs ROS 2's tools when they are missing.
REDLINE_COLCON_PINS=(colcon-common-extensions==0.3.0 colcon-ros-cargo==0.2.0 colcon-cargo==0.2.0
  cargo-ament-build==0.1.11)
redline_ensure_colcon() {
  if command -v colcon >/dev/null && command -v cargo-ament-build >/dev/null \
    && python3 -c 'import colcon_ros_cargo' 2>/dev/null; then
    return 0
  fi
  python3 -m pip install --quiet --disable-pip-version-check "${REDLINE_COLCON_PINS[@]}"
  if command -v pyenv >/dev/null; then pyenv rehash; fi
  command -v colcon >/dev/null && command -v cargo-ament-build >/dev/null
}
