//! ROS parameters → validated [`Config`]: r2r hands parameters as a flat map of dotted names
//! (`deadline.budget_ms`) to values; this rebuilds the nested YAML tree and validates it with
//! [`Config::from_parameters`], so the node and the CLI accept and refuse exactly the same things.

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::config::{Config, ConfigError};

/// A ROS parameter value; mirrors `r2r::ParameterValue` so the mapping is testable without ROS.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    NotSet,
    Bool(bool),
    Integer(i64),
    Double(f64),
    String(String),
    BoolArray(Vec<bool>),
    ByteArray(Vec<u8>),
    IntegerArray(Vec<i64>),
    DoubleArray(Vec<f64>),
    StringArray(Vec<String>),
}

impl ParamValue {
    fn to_yaml(&self) -> Value {
        match self {
            ParamValue::NotSet => Value::Null,
            ParamValue::Bool(b) => Value::Bool(*b),
            ParamValue::Integer(i) => Value::Number((*i).into()),
            ParamValue::Double(d) => Value::Number((*d).into()),
            ParamValue::String(s) => Value::String(s.clone()),
            ParamValue::BoolArray(v) => {
                Value::Sequence(v.iter().map(|b| Value::Bool(*b)).collect())
            }
            ParamValue::ByteArray(v) => Value::Sequence(
                v.iter()
                    .map(|b| Value::Number(u64::from(*b).into()))
                    .collect(),
            ),
            ParamValue::IntegerArray(v) => {
                Value::Sequence(v.iter().map(|i| Value::Number((*i).into())).collect())
            }
            ParamValue::DoubleArray(v) => {
                Value::Sequence(v.iter().map(|d| Value::Number((*d).into())).collect())
            }
            ParamValue::StringArray(v) => {
                Value::Sequence(v.iter().map(|s| Value::String(s.clone())).collect())
            }
        }
    }
}

/// Parameters every rclcpp/r2r node carries that are not ours; ignored, never "unknown key".
const ROS_OWN_PARAMETERS: &[&str] = &["use_sim_time", "qos_overrides"];

/// Rebuild the nested tree from dotted names. `NotSet` values are left out (the default
/// applies). A name that is both a leaf and a prefix (`a` and `a.b`) keeps the deeper map and
/// the leaf is reported by validation as a type error on that key.
pub fn parameters_to_tree<'a, I>(params: I) -> Value
where
    I: IntoIterator<Item = (&'a str, &'a ParamValue)>,
{
    let mut root = Mapping::new();
    for (name, value) in params {
        if matches!(value, ParamValue::NotSet)
            || ROS_OWN_PARAMETERS
                .iter()
                .any(|own| name == *own || name.starts_with(&format!("{own}.")))
        {
            continue;
        }
        insert_dotted(&mut root, name, value.to_yaml());
    }
    Value::Mapping(root)
}

fn insert_dotted(map: &mut Mapping, name: &str, value: Value) {
    match name.split_once('.') {
        None => {
            let key = Value::String(name.to_string());
            if !matches!(map.get(&key), Some(Value::Mapping(_))) {
                map.insert(key, value);
            }
        }
        Some((head, rest)) => {
            let key = Value::String(head.to_string());
            if !matches!(map.get(&key), Some(Value::Mapping(_))) {
                map.insert(key.clone(), Value::Mapping(Mapping::new()));
            }
            if let Some(Value::Mapping(child)) = map.get_mut(&key) {
                insert_dotted(child, rest, value);
            }
        }
    }
}

/// Validate the node's parameters with the CLI's config code; relative paths are resolved by
/// [`relative_path_base`] and errors name the params file.
pub fn config_from_parameters<'a, I>(
    params: I,
    node_name: &str,
    params_file: Option<&Path>,
) -> Result<Config, ConfigError>
where
    I: IntoIterator<Item = (&'a str, &'a ParamValue)>,
{
    let tree = parameters_to_tree(params);
    let origin = match params_file {
        Some(file) => format!(
            "parameters of node {node_name} (params file {})",
            file.display()
        ),
        None => format!("parameters of node {node_name}"),
    };
    Config::from_parameters(&tree, node_name, &origin, &relative_path_base(params_file))
}

/// The first `--params-file` after `--ros-args` (`ros2 launch` passes the user's file first and
/// its own generated overrides after it).
pub fn first_params_file(args: impl Iterator<Item = String>) -> Option<PathBuf> {
    let mut args = args.skip_while(|a| a != "--ros-args");
    while let Some(arg) = args.next() {
        if arg == "--params-file" {
            return args.next().map(PathBuf::from);
        }
    }
    None
}

