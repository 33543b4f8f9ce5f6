//! Live tests against a real ROS 2 (feature `ros2`, ROS 2 sourced, vision_msgs installed;
//! `scripts/live-tests.sh` sets that up). Each starts `redline_node` (or `ros2 launch`) and
//! checks what a planner would see:
//!
//! - the shared JPEG bag published through r2r at its recorded rate (10 Hz), each frame stamped
//!   when it is sent: detections carry the stamp and frame_id of the frame they answer, in
//!   order, never later than the budget after that stamp; `/diagnostics` OK; an engine stall
//!   raises the latched alarm to ERROR at `infer`, which a planner joining during the stall
//!   receives at once (with `/diagnostics` in error); STALE when the camera stops; SIGINT stops
//!   the node cleanly with its summary;
//! - the QoS of every topic as `ros2 topic info -v` reports it is the README's table; frames
//!   sent by `tools/publish_bag.py` (restamped) are answered in time; a planner joining after
//!   the camera stopped reads STALE from the latched alarm and from `/diagnostics`; SIGTERM
//!   stops the node cleanly;
//! - an invalid params file is refused with the problems `redline check` prints for it;
//! - `ros2 launch` of the colcon-installed package comes up in its namespace and stops on
//!   Ctrl-C;
//! - one node serves two cameras: each camera's frames are answered on its own detections topic
//!   with its own frame_id, `/diagnostics` carries a status per camera and the engine's, and a
//!   camera that stops goes STALE on its own alarm while the other stays live.
//!
//! They assert behaviour, not throughput: they must pass on a loaded 2-core machine with an
//! unoptimised test build (see the constants for how budget and rates are chosen). A test that
//! cannot run prints SKIPPED, and fails under `CI=true`. Each runs in this process's own ROS
//! domain, one at a time.
mod common;
#[path = "ros_live/qos_text.rs"]
mod qos_text;
#[cfg(feature = "ros2")]
#[path = "ros_live/support.rs"]
mod support;

use redline::ros::qos::{Durability, Reliability, TopicQos};

/// The README's topic table states the QoS the node is written to use (`src/ros/qos.rs`);
/// the live test below checks the running node against the same table.
#[test]
fn readme_topic_table_states_the_qos_the_node_uses() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).expect("README.md");
    let table = qos_text::readme_topic_table(&readme).expect("README topic table");
    for (name, qos) in [
        ("input.topic", TopicQos::IMAGE),
        ("redline/detections", TopicQos::DETECTIONS),
        ("/diagnostics", TopicQos::DIAGNOSTICS),
        ("redline/alarm", TopicQos::ALARM),
    ] {
        let documented = table
            .get(name)
            .unwrap_or_else(|| panic!("README topic table has no row for `{name}`: {table:?}"));
        let reliability = match qos.reliability {
            Reliability::Reliable => "RELIABLE",
            Reliability::BestEffort => "BEST_EFFORT",
        };
        let durability = match qos.durability {
            Durability::Volatile => "VOLATILE",
            Durability::TransientLocal => "TRANSIENT_LOCAL",
        };
        assert_eq!(
            (
                documented.reliability.as_str(),
                documented.durability.as_str(),
                documented.depth
            ),
            (reliability, durability, Some(qos.depth)),
            "README row `{name}` vs src/ros/qos.rs"
        );
    }
    assert_eq!(table.len(), 4, "unexpected README topic rows: {table:?}");
}

#[cfg(feature = "ros2")]
mod live {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::common;
    use super::qos_text;
    use super::support::{
        bag_frames, cannot_run, one_at_a_time, ros2, ros_sourced, shared, topic_endpoints, value,
        Camera, FramePlayer, Listener, NodeProcess, ERROR, OK, STALE,
    };

