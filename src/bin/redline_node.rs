//! The ROS 2 node binary (feature `ros2`).

fn main() {}
