//! The ROS 2 node binary (feature `ros2`): `ros2 run redline redline_node --ros-args
//! --params-file config/redline.yaml`. An invalid parameter refuses to start with the config error.

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        // No colour codes in launch logs and log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    // `--fault SPEC` arguments before `--ros-args` inject engine faults (testing only).
    let specs: Vec<String> = std::env::args()
        .skip(1)
        .take_while(|a| a != "--ros-args")
        .collect::<Vec<_>>()
        .chunks(2)
        .filter(|pair| pair.first().map(String::as_str) == Some("--fault"))
        .filter_map(|pair| pair.get(1).cloned())
        .collect();
    let faults = match specs
        .iter()
        .map(|s| redline::replay::FaultSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(f) => redline::replay::engine_faults(&f),
        Err(e) => {
            eprintln!("redline_node: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match redline::ros::node::run("redline", faults) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("redline_node: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