    const BAG: &str = "data/bags/vtest_jpeg_mcap";
    const IMAGE_TOPIC: &str = "/camera/front/image_raw/compressed";
    const FRAME_ID: &str = "camera_front";
    /// Frames from this sequence number on take 2.5 s longer in the engine: more than twice
    /// the budget, so every stalled frame misses however idle or loaded the machine is.
    const STALL_FROM: u64 = 100;
    const STALL_MS: u64 = 2500;
    /// The budget the node runs with here: 10 frame periods at the bag's 10 Hz. With the
    /// unoptimised test build on a 2-core machine where other builds run (load average ~10),
    /// frames took up to ~300 ms end to end and a 400 ms budget let the monitor escalate
    /// before the stall; 1 s keeps "answered in time" about the node's rules, not the
    /// machine's load (the vehicle default is 100 ms on a release build).
    const BUDGET_MS: f64 = 1000.0;
    /// Output silence (nothing published) raises ERROR after this long: 3 budgets, so that a
    /// slow first frame on a loaded machine is not an alarm (the default is 1 s).
    const OUTPUT_TIMEOUT_MS: f64 = 3000.0;
    /// Transport from the node's publish call to this process's callback, on loopback.
    const TRANSPORT_SLACK_MS: f64 = 50.0;
    /// Before the stall, at least this many of the first 100 frames must be answered: enough
    /// to show the node answers frames, below what even a heavily loaded machine managed (17
    /// with a 400 ms budget at load ~10, 66–100 otherwise); how many is a throughput number,
    /// printed, not asserted.
    const MIN_ANSWERED_BEFORE_STALL: usize = 10;
    /// The frame at which a second planner joins (4 s into the stall: it has raised ERROR).
    const LATE_JOIN_AT: usize = 140;
    /// How long a node may take to load its model and report ready on a loaded machine.
    const READY_TIMEOUT: Duration = Duration::from_secs(90);

    /// The shared bag, where ROS 2 is sourced and the bag is there ([`cannot_run`] otherwise).
    fn ros_and_bag() -> Option<std::path::PathBuf> {
        if ros_sourced() {
            shared(BAG)
        } else {
            None
        }
    }

    fn front() -> Camera {
        Camera::new("", IMAGE_TOPIC, FRAME_ID)
    }

    /// `redline_node` with the shipped params file and the live budget, plus `extra` args
    /// before `--ros-args` (faults).
    fn start_node(extra: &[String]) -> NodeProcess {
        let params = common::repo().join("config/redline.yaml");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline_node"));
        cmd.args(extra)
            .args(["--ros-args", "--params-file"])
            .arg(params)
            .args(["-p", &format!("deadline.budget_ms:={BUDGET_MS}")])
            .args([
                "-p",
                &format!("monitor.output_timeout_ms:={OUTPUT_TIMEOUT_MS}"),
            ])
            .env("RUST_LOG", "info");
        NodeProcess::spawn(cmd, false)
    }

    /// Every answer carries the stamp of a frame that was sent, the camera's frame_id, in
    /// order, within the budget of its stamp; returns the answered frame indices.
    fn check_answers(
        listener: &Listener,
        camera_index: usize,
        camera: &Camera,
        player: &FramePlayer,
    ) -> Vec<usize> {
        let answered: Vec<usize> = listener.cameras[camera_index]
            .answers
            .iter()
            .map(|a| {
                assert_eq!(a.frame_id, camera.frame_id, "frame_id of {:?}", a.stamp);
                let index = player.index_of(a.stamp).unwrap_or_else(|| {
                    panic!("detections with stamp {:?} that no frame carried", a.stamp)
                });
                assert!(
                    a.age_ms() <= BUDGET_MS + TRANSPORT_SLACK_MS,
                    "frame {index} answered {:.1} ms after its stamp (budget {BUDGET_MS} ms)",
                    a.age_ms()
                );
                index
            })
            .collect();
        assert!(
            answered.windows(2).all(|w| w[0] < w[1]),
            "detections out of order or repeated: {answered:?}"
        );
        answered
    }

    /// A clean stop on `signal`: exit status 0 and the balanced summary in the log.
    fn assert_clean_stop(node: &mut NodeProcess, signal: libc::c_int, name: &str) {
        let (status, log) = node.stop(signal);
        assert!(
            status.success(),
            "node did not stop cleanly on {name}: {status}\n{log}"
        );
        let summary = log
            .lines()
            .find(|l| l.contains("redline node stopped"))
            .unwrap_or_else(|| panic!("no final summary in the node's log after {name}:\n{log}"));
        assert!(summary.contains("balanced=true"), "{summary}");
    }

