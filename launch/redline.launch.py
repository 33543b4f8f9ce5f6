"""Launch the redline node: image topic remapping, params file, namespace, and per-stage
CPU pinning / SCHED_FIFO priority (-1 = unpinned / no real-time priority).

The per-stage launch arguments are applied after the params file, so they decide the stage
settings (as in redline.launch.xml): set them here, not in the params file."""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from ament_index_python.packages import get_package_share_directory

STAGES = ("ingest", "preprocess", "infer", "decode", "publish")


def generate_launch_description():
    default_params = os.path.join(
        get_package_share_directory("redline"), "config", "redline.yaml"
    )
    args = [
        DeclareLaunchArgument("namespace", default_value=""),
        DeclareLaunchArgument("params_file", default_value=default_params),
        DeclareLaunchArgument("image_topic", default_value="/camera/front/image_raw/compressed"),
    ]
    # The node subscribes to the relative name `image`, remapped to `image_topic`.
    overrides = {"input.topic": "image"}
    for stage in STAGES:
        for field in ("core", "priority"):
            name = f"{stage}_{field}"
            args.append(DeclareLaunchArgument(name, default_value="-1"))
            overrides[f"pipeline.stages.{stage}.{field}"] = LaunchConfiguration(name)
    node = Node(
        package="redline",
        executable="redline_node",
        name="redline",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        parameters=[LaunchConfiguration("params_file"), overrides],
        remappings=[("image", LaunchConfiguration("image_topic"))],
    )
    return LaunchDescription(args + [node])
