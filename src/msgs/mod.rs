//! ROS 2 CDR: a zero-copy reader for images and writers for detections, diagnostics and alarms.
