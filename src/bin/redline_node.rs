//! The ROS 2 node binary (feature `ros2`): `ros2 run redline redline_node --ros-args
//! --params-file config/redline.yaml`. An invalid parameter refuses to start with the config error.

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match redline::ros::node::run("redline") {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("redline_node: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
