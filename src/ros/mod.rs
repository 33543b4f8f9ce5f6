//! The ROS 2 node (feature ros2): the only module that imports r2r.
