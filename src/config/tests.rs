use std::path::Path;

use super::*;

fn crate_config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
}

fn parse(yaml: &str) -> Result<Config, ConfigError> {
    Config::from_yaml_str(yaml, "test.yaml", &crate_config_dir())
}

#[test]
fn shipped_default_config_is_valid() {
    let config = Config::load(&Config::default_path()).unwrap();
    assert_eq!(config.node_name, "redline");
    assert_eq!(config.model.family, ModelFamily::Ssd);
    assert_eq!(config.deadline.budget_ms, 100.0);
    assert!(config.model.path.is_file());
}

#[test]
fn minimal_config_takes_defaults() {
    let config = parse("redline:\n  ros__parameters: {}\n").unwrap();
    assert_eq!(config.pipeline.frame_pool_size, 4);
    assert_eq!(config.monitor.error_consecutive_misses, 5);
    assert_eq!(config.pipeline.stages[0], StageThreadConfig::default());
}

#[test]
fn every_problem_is_listed_at_once_with_key_value_and_expectation() {
    let err = parse(
        "redline:\n  ros__parameters:\n    deadline:\n      budget_ms: -5\n      budgte: 3\n    model:\n      family: yolo9\n      path: nowhere.onnx\n    monitor:\n      warn_miss_ratio: 0.5\n      error_miss_ratio: 0.1\n    pipeline:\n      stages:\n        infer: {core: 1, priority: 150}\n",
    )
    .unwrap_err();
    let text = err.to_string();
    let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
    assert!(keys.contains(&"deadline.budget_ms"), "{text}");
    assert!(keys.contains(&"deadline.budgte"), "{text}");
    assert!(keys.contains(&"model.family"), "{text}");
    assert!(keys.contains(&"model.path"), "{text}");
    assert!(keys.contains(&"monitor.error_miss_ratio"), "{text}");
    assert!(keys.contains(&"pipeline.stages.infer.priority"), "{text}");
    assert!(
        text.contains("deadline.budget_ms: -5 — must be > 0"),
        "{text}"
    );
    assert!(
        text.contains("\"yolo9\" — must be one of yolox, yolov8, ssd"),
        "{text}"
    );
    assert!(
        text.starts_with("invalid config test.yaml: 6 problems"),
        "{text}"
    );
}

#[test]
fn wrong_types_are_reported_not_coerced() {
    let err = parse(
        "redline:\n  ros__parameters:\n    deadline: {budget_ms: fast, predictive: 1}\n    model: {mean: [1, 2]}\n",
    )
    .unwrap_err();
    let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        ["model.mean", "deadline.budget_ms", "deadline.predictive"]
    );
}

#[test]
fn malformed_yaml_and_wrong_shape_are_errors() {
    assert!(parse("redline: [unclosed")
        .unwrap_err()
        .to_string()
        .contains("not valid YAML"));
    assert!(parse("redline: {}\n")
        .unwrap_err()
        .to_string()
        .contains("ros__parameters"));
    assert!(parse("a: {ros__parameters: {}}\nb: {ros__parameters: {}}\n").is_err());
    assert!(parse("redline:\n  ros__parameters: {}\n  extra: 1\n").is_err());
    let missing = Config::load(Path::new("/definitely/not/here.yaml")).unwrap_err();
    assert!(missing.to_string().contains("/definitely/not/here.yaml"));
}

#[test]
fn relative_model_path_resolves_against_the_config_directory() {
    let config = parse(
        "redline:\n  ros__parameters:\n    model: {path: ../models/pedestrian_ssdlite.onnx}\n",
    )
    .unwrap();
    assert_eq!(
        config.model.path,
        crate_config_dir().join("../models/pedestrian_ssdlite.onnx")
    );
}

#[test]
fn topic_names_must_be_ros_names() {
    let err = parse(
        "redline:\n  ros__parameters:\n    output:\n      detections_topic: \"redline detections\"\n      alarm_topic: redline/alarm/\n      diagnostics_topic: /2diag\n",
    )
    .unwrap_err();
    let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "output.detections_topic",
            "output.diagnostics_topic",
            "output.alarm_topic"
        ],
        "{err}"
    );
    let ok = parse(
        "redline:\n  ros__parameters:\n    output:\n      detections_topic: front/redline/detections_2d\n",
    )
    .unwrap();
    assert_eq!(ok.output.detections_topic, "front/redline/detections_2d");
    assert_eq!(
        OutputConfig::absolute(&ok.output.detections_topic),
        "/front/redline/detections_2d"
    );
    assert_eq!(OutputConfig::absolute("/diagnostics"), "/diagnostics");
}
