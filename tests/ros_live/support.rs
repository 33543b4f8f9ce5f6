//! What the live ROS 2 tests share (feature `ros2`): the CI rule (a live test that cannot run
//! fails under `CI=true`), the node under test as a child process whose output is collected
//! while it runs, the topics of one camera, a [`Listener`] that records what a planner would
//! receive, a [`FramePlayer`] that publishes recorded frames restamped at send time, and the
//! `ros2` command line.
//!
//! Everything is per camera: a test with two cameras makes two [`Camera`]s, one listener over
//! both and one player per camera.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{FutureExt, Stream, StreamExt};
use r2r::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus};
use r2r::QosProfile;
use redline::bag::{BagMessage, COMPRESSED_IMAGE_TYPE};
use redline::frame::Stamp;
use redline::msgs::{write_compressed_image, CdrReader, CompressedImageMsg, HeaderRef};

use super::common;
use super::qos_text::{parse_topic_info, Endpoint};

pub const DETECTIONS_TYPE: &str = "vision_msgs/msg/Detection2DArray";
pub const OK: u8 = 0;
pub const ERROR: u8 = 2;
pub const STALE: u8 = 3;

/// `CI=true`: CI installs ROS 2 and the package, so there every live test must run.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A live test that cannot run here: `SKIPPED: <reason>`, or a failure under `CI=true`.
pub fn cannot_run(reason: &str) {
    assert!(
        !in_ci(),
        "a live test cannot run under CI=true: {reason} (.ci/run installs ROS 2 and the package)"
    );
    eprintln!("SKIPPED: {reason}");
}

/// Whether ROS 2 is sourced; [`cannot_run`] when it is not.
pub fn ros_sourced() -> bool {
    let sourced = std::env::var_os("AMENT_PREFIX_PATH").is_some();
    if !sourced {
        cannot_run("ROS 2 not sourced (AMENT_PREFIX_PATH unset; scripts/live-tests.sh sources it)");
    }
    sourced
}

/// A path in the shared test data, or [`cannot_run`].
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = common::shared_root().join(rel);
    if path.exists() {
        Some(path)
    } else {
        cannot_run(&format!(
            "shared test data {} is absent (set REDLINE_SHARED to the shared/ directory)",
            path.display()
        ));
        None
    }
}

/// The recorded messages of one topic of a shared bag.
pub fn bag_frames(bag_dir: &Path, topic: &str) -> Vec<BagMessage> {
    redline::bag::Bag::open(bag_dir)
        .expect("open shared bag")
        .messages(topic)
        .collect::<Result<_, _>>()
        .expect("read shared bag")
}

pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as i64
}

/// The live tests run one at a time (each starts a node that needs the CPU), in this
/// process's own ROS domain so that nothing else on the machine talks to their topics.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    std::env::set_var("ROS_DOMAIN_ID", (1 + std::process::id() % 200).to_string());
    guard
}

/// The topics of one camera as the node under test names them.
#[derive(Clone, Debug)]
pub struct Camera {
    pub image_topic: String,
    pub detections_topic: String,
    pub alarm_topic: String,
    /// The `frame_id` of the recorded frames (copied into the detections).
    pub frame_id: String,
}

impl Camera {
    /// Camera `name` of a multi-camera node at the root namespace: its detections and alarm
    /// under `/<name>/redline/`.
    pub fn named(name: &str, image_topic: &str, frame_id: &str) -> Self {
        Self {
            image_topic: image_topic.to_string(),
            detections_topic: format!("/{name}/redline/detections"),
            alarm_topic: format!("/{name}/redline/alarm"),
            frame_id: frame_id.to_string(),
        }
    }

    /// A node in `namespace` ("" = the root) with the shipped params file's output names,
    /// subscribed to `image_topic`.
    pub fn new(namespace: &str, image_topic: &str, frame_id: &str) -> Self {
        let ns = if namespace.is_empty() {
            String::new()
        } else {
            format!("/{namespace}")
        };
        Self {
            image_topic: image_topic.to_string(),
            detections_topic: format!("{ns}/redline/detections"),
            alarm_topic: format!("{ns}/redline/alarm"),
            frame_id: frame_id.to_string(),
        }
    }
}