    #[test]
    fn node_answers_a_shared_bag_live_and_latches_the_stall_alarm() {
        let Some(bag_dir) = ros_and_bag() else {
            return;
        };
        let frames = bag_frames(&bag_dir, IMAGE_TOPIC);
        assert_eq!(frames.len(), 150, "shared bag frame count");
        let _one_at_a_time = one_at_a_time();

        let mut node = start_node(&[
            "--fault".into(),
            format!("infer:delay={STALL_MS}ms,frames={STALL_FROM}..1000000"),
        ]);
        let camera = front();
        let mut listener = Listener::new("redline_live_test", std::slice::from_ref(&camera));
        let mut player = FramePlayer::new(&mut listener, &camera);
        listener.wait_ready(&mut node, READY_TIMEOUT);
        assert_eq!(
            listener.cameras[0].alarms[0].level, OK,
            "initial alarm: {:?}",
            listener.cameras[0].alarms[0]
        );

        // Every frame at its recorded offset, stamped when it is sent.
        let first_log = frames[0].log_time_ns;
        let t0 = Instant::now();
        let mut late: Option<Listener> = None;
        for (i, frame) in frames.iter().enumerate() {
            if i == LATE_JOIN_AT {
                // A planner that starts in the middle of the stall.
                late = Some(Listener::new(
                    "redline_late_planner",
                    std::slice::from_ref(&camera),
                ));
            }
            let due = t0 + Duration::from_nanos(frame.log_time_ns - first_log);
            while Instant::now() < due {
                listener.poll(Duration::from_millis(5));
                if let Some(late) = late.as_mut() {
                    late.poll(Duration::ZERO);
                }
            }
            player.send(i, &frame.data);
        }
        // The camera stops: after the sensor timeout (500 ms) the alarm goes STALE.
        let settle = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < settle {
            listener.poll(Duration::from_millis(10));
            if let Some(late) = late.as_mut() {
                late.poll(Duration::ZERO);
            }
        }
        assert_clean_stop(&mut node, libc::SIGINT, "SIGINT");

        let answered = check_answers(&listener, 0, &camera, &player);
        let before_stall = answered
            .iter()
            .filter(|&&i| (i as u64) < STALL_FROM)
            .count();
        assert!(
            before_stall >= MIN_ANSWERED_BEFORE_STALL,
            "only {before_stall} of the first {STALL_FROM} frames were answered: {answered:?}"
        );
        let got = &listener.cameras[0];
        assert!(
            got.answers.iter().any(|a| a.detections > 0),
            "no detections at all in a bag full of pedestrians"
        );

        // /diagnostics: OK while frames are answered in time.
        let deadline_ok = listener.diagnostics.iter().any(|s| {
            s.name == "redline: deadline"
                && s.hardware_id == "/redline"
                && s.level == OK
                && value(s, "frames_published").is_some_and(|n| n != "0")
        });
        assert!(
            deadline_ok,
            "no OK deadline status with published frames on /diagnostics: {:?}",
            listener.diagnostics
        );

        // The stall raises the latched alarm to ERROR at stage infer ...
        let raised = got
            .alarms
            .iter()
            .find(|s| s.level == ERROR)
            .unwrap_or_else(|| {
                panic!(
                    "the stall never raised the alarm to ERROR: {:?}",
                    got.alarms
                )
            });
        assert_eq!(value(raised, "stage"), Some("infer"), "{raised:?}");
        // ... a planner that joins during the stall receives it at once, and /diagnostics
        // tells it the same ...
        let late = late.expect("late planner");
        let latched = late.cameras[0]
            .alarms
            .first()
            .unwrap_or_else(|| panic!("a late subscriber received no latched alarm"));
        assert_eq!(latched.level, ERROR, "latched alarm: {latched:?}");
        assert_eq!(value(latched, "stage"), Some("infer"), "{latched:?}");
        let late_diag = late
            .diagnostics
            .iter()
            .find(|s| s.name == "redline: deadline")
            .unwrap_or_else(|| panic!("the late planner received no /diagnostics"));
        assert!(late_diag.level >= ERROR, "late /diagnostics: {late_diag:?}");
        // ... and when the camera stops, the alarm says so.
        let last = got.alarms.last().expect("alarm statuses");
        assert_eq!(
            (last.level, value(last, "cause")),
            (STALE, Some("sensor_silence")),
            "{last:?}"
        );
        eprintln!(
            "ros_live bag: {} of 150 frames answered ({before_stall} before the stall), {} \
             diagnostics, alarm levels {:?}, late planner: alarm {} diagnostics {}",
            answered.len(),
            listener.diagnostics.len(),
            got.alarms.iter().map(|s| s.level).collect::<Vec<_>>(),
            latched.level,
            late_diag.level
        );
    }

