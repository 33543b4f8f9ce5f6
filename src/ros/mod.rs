//! The ROS 2 node: the only module that imports r2r (ARCHITECTURE §9).
//!
//! What maps between ROS and the core is plain data, testable without ROS:
//! [`params`] rebuilds the YAML tree from r2r's flat parameter map and validates it with the
//! CLI's config code; [`qos`] holds the QoS choice for every topic. [`node`] (feature `ros2`)
//! is the thin r2r adapter.

pub mod params;
pub mod qos;

#[cfg(feature = "ros2")]
pub mod node;