/// A child process (the node, or `ros2 launch` in its own process group) whose stdout and
/// stderr are collected while it runs. Killed with its group if the test ends before it does.
pub struct NodeProcess {
    child: Option<Child>,
    group: bool,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl NodeProcess {
    /// Start `cmd` with piped output; `group`: in a process group of its own, signalled as one.
    pub fn spawn(mut cmd: Command, group: bool) -> Self {
        use std::os::unix::process::CommandExt;
        if group {
            cmd.process_group(0);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        let out: Option<Box<dyn Read + Send>> = child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>);
        let err: Option<Box<dyn Read + Send>> = child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn Read + Send>);
        for pipe in [out, err].into_iter().flatten() {
            let log = Arc::clone(&log);
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                    log.push_str(&line);
                    log.push('\n');
                }
            }));
        }
        Self {
            child: Some(child),
            group,
            log,
            readers,
        }
    }

    /// Everything it printed so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok()?
    }

    /// Wait up to `timeout` for it to exit by itself: its status and complete output.
    pub fn wait(&mut self, timeout: Duration) -> Option<(ExitStatus, String)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                self.child = None;
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                return Some((status, self.log()));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send `signal` (to the group, if it has one) and wait up to 20 s for the exit.
    pub fn stop(&mut self, signal: libc::c_int) -> (ExitStatus, String) {
        let pid = self.child.as_ref().expect("process running").id() as i32;
        let target = if self.group { -pid } else { pid };
        // SAFETY: kill(2) on the child (or the process group) this struct spawned.
        unsafe { libc::kill(target, signal) };
        self.wait(Duration::from_secs(20)).unwrap_or_else(|| {
            panic!(
                "did not stop within 20 s of signal {signal}:\n{}",
                self.log()
            )
        })
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.group {
                // SAFETY: SIGKILL to the process group this struct created.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One received `Detection2DArray`: the header of the frame it answers.
#[derive(Clone, Debug)]
pub struct Answer {
    pub stamp: Stamp,
    pub frame_id: String,
    pub detections: u32,
    pub arrived_ns: i64,
}

impl Answer {
    /// Milliseconds from the frame's stamp to this process's callback.
    pub fn age_ms(&self) -> f64 {
        let stamp_ns = self.stamp.sec as i64 * 1_000_000_000 + self.stamp.nanosec as i64;
        (self.arrived_ns - stamp_ns) as f64 / 1e6
    }
}

/// What arrived for one camera.
#[derive(Default)]
pub struct CameraReceived {
    pub answers: Vec<Answer>,
    pub alarms: Vec<DiagnosticStatus>,
}

type Boxed<T> = Box<dyn Stream<Item = T> + Unpin + Send>;

struct CameraStreams {
    detections: Boxed<Vec<u8>>,
    alarms: Boxed<DiagnosticStatus>,
}

/// A planner's view: an r2r node subscribed to each camera's detections and latched alarm
/// (transient-local, as the README tells planners to) and to `/diagnostics`.
pub struct Listener {
    pub node: r2r::Node,
    streams: Vec<CameraStreams>,
    diagnostics_stream: Boxed<DiagnosticArray>,
    pub cameras: Vec<CameraReceived>,
    pub diagnostics: Vec<DiagnosticStatus>,
}

/// The alarm's QoS as a planner subscribes to it.
pub fn latched() -> QosProfile {
    QosProfile::default().keep_last(1).transient_local()
}

impl Listener {
    pub fn new(name: &str, cameras: &[Camera]) -> Self {
        let ctx = r2r::Context::create().expect("ros context");
        let mut node = r2r::Node::create(ctx, name, "").expect("listener node");
        let streams = cameras
            .iter()
            .map(|camera| CameraStreams {
                detections: Box::new(
                    node.subscribe_raw(
                        &camera.detections_topic,
                        DETECTIONS_TYPE,
                        QosProfile::default().keep_last(10),
                    )
                    .expect("subscribe detections (is vision_msgs installed?)"),
                ),
                alarms: Box::new(
                    node.subscribe::<DiagnosticStatus>(&camera.alarm_topic, latched())
                        .expect("subscribe alarm"),
                ),
            })
            .collect();
        let diagnostics_stream = Box::new(
            node.subscribe::<DiagnosticArray>("/diagnostics", QosProfile::default())
                .expect("subscribe /diagnostics"),
        );
        Self {
            node,
            streams,
            diagnostics_stream,
            cameras: cameras.iter().map(|_| CameraReceived::default()).collect(),
            diagnostics: Vec::new(),
        }
    }

    /// Spin once (at most `for_`) and record everything that arrived.
    pub fn poll(&mut self, for_: Duration) {
        self.node.spin_once(for_);
        for (streams, got) in self.streams.iter_mut().zip(&mut self.cameras) {
            drain(&mut streams.detections, |bytes| {
                got.answers.push(answer(&bytes))
            });
            drain(&mut streams.alarms, |status| got.alarms.push(status));
        }
        drain(&mut self.diagnostics_stream, |array| {
            self.diagnostics.extend(array.status)
        });
    }

    /// Poll until `done` holds; panics (with the node's output) if the node exits first or
    /// `timeout` passes.
    pub fn wait_for(
        &mut self,
        node: &mut NodeProcess,
        timeout: Duration,
        what: &str,
        done: impl Fn(&Listener) -> bool,
    ) {
        let start = Instant::now();
        while !done(self) {
            if let Some(status) = node.exited() {
                panic!("exited ({status}) before {what}:\n{}", node.log());
            }
            assert!(
                start.elapsed() < timeout,
                "no {what} within {timeout:?}:\n{}",
                node.log()
            );
            self.poll(Duration::from_millis(20));
        }
    }

    /// Wait until every camera's latched alarm has arrived: the node publishes it once its
    /// engine is warm, so this is "ready".
    pub fn wait_ready(&mut self, node: &mut NodeProcess, timeout: Duration) {
        self.wait_for(node, timeout, "latched alarm status (ready)", |l| {
            l.cameras.iter().all(|c| !c.alarms.is_empty())
        });
    }
}

fn drain<S: Stream + Unpin>(stream: &mut S, mut each: impl FnMut(S::Item)) {
    while let Some(Some(item)) = stream.next().now_or_never() {
        each(item);
    }
}

/// Header and detection count of a `vision_msgs/msg/Detection2DArray`, read with our own CDR
/// reader (the test needs no vision_msgs bindings either).
fn answer(bytes: &[u8]) -> Answer {
    let arrived_ns = now_ns();
    let mut r = CdrReader::new(bytes).expect("Detection2DArray encapsulation");
    let header = HeaderRef::read(&mut r).expect("Detection2DArray header");
    let detections = r.u32("detections.length").expect("detections length");
    Answer {
        stamp: header.stamp,
        frame_id: header.frame_id.to_string(),
        detections,
        arrived_ns,
    }
}

/// A status's value for `key`.
pub fn value<'a>(status: &'a DiagnosticStatus, key: &str) -> Option<&'a str> {
    status
        .values
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_str())
}