    /// The QoS of each topic as `ros2 topic info -v` reports it, for the node's own endpoint.
    fn check_topic_qos(camera: &Camera) -> Vec<String> {
        let readme = std::fs::read_to_string(common::repo().join("README.md")).expect("README");
        let table = qos_text::readme_topic_table(&readme).expect("README topic table");
        let mut report = Vec::new();
        for (row, topic, kind) in [
            ("input.topic", camera.image_topic.as_str(), "SUBSCRIPTION"),
            (
                "redline/detections",
                camera.detections_topic.as_str(),
                "PUBLISHER",
            ),
            ("/diagnostics", "/diagnostics", "PUBLISHER"),
            ("redline/alarm", camera.alarm_topic.as_str(), "PUBLISHER"),
        ] {
            let is_node = |e: &qos_text::Endpoint| e.node_name == "redline" && e.kind == kind;
            let endpoints = topic_endpoints(topic, Duration::from_secs(60), is_node);
            let node_qos = &endpoints.iter().find(|e| is_node(e)).expect("listed").qos;
            let documented = &table[row];
            assert_eq!(
                (&node_qos.reliability, &node_qos.durability),
                (&documented.reliability, &documented.durability),
                "{topic}: `ros2 topic info -v` vs the README's row `{row}`"
            );
            // The keep-last depth where the RMW reports it (rmw_cyclonedds does; others print
            // UNKNOWN for another process's endpoint).
            if let Some(depth) = node_qos.depth {
                assert_eq!(Some(depth), documented.depth, "{topic}: history depth");
            }
            report.push(format!(
                "{topic} {kind} {} {} depth {}",
                node_qos.reliability,
                node_qos.durability,
                node_qos.depth.map_or("unknown".into(), |d| d.to_string())
            ));
        }
        report
    }

