//! The `redline` binary: `detect --json` prints source-pixel detections, `check` reports the
//! contract or fails naming the problem, `bench preprocess --json` prints timings; and how it
//! talks to people: a replay's exit status is its verdict, Ctrl-C (SIGINT) or SIGTERM during a
//! replay drains and writes a complete report marked interrupted, messages name what is wrong
//! (a missing bag, an image's size and the limit), `detect` tells JPEG from PNG by content, user
//! errors carry no backtrace unless `-v`, piped output has no colour codes, and the default
//! config and model are found from any working directory and from an installed package.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn redline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redline"))
}

/// Run the command and assert it succeeded (showing its stderr otherwise).
fn run_ok(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn shared() -> PathBuf {
    common::shared_root()
}

#[test]
fn detect_json_finds_the_person() {
    let image = shared().join("data/images/person.jpg");
    if !image.is_file() {
        eprintln!(
            "SKIPPED: {} is absent (set REDLINE_SHARED)",
            image.display()
        );
        return;
    }
    let out = run_ok(redline().arg("detect").arg(&image).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dets = v.as_array().unwrap();
    assert_eq!(dets.len(), 1, "{v}");
    assert_eq!(dets[0]["class"], "person");
    let b: Vec<f64> = dets[0]["box_xyxy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // ONNX Runtime reference: [183, 100, 275, 383] in source pixels
    assert!(
        (b[0] - 183.0).abs() < 5.0 && (b[3] - 383.0).abs() < 5.0,
        "{b:?}"
    );
}

#[test]
fn check_reports_the_contract() {
    let out = run_ok(redline().arg("check"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"boxes:0\" [1, 1917, 4]"), "{text}");
    assert!(text.contains("\"images:0\" [1, 3, 300, 300]"), "{text}");
}

#[test]
fn check_lists_the_six_cameras_of_the_shipped_params_file() {
    let out = run_ok(redline().args(["check", "--config", "config/six_cameras.yaml"]));
    let text = stdout(&out);
    assert!(
        text.contains("cameras   6 (batching edf, up to 6 frames per engine run)"),
        "{text}"
    );
    for (name, budget, criticality) in [
        ("front_wide", 80, 10),
        ("front_narrow", 80, 9),
        ("left", 100, 5),
        ("right", 100, 5),
        ("rear", 150, 2),
        ("rear_left", 150, 1),
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}: {text}"));
        assert!(
            line.contains(&format!("budget {budget} ms, criticality {criticality}")),
            "{line}"
        );
    }
    // The shipped SSDLite pins its batch: said, not a failure.
    assert!(
        text.contains("1 row per run (the model does not batch"),
        "{text}"
    );
}

#[test]
fn a_single_camera_config_is_one_camera_named_from_input() {
    let out = run_ok(redline().args(["check", "--config", "config/redline.yaml"]));
    let text = stdout(&out);
    assert!(text.contains("cameras   1 (batching edf)"), "{text}");
    assert!(
        text.contains("/camera/front/image_raw/compressed"),
        "{text}"
    );
}

#[test]
fn check_fails_on_a_contract_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/pedestrian_ssdlite.onnx");
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        format!(
            "redline:\n  ros__parameters:\n    model:\n      path: {}\n      input_name: input\n",
            model.display()
        ),
    )
    .unwrap();
    let out = redline()
        .arg("check")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"input "input" not found; the model's inputs are ["images:0"]"#),
        "{err}"
    );
}

#[test]
fn bench_preprocess_prints_json() {
    let out = run_ok(
        redline()
            .args([
                "bench",
                "preprocess",
                "--width",
                "64",
                "--height",
                "48",
                "--encoding",
                "bgr8",
            ])
            .args(["--iters", "5", "--json"]),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["median_ns"].as_u64().unwrap() > 0);
    assert!(v["p99_ns"].as_u64().unwrap() >= v["median_ns"].as_u64().unwrap());
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Assert that the command printed `text` on stdout.
fn assert_printed(out: &Output, text: &str) {
    let printed = stdout(out);
    assert!(printed.contains(text), "{text:?} not in:\n{printed}");
}

/// Write a config file with these `ros__parameters` lines (indented by the caller's 4 spaces).
fn config_file(dir: &Path, params: &str) -> PathBuf {
    let path = dir.join("redline.yaml");
    std::fs::write(&path, format!("redline:\n  ros__parameters:\n{params}")).unwrap();
    path
}

#[test]
fn a_missing_bag_is_said_not_to_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-bag");
    let out = redline()
        .arg("replay")
        .arg(&missing)
        .args(["--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no-such-bag: no such file or directory"),
        "{err}"
    );
    assert!(!err.contains("not a rosbag2 recording"), "{err}");
}

