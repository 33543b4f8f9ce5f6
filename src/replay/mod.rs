//! Replaying a rosbag2 recording through the real pipeline on live deadlines.