/// Publishes one camera's recorded `CompressedImage` frames as its driver would: each stamped
/// with the time it is sent and carrying the camera's `frame_id`; remembers which stamp went
/// out with which frame.
pub struct FramePlayer {
    publisher: r2r::PublisherUntyped,
    /// The camera's `frame_id`, written into every frame (empty: the recorded one).
    frame_id: String,
    buf: Vec<u8>,
    sent: HashMap<(i32, u32), usize>,
}

impl FramePlayer {
    pub fn new(listener: &mut Listener, camera: &Camera) -> Self {
        let publisher = listener
            .node
            .create_publisher_untyped(
                &camera.image_topic,
                COMPRESSED_IMAGE_TYPE,
                QosProfile::sensor_data(),
            )
            .expect("image publisher");
        Self {
            publisher,
            frame_id: camera.frame_id.clone(),
            buf: Vec::new(),
            sent: HashMap::new(),
        }
    }

    /// Send recorded frame `index` (CDR bytes), stamped now.
    pub fn send(&mut self, index: usize, recorded: &[u8]) {
        let recorded = CompressedImageMsg::parse(recorded).expect("recorded frame");
        let stamp = Stamp::from_nanos(now_ns());
        write_compressed_image(
            &mut self.buf,
            stamp,
            if self.frame_id.is_empty() {
                recorded.header.frame_id
            } else {
                &self.frame_id
            },
            recorded.format,
            recorded.data,
        );
        self.publisher
            .publish_raw(&self.buf)
            .expect("publish frame");
        self.sent.insert((stamp.sec, stamp.nanosec), index);
    }

    /// The index of the frame that went out with `stamp`.
    pub fn index_of(&self, stamp: Stamp) -> Option<usize> {
        self.sent.get(&(stamp.sec, stamp.nanosec)).copied()
    }
}

/// `ros2 ARGS…` to completion (at most `timeout`).
pub fn ros2(args: &[&str], timeout: Duration) -> Output {
    let mut child = Command::new("ros2")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ros2");
    let deadline = Instant::now() + timeout;
    while child.try_wait().expect("wait for ros2").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("ros2 output")
}

/// The endpoints of `topic` as `ros2 topic info -v` reports them (no daemon, so nothing is
/// left running), once `wanted` is among them; panics after `timeout`.
pub fn topic_endpoints(
    topic: &str,
    timeout: Duration,
    wanted: impl Fn(&Endpoint) -> bool,
) -> Vec<Endpoint> {
    let start = Instant::now();
    loop {
        let out = ros2(
            &[
                "topic",
                "info",
                "-v",
                "--no-daemon",
                "--spin-time",
                "1",
                topic,
            ],
            Duration::from_secs(30),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let endpoints = parse_topic_info(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        if endpoints.iter().any(&wanted) {
            return endpoints;
        }
        assert!(
            start.elapsed() < timeout,
            "`ros2 topic info -v {topic}` did not list the endpoint within {timeout:?}:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