#[test]
fn user_errors_show_the_chain_without_a_backtrace_unless_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let replay = |verbose: bool| {
        let mut c = redline();
        c.env("RUST_BACKTRACE", "1")
            .arg("replay")
            .arg(dir.path().join("no-such-bag"))
            .arg("--out")
            .arg(dir.path().join("out"));
        if verbose {
            c.arg("-v");
        }
        c.output().unwrap()
    };
    let quiet = stderr(&replay(false));
    assert!(quiet.starts_with("Error: replay of "), "{quiet}");
    assert!(quiet.contains("Caused by:\n    "), "{quiet}");
    assert!(!quiet.to_lowercase().contains("backtrace"), "{quiet}");
    assert!(!quiet.contains(" 0: "), "{quiet}");
    let verbose = stderr(&replay(true));
    assert!(
        verbose.contains("Stack backtrace:"),
        "-v shows the backtrace: {verbose}"
    );
}

#[test]
fn piped_output_carries_no_colour_codes() {
    // A usage error (clap) and a log line (tracing), both to a pipe.
    let out = redline().args(["replay", "--rate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).is_empty());
    assert!(!stderr(&out).contains('\x1b'), "{:?}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(dir.path(), "    deadline: {budget_ms: 1.0}\n");
    let out = redline()
        .args(["replay", "--no-progress", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("deadline monitor escalated"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
    assert!(!stdout(&out).contains('\x1b'));
    // And the verdict of that run: 1 ms is no budget at all, nothing is published.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_printed(
        &out,
        "verdict: FAIL\n  - nothing was published (0 of 45 frames)",
    );
    assert_printed(&out, "why: every frame missed: ");
    assert!(
        err.contains("redline replay: FAIL: nothing was published"),
        "{err}"
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(!html.contains("PASS"), "PASS badge with nothing published");
}

/// Start `redline replay` on the sample bag, wait until it is replaying (it logs that it has
/// submitted frames; the signal handler is in place before), send `signal`, check the exit
/// status (128 + the signal) and return the output, the report and the output directory (in a
/// temp dir).
fn interrupted_replay(signal: libc::c_int) -> (Output, serde_json::Value, tempfile::TempDir) {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let mut child = redline()
        .args(["replay", "--no-progress", "--out"])
        .arg(&out_dir)
        .env("RUST_LOG", "redline::replay=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr on a thread: tell the test when frames flow, keep every line for later.
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(&mut err_pipe).lines().map_while(Result::ok) {
            if line.contains("first frames submitted") {
                let _ = started_tx.send(());
            }
            lines.push(line);
        }
        let mut rest = Vec::new();
        let _ = err_pipe.read_to_end(&mut rest);
        lines.join("\n").into_bytes()
    });
    started_rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the replay never started submitting frames");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let mut out = child.wait_with_output().unwrap();
    out.stderr = reader.join().unwrap();
    assert_eq!(out.status.code(), Some(128 + signal), "{}", stderr(&out));
    let json =
        serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
    (out, json, dir)
}

#[test]
fn sigint_during_a_replay_drains_and_writes_a_complete_report() {
    let (out, json, dir) = interrupted_replay(libc::SIGINT);
    assert_printed(&out, "INTERRUPTED by SIGINT: stopped reading after ");
    assert_printed(&out, "verdict: INTERRUPTED");
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["interrupted_by"], "SIGINT");
    let frames = &json["frames"];
    let received = frames["received"].as_u64().unwrap();
    assert!(received > 0 && received < 45, "{frames}");
    assert_eq!(frames["balanced"], true, "{frames}");
    assert_eq!(frames["in_flight"], 0, "{frames}");
    let out_dir = dir.path().join("out");
    assert!(std::fs::read_to_string(out_dir.join("report.html"))
        .unwrap()
        .contains("INTERRUPTED"));
    // The output recording was finished, not cut off: it opens and has its topics.
    let bag = redline::bag::Bag::open(&out_dir.join("output.mcap")).unwrap();
    assert!(
        bag.topics().iter().any(|t| t.name == "/redline/detections"),
        "{:?}",
        bag.topics()
    );
}

#[test]
fn sigterm_during_a_replay_exits_143_with_an_interrupted_report() {
    let (_, json, _dir) = interrupted_replay(libc::SIGTERM);
    assert_eq!(json["interrupted_by"], "SIGTERM");
    assert_eq!(json["frames"]["balanced"], true);
}

/// A synthetic image, encoded as `format`, at `path`.
fn write_image(path: &Path, width: u32, height: u32, format: image::ImageFormat) {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    img.save_with_format(path, format).unwrap();
}

/// Run `redline detect` on `image`, assert it failed, and return its stderr.
fn detect_fails(image: &Path) -> String {
    let out = redline().arg("detect").arg(image).output().unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    stderr(&out)
}

#[test]
fn detect_tells_jpeg_from_png_by_content_not_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg_named_png = dir.path().join("photo.png");
    write_image(&jpeg_named_png, 64, 48, image::ImageFormat::Jpeg);
    let png_named_jpg = dir.path().join("photo.jpg");
    write_image(&png_named_jpg, 64, 48, image::ImageFormat::Png);
    for image in [&jpeg_named_png, &png_named_jpg] {
        let out = run_ok(redline().arg("detect").arg(image).arg("--json"));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.is_array(), "{v}");
    }
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "not an image").unwrap();
    let err = detect_fails(&text);
    assert!(
        err.contains("not a JPEG or PNG file (it starts with 6e 6f 74"),
        "{err}"
    );
}

#[test]
fn detect_names_the_size_and_the_limit_of_a_too_large_image() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.png");
    write_image(&wide, 4000, 8, image::ImageFormat::Png);
    let err = detect_fails(&wide);
    assert!(
        err.contains("a 4000×8 PNG: larger than input.max_width × input.max_height (3840×2160)"),
        "{err}"
    );
    assert!(
        !err.contains("too_large") && !err.contains("Memory limit"),
        "{err}"
    );
}