/// Where relative paths in the parameters (the model, the engine cache) are resolved: the
/// directory of the params file, as the CLI resolves them against its `--config` file; the
/// working directory when there is none.
pub fn relative_path_base(params_file: Option<&Path>) -> PathBuf {
    match params_file.map(Path::parent) {
        Some(Some(dir)) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ImageTransport;

    fn cfg(params: &[(&str, ParamValue)]) -> Result<Config, ConfigError> {
        config_from_parameters(
            params.iter().map(|(k, v)| (*k, v)),
            "redline",
            // The default model path is relative to config/, as when the params file is there.
            Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/redline.yaml")),
        )
    }

    #[test]
    fn dotted_names_become_nested_maps() {
        let v = ParamValue::Double(80.0);
        let tree = parameters_to_tree([("deadline.budget_ms", &v)]);
        assert_eq!(tree["deadline"]["budget_ms"], Value::from(80.0));
    }

    #[test]
    fn nested_values_reach_the_typed_config() {
        let c = cfg(&[
            ("deadline.budget_ms", ParamValue::Double(80.0)),
            ("input.transport", ParamValue::String("raw".into())),
            ("input.topic", ParamValue::String("/cam/image_raw".into())),
            ("pipeline.stages.infer.core", ParamValue::Integer(1)),
            ("use_sim_time", ParamValue::Bool(false)),
        ])
        .expect("valid parameters");
        assert_eq!(c.deadline.budget_ms, 80.0);
        assert_eq!(c.input.transport, ImageTransport::Raw);
        assert_eq!(c.input.topic, "/cam/image_raw");
    }

    #[test]
    fn empty_parameters_give_the_defaults() {
        let c = cfg(&[]).expect("defaults are valid");
        assert_eq!(c.output.alarm_topic, "redline/alarm");
    }

    #[test]
    fn invalid_parameter_is_refused_with_the_cli_error() {
        let err = cfg(&[("deadline.budget_ms", ParamValue::Double(-5.0))]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("deadline.budget_ms"), "{text}");
    }

    #[test]
    fn unknown_parameter_is_refused() {
        let err = cfg(&[("deadline.budjet_ms", ParamValue::Double(5.0))]).unwrap_err();
        assert!(err.to_string().contains("budjet_ms"), "{err}");
    }

    #[test]
    fn wrong_type_is_refused() {
        let err = cfg(&[("input.transport", ParamValue::Integer(3))]).unwrap_err();
        assert!(err.to_string().contains("input.transport"), "{err}");
    }

    #[test]
    fn arrays_map_to_sequences() {
        let c = cfg(&[(
            "model.mean",
            ParamValue::DoubleArray(vec![0.5, 0.25, 0.125]),
        )])
        .expect("valid mean");
        assert_eq!(c.model.mean, [0.5, 0.25, 0.125]);
    }

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn the_first_params_file_after_ros_args_is_the_users() {
        let file = first_params_file(args(&[
            "redline_node",
            "--ros-args",
            "--params-file",
            "/opt/redline/share/redline/config/redline.yaml",
            "--params-file",
            "/tmp/launch_params_x1",
        ]));
        let file = file.expect("params file");
        assert_eq!(
            relative_path_base(Some(&file)),
            PathBuf::from("/opt/redline/share/redline/config")
        );
    }

    #[test]
    fn a_bare_file_name_is_relative_to_the_working_directory() {
        assert_eq!(
            relative_path_base(Some(Path::new("p.yaml"))),
            PathBuf::from(".")
        );
    }

    #[test]
    fn no_params_file_or_one_before_ros_args_gives_none() {
        assert_eq!(
            first_params_file(args(&["n", "--ros-args", "-p", "a:=1"])),
            None
        );
        assert_eq!(
            first_params_file(args(&["n", "--params-file", "x.yaml", "--ros-args"])),
            None
        );
        assert_eq!(
            first_params_file(args(&["n", "--ros-args", "--params-file"])),
            None
        );
    }

    #[test]
    fn errors_name_the_node_and_the_params_file() {
        let err = cfg(&[("deadline.budget_ms", ParamValue::Double(-5.0))]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("node redline"), "{text}");
        assert!(text.contains("config/redline.yaml"), "{text}");
    }
}
