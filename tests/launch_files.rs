//! The launch files parse (Python AST, XML) and set only parameters that exist in
//! `config/redline.yaml`; `package.xml` is a format-3 manifest with the runtime dependencies.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python(script: &str, arg: &Path) -> Option<String> {
    let out = match Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(arg)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: python3 not available ({e})");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "python3 failed on {}: {}",
        arg.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs the .py launch file against stub `launch`/`launch_ros` modules and prints every
/// parameter name the node is given (params-file entries excluded) and every remapping source.
const PY_PARAMS: &str = r#"
import ast, sys, types
src = open(sys.argv[1]).read()
ast.parse(src)
captured = {}
def mod(name, **attrs):
    m = types.ModuleType(name); m.__dict__.update(attrs); sys.modules[name] = m
class LaunchDescription(list): pass
class DeclareLaunchArgument:
    def __init__(self, name, default_value=None): self.name = name
class LaunchConfiguration:
    def __init__(self, name): self.name = name
class Node:
    def __init__(self, **kw): captured.update(kw)
mod("launch", LaunchDescription=LaunchDescription)
mod("launch.actions", DeclareLaunchArgument=DeclareLaunchArgument)
mod("launch.substitutions", LaunchConfiguration=LaunchConfiguration)
mod("launch_ros"); mod("launch_ros.actions", Node=Node)
mod("ament_index_python"); mod("ament_index_python.packages", get_package_share_directory=lambda p: "/share/" + p)
ns = {}
exec(compile(src, sys.argv[1], "exec"), ns)
ns["generate_launch_description"]()
for p in captured["parameters"]:
    if isinstance(p, dict):
        for k in p: print(k)
assert captured["executable"] == "redline_node"
assert any(r[0] == "image" for r in captured["remappings"])
"#;

const XML_PARAMS: &str = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "launch"
node = root.find("node")
assert node.get("exec") == "redline_node"
assert node.find("remap").get("from") == "image"
assert any(p.get("from") for p in node.findall("param"))
for p in node.findall("param"):
    if p.get("name"): print(p.get("name"))
"#;

/// Whether a dotted parameter name exists under `redline.ros__parameters` in the default YAML.
fn exists_in_default_yaml(name: &str) -> bool {
    let text = std::fs::read_to_string(root().join("config/redline.yaml")).expect("default yaml");
    let doc: serde_norway::Value = serde_norway::from_str(&text).expect("yaml parses");
    let mut v = &doc["redline"]["ros__parameters"];
    for part in name.split('.') {
        v = &v[part];
    }
    !v.is_null()
}

fn check_names(names: &str, file: &str) {
    let names: Vec<&str> = names.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        names.len() >= 11,
        "{file}: expected topic + 10 stage settings, got {names:?}"
    );
    for n in &names {
        assert!(
            exists_in_default_yaml(n),
            "{file} sets `{n}`, absent from config/redline.yaml"
        );
    }
}

#[test]
fn python_launch_file_parses_and_sets_only_known_parameters() {
    let file = root().join("launch/redline.launch.py");
    if let Some(names) = python(PY_PARAMS, &file) {
        check_names(&names, "redline.launch.py");
    }
}

#[test]
fn xml_launch_file_parses_and_sets_only_known_parameters() {
    let file = root().join("launch/redline.launch.xml");
    if let Some(names) = python(XML_PARAMS, &file) {
        check_names(&names, "redline.launch.xml");
    }
}

#[test]
fn unknown_parameter_name_is_detected() {
    assert!(exists_in_default_yaml("pipeline.stages.infer.core"));
    assert!(!exists_in_default_yaml("pipeline.stages.infer.cpu"));
}

#[test]
fn package_xml_is_format_3_with_runtime_deps() {
    let script = r#"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.get("format") == "3"
print(r.find("export/build_type").text)
for d in r.findall("depend"): print(d.text)
"#;
    if let Some(out) = python(script, &root().join("package.xml")) {
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "ament_cargo");
        for dep in [
            "rcl",
            "sensor_msgs",
            "vision_msgs",
            "diagnostic_msgs",
            "std_msgs",
            "builtin_interfaces",
        ] {
            assert!(lines.contains(&dep), "package.xml lacks {dep}");
        }
    }
}