#[test]
fn the_default_config_and_model_are_found_from_any_directory() {
    let elsewhere = tempfile::tempdir().unwrap();
    // The default config (config/redline.yaml), from another working directory.
    let out = run_ok(redline().arg("check").current_dir(elsewhere.path()));
    assert_printed(&out, "pedestrian_ssdlite.onnx");
    // A config elsewhere that names no model: the shipped one.
    let cfg = config_file(elsewhere.path(), "    deadline: {budget_ms: 80.0}\n");
    let out = run_ok(
        redline()
            .args(["check", "--config"])
            .arg(&cfg)
            .current_dir(elsewhere.path()),
    );
    let expected = common::repo().join("models/pedestrian_ssdlite.onnx");
    assert_printed(&out, &format!("model     {}", expected.display()));
}

#[test]
fn an_installed_binary_takes_its_model_and_config_from_the_share_directory() {
    // <prefix>/lib/redline/redline with <prefix>/share/redline/{config,models}, as colcon
    // installs it.
    let prefix = tempfile::tempdir().unwrap();
    let lib = prefix.path().join("lib/redline");
    let share = prefix.path().join("share/redline");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::create_dir_all(share.join("models")).unwrap();
    std::fs::create_dir_all(share.join("config")).unwrap();
    let binary = lib.join("redline");
    if std::fs::hard_link(env!("CARGO_BIN_EXE_redline"), &binary).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_redline"), &binary).unwrap();
    }
    std::fs::copy(
        common::repo().join("models/pedestrian_ssdlite.onnx"),
        share.join("models/pedestrian_ssdlite.onnx"),
    )
    .unwrap();
    std::fs::copy(
        common::repo().join("config/redline.yaml"),
        share.join("config/redline.yaml"),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg = config_file(elsewhere.path(), "    deadline: {budget_ms: 80.0}\n");
    let out = run_ok(
        Command::new(&binary)
            .args(["check", "--config"])
            .arg(&cfg)
            .current_dir(elsewhere.path()),
    );
    let model = share.join("models/pedestrian_ssdlite.onnx");
    assert_printed(&out, &format!("model     {}", model.display()));
    // Without --config: the installed config.
    let out = run_ok(
        Command::new(&binary)
            .arg("check")
            .current_dir(elsewhere.path()),
    );
    let installed = share.join("config/redline.yaml");
    assert_printed(&out, &format!("config    {}: ok", installed.display()));
}