    #[test]
    fn topics_have_the_documented_qos_late_planners_read_the_state_and_sigterm_stops_cleanly() {
        let Some(bag_dir) = ros_and_bag() else {
            return;
        };
        let python = common::repo().join(".venv/bin/python");
        if !python.exists() {
            cannot_run("no .venv for tools/publish_bag.py (run scripts/python-env.sh)");
            return;
        }
        let _one_at_a_time = one_at_a_time();
        let mut node = start_node(&[]);
        let camera = front();
        let mut listener = Listener::new("redline_qos_test", std::slice::from_ref(&camera));
        listener.wait_ready(&mut node, READY_TIMEOUT);

        let qos = check_topic_qos(&camera);

        // Frames from the frame publisher the README uses, restamped at send time: answered
        // in time (the recorded stamps are days old and would be dropped as clock_skew).
        const SENT: usize = 30;
        let mut publisher = NodeProcess::spawn(
            {
                let mut cmd = Command::new(python);
                cmd.arg(common::repo().join("tools/publish_bag.py"))
                    .arg(bag_dir)
                    .args(["--count", &SENT.to_string(), "--wait-subscriber", "30"]);
                cmd
            },
            false,
        );
        let start = Instant::now();
        while publisher.exited().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "publish_bag.py did not finish:\n{}",
                publisher.log()
            );
            listener.poll(Duration::from_millis(10));
        }
        let (status, out) = publisher.wait(Duration::from_secs(5)).expect("exited");
        assert!(status.success(), "publish_bag.py failed: {out}");
        assert!(
            out.contains(&format!("sent {SENT} frames")),
            "publish_bag.py: {out}"
        );
        // The camera has stopped: wait for the node to say so (sensor timeout 500 ms).
        listener.wait_for(&mut node, Duration::from_secs(10), "STALE alarm", |l| {
            l.cameras[0].alarms.last().is_some_and(|s| s.level == STALE)
        });
        let answers = &listener.cameras[0].answers;
        assert!(
            !answers.is_empty(),
            "none of the {SENT} frames from publish_bag.py was answered:\n{}",
            node.log()
        );
        for a in answers {
            assert_eq!(a.frame_id, camera.frame_id);
            assert!(
                a.age_ms() <= BUDGET_MS + TRANSPORT_SLACK_MS,
                "answered {:.1} ms after its stamp",
                a.age_ms()
            );
        }

        // A planner that starts now reads the state at once from the latched alarm, and from
        // the next /diagnostics (1 Hz).
        let mut late = Listener::new("redline_late_planner", std::slice::from_ref(&camera));
        let joined = Instant::now();
        late.wait_for(
            &mut node,
            Duration::from_secs(5),
            "latched alarm (late)",
            |l| !l.cameras[0].alarms.is_empty(),
        );
        let alarm_after = joined.elapsed();
        late.wait_for(
            &mut node,
            Duration::from_secs(5),
            "/diagnostics (late)",
            |l| l.diagnostics.iter().any(|s| s.name == "redline: deadline"),
        );
        let latched = &late.cameras[0].alarms[0];
        assert_eq!(
            (latched.level, value(latched, "cause")),
            (STALE, Some("sensor_silence")),
            "{latched:?}"
        );
        let diag = late
            .diagnostics
            .iter()
            .find(|s| s.name == "redline: deadline")
            .expect("deadline status");
        assert_eq!(diag.level, STALE, "late /diagnostics: {diag:?}");
        // Best effort, keep last 1: a frame the node had not taken yet is replaced by the next.
        let received: usize = value(diag, "frames_received")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no frames_received in {diag:?}"));
        assert!(
            (answers.len()..=SENT).contains(&received),
            "frames_received {received}, {} answered, {SENT} sent: {diag:?}",
            answers.len()
        );

        assert_clean_stop(&mut node, libc::SIGTERM, "SIGTERM");
        eprintln!(
            "ros_live qos: {}; publish_bag.py: {SENT} sent, {} answered; late planner: \
             alarm {} after {alarm_after:?}, /diagnostics {}; SIGTERM: clean",
            qos.join("; "),
            answers.len(),
            latched.level,
            diag.level
        );
    }

    /// The distinct problem lines (`  - key: value — expected`) of a config error message
    /// (the node prints its error to its log and to stderr, so each line comes twice).
    fn problems(text: &str) -> Vec<String> {
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("  - "))
            .map(str::to_string)
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }

    #[test]
    fn invalid_params_file_is_refused_with_the_cli_message() {
        if !ros_sourced() {
            return;
        }
        let _one_at_a_time = one_at_a_time();
        let dir = tempfile::tempdir().expect("temp dir");
        let bad = dir.path().join("bad.yaml");
        let model = common::repo().join("models/pedestrian_ssdlite.onnx");
        std::fs::write(
            &bad,
            format!(
                "redline:\n  ros__parameters:\n    model:\n      path: {}\n      family: yolo9\n    \
                 deadline:\n      budget_ms: -5\n    monitor:\n      window_frams: 50\n    \
                 pipeline:\n      stages:\n        infer: {{core: -1, priority: 150}}\n",
                model.display()
            ),
        )
        .expect("write bad params");

        let check = Command::new(env!("CARGO_BIN_EXE_redline"))
            .args(["check", "--config"])
            .arg(&bad)
            .output()
            .expect("redline check");
        let check_err = String::from_utf8_lossy(&check.stderr);
        assert!(!check.status.success(), "redline check accepted {bad:?}");
        let expected = problems(&check_err);
        assert_eq!(expected.len(), 4, "redline check: {check_err}");

        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline_node"));
        cmd.args(["--ros-args", "--params-file"]).arg(&bad);
        let mut node = NodeProcess::spawn(cmd, false);
        let (status, log) = node
            .wait(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("the node did not refuse {bad:?}:\n{}", node.log()));
        assert!(!status.success(), "the node started with {bad:?}:\n{log}");
        assert!(
            !log.contains("redline node ready"),
            "the node came up with an invalid params file:\n{log}"
        );
        assert_eq!(
            problems(&log),
            expected,
            "the node's refusal differs from `redline check`:\n{log}"
        );
        assert!(
            log.contains(&format!("params file {}", bad.display())),
            "the node's error does not name the params file:\n{log}"
        );
        eprintln!(
            "ros_live params: the node refused {} with the {} problems `redline check` prints",
            bad.display(),
            expected.len()
        );
    }

    /// Two cameras through one node (params: the shipped file, then a `cameras` section):
    /// frames of both are answered on their own topics with their own frame_id, in time;
    /// `/diagnostics` has `redline: front`, `redline: left` and `redline: engine`; when the
    /// front camera stops and the left one goes on, only the front alarm goes STALE.
    #[test]
    fn one_node_serves_two_cameras_with_an_alarm_each() {
        let Some(bag_dir) = ros_and_bag() else {
            return;
        };
        let frames = bag_frames(&bag_dir, IMAGE_TOPIC);
        let _one_at_a_time = one_at_a_time();
        let dir = tempfile::tempdir().expect("temp dir");
        let cameras_params = dir.path().join("two_cameras.yaml");
        std::fs::write(
            &cameras_params,
            "redline:\n  ros__parameters:\n    cameras:\n      names: [front, left]\n      \
             front: {topic: /two/front/image/compressed, transport: compressed, criticality: 10}\n      \
             left: {topic: /two/left/image/compressed, transport: compressed, criticality: 1}\n",
        )
        .expect("write params");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline_node"));
        cmd.args(["--ros-args", "--params-file"])
            .arg(common::repo().join("config/redline.yaml"))
            .arg("--params-file")
            .arg(&cameras_params)
            .args(["-p", &format!("deadline.budget_ms:={BUDGET_MS}")])
            .args([
                "-p",
                &format!("monitor.output_timeout_ms:={OUTPUT_TIMEOUT_MS}"),
            ])
            .env("RUST_LOG", "info");
        let mut node = NodeProcess::spawn(cmd, false);
        let cams = [
            Camera::named("front", "/two/front/image/compressed", "camera_front"),
            Camera::named("left", "/two/left/image/compressed", "camera_left"),
        ];
        let mut listener = Listener::new("redline_two_cameras_test", &cams);
        let mut players: Vec<FramePlayer> = cams
            .iter()
            .map(|c| FramePlayer::new(&mut listener, c))
            .collect();
        listener.wait_ready(&mut node, READY_TIMEOUT);

        // Both cameras at 5 Hz, 100 ms apart, for 8 s; then the left one alone for 1.5 s
        // (three sensor timeouts of the front camera).
        let both = 40;
        let left_alone = 8;
        let t0 = Instant::now();
        for k in 0..both + left_alone {
            for (c, player) in players.iter_mut().enumerate() {
                if c == 0 && k >= both {
                    continue;
                }
                let due = t0 + Duration::from_millis(200 * k as u64 + 100 * c as u64);
                while Instant::now() < due {
                    listener.poll(Duration::from_millis(5));
                }
                let i = (2 * k + c) % frames.len();
                player.send(i, &frames[i].data);
            }
        }
        let settle = Instant::now() + Duration::from_millis(300);
        while Instant::now() < settle {
            listener.poll(Duration::from_millis(10));
        }
        assert_clean_stop(&mut node, libc::SIGINT, "SIGINT");

        for (c, camera) in cams.iter().enumerate() {
            let answers = &listener.cameras[c].answers;
            for a in answers {
                assert_eq!(
                    a.frame_id, camera.frame_id,
                    "{}: {a:?}",
                    camera.detections_topic
                );
                assert!(
                    players[c].index_of(a.stamp).is_some(),
                    "{}: an answer to a frame this camera never sent: {a:?}",
                    camera.detections_topic
                );
                assert!(a.age_ms() <= BUDGET_MS + TRANSPORT_SLACK_MS, "{a:?}");
            }
            assert!(
                answers.len() >= 3,
                "{}: only {} answers",
                camera.detections_topic,
                answers.len()
            );
        }
        for name in ["redline: front", "redline: left", "redline: engine"] {
            assert!(
                listener.diagnostics.iter().any(|s| s.name == name),
                "no `{name}` status on /diagnostics: {:?}",
                listener
                    .diagnostics
                    .iter()
                    .map(|s| &s.name)
                    .collect::<std::collections::BTreeSet<_>>()
            );
        }
        let front = &listener.cameras[0].alarms;
        let left = &listener.cameras[1].alarms;
        let last_front = front.last().expect("front alarm");
        assert_eq!(
            (last_front.level, value(last_front, "cause")),
            (STALE, Some("sensor_silence")),
            "front: {front:?}"
        );
        assert!(
            left.iter().all(|s| s.level != STALE),
            "the left camera never stopped but went STALE: {left:?}"
        );
        eprintln!(
            "ros_live two cameras: front {} / left {} answered of {both} / {}; front alarm \
             levels {:?}, left {:?}",
            listener.cameras[0].answers.len(),
            listener.cameras[1].answers.len(),
            both + left_alone,
            front.iter().map(|s| s.level).collect::<Vec<_>>(),
            left.iter().map(|s| s.level).collect::<Vec<_>>()
        );
    }

    /// `ros2 launch redline redline.launch.py namespace:=…` against the installed package:
    /// the node comes up under the namespace (its latched alarm on `/<ns>/redline/alarm`,
    /// `hardware_id` = its full name) and Ctrl-C stops it cleanly. The package is the one in
    /// `$REDLINE_INSTALL` (a colcon install directory: its setup.bash is sourced for the
    /// launch only), else the one the sourced environment finds.
    #[test]
    fn ros2_launch_starts_the_installed_node_in_its_namespace() {
        if !ros_sourced() {
            return;
        }
        let launch_args = [
            "launch",
            "redline",
            "redline.launch.py",
            "namespace:=launch_test",
            "image_topic:=/launch_test/camera/image_raw/compressed",
        ];
        let cmd = match std::env::var_os("REDLINE_INSTALL") {
            Some(install) => {
                let setup = std::path::Path::new(&install).join("setup.bash");
                if !setup.exists() {
                    cannot_run(&format!(
                        "REDLINE_INSTALL={} has no setup.bash",
                        setup.display()
                    ));
                    return;
                }
                let mut cmd = Command::new("bash");
                cmd.arg("-c")
                    .arg("source \"$0\" && exec ros2 \"$@\"")
                    .arg(setup)
                    .args(launch_args);
                cmd
            }
            None => {
                let installed = ros2(&["pkg", "prefix", "redline"], Duration::from_secs(30));
                if !installed.status.success() {
                    cannot_run(
                        "redline is not installed in the sourced workspace \
                         (scripts/colcon-build.sh builds and installs it; set REDLINE_INSTALL)",
                    );
                    return;
                }
                let mut cmd = Command::new("ros2");
                cmd.args(launch_args);
                cmd
            }
        };
        let _one_at_a_time = one_at_a_time();
        let mut launch = NodeProcess::spawn(cmd, true);
        let camera = Camera::new(
            "launch_test",
            "/launch_test/camera/image_raw/compressed",
            "",
        );
        let mut listener = Listener::new("redline_launch_test", std::slice::from_ref(&camera));
        listener.wait_ready(&mut launch, READY_TIMEOUT);
        let alarm = &listener.cameras[0].alarms[0];
        assert_eq!(alarm.hardware_id, "/launch_test/redline", "{alarm:?}");
        assert_eq!(alarm.level, OK, "{alarm:?}");

        // Ctrl-C on the launch: SIGINT to its process group, as a terminal sends it.
        let (status, log) = launch.stop(libc::SIGINT);
        assert!(status.success(), "ros2 launch exited with {status}:\n{log}");
        assert!(log.contains("redline node stopped"), "{log}");
        assert!(log.contains("process has finished cleanly"), "{log}");
        eprintln!(
            "ros_live launch: node up as /launch_test/redline (alarm OK, latched), Ctrl-C: clean"
        );
    }
}

#[cfg(not(feature = "ros2"))]
#[test]
fn ros_live_requires_feature() {
    eprintln!(
        "SKIPPED: live ROS 2 tests built without feature `ros2` (scripts/live-tests.sh runs \
         them with it where ROS 2 is present; .ci/run does so in its own section)"
    );
}
