//! The hostile inputs of `../shared/fuzz-findings/` that reach `redline replay`, `detect` and
//! `check` (one test per table row, through the library or the real binary): the report never
//! depends on a message count, recorded time is never slept when it jumps, a replay that lost
//! or never found its frames fails, outputs never overwrite an input or follow a symlink, and
//! command-line numbers are refused in one sentence.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use common::findings::{bag_dir, finding, jpeg_camera_file, run_redline};
use redline::replay::{run, Gates, OutputError, Pacing, ReplayError, ReplayOptions};
use redline::report::ReplayReport;
use redline::Config;

/// Replays run one at a time: they are timing-sensitive on a machine with few cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The shipped config with budgets loose enough for an unoptimised build.
fn loose_config() -> Config {
    let mut c = Config::load(&Config::default_path()).unwrap();
    c.deadline.budget_ms = 2_000.0;
    c.deadline.max_age_ms = 10_000.0;
    c.deadline.predictive = false;
    c.pipeline.lock_memory = false;
    c.monitor.sensor_timeout_ms = 5_000.0;
    c.monitor.output_timeout_ms = 10_000.0;
    c
}

fn options(bag: &Path, config: Config, out: &Path, pacing: Pacing) -> ReplayOptions {
    ReplayOptions {
        bag: bag.to_path_buf(),
        config,
        config_origin: "test".into(),
        out_dir: out.to_path_buf(),
        cameras: Vec::new(),
        clock: redline::replay::ReplayClock::Wall,
        pacing,
        faults: Vec::new(),
        gates: Gates::default(),
        progress: false,
    }
}

fn replay(opts: &ReplayOptions) -> Result<ReplayReport, ReplayError> {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    run(opts).map(|o| o.report)
}

/// The three-frame bag of several findings (3 tiny JPEG frames, zstd chunks, a summary).
fn small_bag(tmp: &Path) -> Option<PathBuf> {
    let dir = finding("out-equals-bag-clobbers-metadata")?;
    Some(bag_dir(
        &tmp.join("small"),
        &dir.join("metadata.yaml"),
        &[("cam.mcap", &dir.join("cam.mcap"))],
    ))
}

#[test]
fn per_frame_detections_do_not_depend_on_the_metadata_message_count() {
    let (Some(meta), Some(config)) = (
        finding("report-detections-zeroed-by-message-count/metadata.yaml"),
        finding("report-detections-zeroed-by-message-count/fz_slow.yaml"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let Some(camera) = jpeg_camera_file() else {
        return;
    };
    let bag = bag_dir(
        &tmp.path().join("bag"),
        &meta,
        &[("vtest_jpeg_mcap.mcap", &camera)],
    );
    // A copy of config/redline.yaml (slow budget): its relative model path is meant from there.
    let text = std::fs::read_to_string(&config).unwrap();
    let mut config =
        Config::from_yaml_str(&text, "fz_slow.yaml", &common::repo().join("config")).unwrap();
    config.pipeline.lock_memory = false;
    let r = replay(&options(
        &bag,
        config,
        &tmp.path().join("out"),
        Pacing::MaxSpeed,
    ))
    .unwrap();
    assert_eq!(r.frames.received, 150, "{:?}", r.errors);
    // (At max speed a frame may be superseded by the next one now and then.)
    assert!(r.frames.published >= 140, "{:?}", r.frames);
    assert!(
        r.errors.is_empty(),
        "a count lower than the frames is no loss: {:?}",
        r.errors
    );
    let published: Vec<u32> = r
        .timeline
        .iter()
        .filter(|f| f.outcome == "published")
        .map(|f| f.detections)
        .collect();
    assert_eq!(published.len() as u64, r.frames.published);
    // The street scene has people in nearly every frame: counts after the 5th are not zeroed.
    let after = published[5..].iter().filter(|&&n| n > 0).count();
    assert!(
        after > 100,
        "{after} of 145 frames after the 5th have detections"
    );
}

#[test]
fn an_absent_message_count_is_fine() {
    let Some(meta) = finding("report-detections-zeroed-by-message-count/metadata.yaml") else {
        return;
    };
    let Some(camera) = jpeg_camera_file() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&meta).unwrap();
    let without: String = text
        .lines()
        .filter(|l| l.trim() != "- message_count: 5")
        .map(|l| l.replacen("    topic_metadata:", "  - topic_metadata:", 1) + "\n")
        .collect();
    let edited = tmp.path().join("metadata.yaml");
    std::fs::write(&edited, without).unwrap();
    let bag = bag_dir(
        &tmp.path().join("bag"),
        &edited,
        &[("vtest_jpeg_mcap.mcap", &camera)],
    );
    let bag = redline::bag::Bag::open(&bag).unwrap();
    let topic = bag.choose_image_topic("").unwrap();
    assert_eq!(topic.message_count, None);
    assert_eq!(bag.messages(&topic.name).filter(Result::is_ok).count(), 150);
}

/// Run `f` on a thread; fail if it takes longer than `limit` (a hang, not a slow machine).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

#[test]
fn a_log_time_gap_is_reported_and_skipped_never_slept() {
    let Some(file) = finding("logtime-gap-hang/logtime_gap_1e18.mcap") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(
        &file,
        loose_config(),
        &tmp.path().join("out"),
        Pacing::Recorded,
    );
    let r = within(Duration::from_secs(120), move || replay(&opts)).unwrap();
    assert_eq!(r.frames.received, 3);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("jumps forward by") && n.contains("skipped, not slept")),
        "{:?}",
        r.notes
    );
}

#[test]
fn negative_timestamps_fail_the_replay() {
    let Some(db3) = finding("logtime-gap-hang/neg_timestamp.db3") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let opts = options(
        &db3,
        loose_config(),
        &tmp.path().join("out"),
        Pacing::Recorded,
    );
    let r = within(Duration::from_secs(120), move || replay(&opts)).unwrap();
    assert!(!r.passed());
    assert!(
        r.errors.iter().any(|e| e.contains("negative timestamp")),
        "{:?}",
        r.errors
    );
}

#[test]
fn a_metadata_topic_missing_from_the_data_fails_the_replay() {
    let Some(bag) = finding("metadata-topic-mismatch-silent-pass") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let r = replay(&options(
        &bag,
        loose_config(),
        &tmp.path().join("out"),
        Pacing::MaxSpeed,
    ))
    .unwrap();
    assert_eq!(r.frames.received, 0);
    assert!(!r.passed());
    assert!(
        r.errors.iter().any(|e| e.contains("no data file has it")),
        "{:?}",
        r.errors
    );
}

#[test]
fn the_output_never_overwrites_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(bag) = small_bag(tmp.path()) else {
        return;
    };
    let before = std::fs::read(bag.join("metadata.yaml")).unwrap();
    let err = replay(&options(&bag, loose_config(), &bag, Pacing::MaxSpeed)).unwrap_err();
    assert!(
        matches!(err, ReplayError::Output(OutputError::OutHoldsInput { .. })),
        "{err}"
    );
    assert_eq!(std::fs::read(bag.join("metadata.yaml")).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(&bag)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "nothing written into the bag: {names:?}");
    // The parent of the bag holds it too.
    let err = replay(&options(&bag, loose_config(), tmp.path(), Pacing::MaxSpeed)).unwrap_err();
    assert!(
        matches!(err, ReplayError::Output(OutputError::OutHoldsInput { .. })),
        "{err}"
    );
}

#[test]
fn output_files_never_follow_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(bag) = small_bag(tmp.path()) else {
        return;
    };
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let names = ["report.json", "report.html", "output.mcap", "metadata.yaml"];
    for name in names {
        let victim = tmp.path().join(format!("victim-{name}"));
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    let r = replay(&options(&bag, loose_config(), &out, Pacing::MaxSpeed)).unwrap();
    assert_eq!(r.frames.received, 3);
    for name in names {
        let victim = tmp.path().join(format!("victim-{name}"));
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious",
            "{name}"
        );
        let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is a regular file now");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_rates_are_refused_in_one_sentence() {
    let Some(file) = finding("rate-tiny-duration-panic/logtime_backwards.mcap") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for rate in ["1e-300", "-1", "0", "NaN", "inf", "1e9"] {
        let (ok, _, stderr) = run_redline(&[
            "replay",
            file.to_str().unwrap(),
            "--rate",
            rate,
            "--out",
            out.to_str().unwrap(),
            "--no-progress",
        ]);
        assert!(!ok, "--rate {rate} accepted");
        assert!(
            stderr.contains("--rate") && stderr.contains("must be a number from 0.001 to 1000"),
            "--rate {rate}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("tip:"),
            "{stderr}"
        );
    }
}

#[test]
fn out_naming_a_file_or_the_bag_is_one_clear_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(bag) = small_bag(tmp.path()) else {
        return;
    };
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (ok, _, stderr) = run_redline(&[
        "replay",
        bag.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("this is a file, not a directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("File exists"), "{stderr}");
    let (ok, _, stderr) = run_redline(&[
        "replay",
        bag.to_str().unwrap(),
        "--out",
        bag.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("must never overwrite a recording"),
        "{stderr}"
    );
}

/// Largest resident size of any child process this test binary has waited for, bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

#[test]
fn detect_refuses_truncated_and_oversized_images_in_words_and_skips_colour_profiles() {
    let (Some(cut), Some(big), Some(iccp)) = (
        finding("jpeg-truncated-scan-accepted/vtest0_cut50_eoi.jpg"),
        finding("jpeg-truncated-scan-accepted/jpeg_sof_3840x2160.jpg"),
        finding("png-iccp-amplification/png_1x1_iccp_bomb_512m.png"),
    ) else {
        return;
    };
    let config = Config::default_path();
    let config = config.to_str().unwrap();
    let (ok, _, stderr) = run_redline(&["detect", cut.to_str().unwrap(), "--config", config]);
    assert!(!ok);
    assert!(
        stderr.contains("a 768×576 JPEG whose compressed data ends before the image is complete"),
        "{stderr}"
    );
    // A config whose limit is below the header's claim: refused by size, in words.
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small.yaml");
    let text = std::fs::read_to_string(Config::default_path())
        .unwrap()
        .replace("max_width: 3840", "max_width: 1920")
        .replace("max_height: 2160", "max_height: 1080")
        .replace(
            "../models/",
            &format!("{}/models/", common::repo().display()),
        );
    std::fs::write(&small, text).unwrap();
    let (ok, _, stderr) = run_redline(&[
        "detect",
        big.to_str().unwrap(),
        "--config",
        small.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains(
            "a 3840×2160 JPEG: larger than input.max_width × input.max_height (1920×1080)"
        ),
        "{stderr}"
    );
    // A 1×1 PNG with a 512 MiB compressed colour profile: decoded without inflating it.
    let (ok, stdout, stderr) = run_redline(&[
        "detect",
        iccp.to_str().unwrap(),
        "--config",
        config,
        "--json",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "[]");
    let peak = children_peak_rss();
    assert!(
        peak < 400 << 20,
        "a child process peaked at {} MiB",
        peak >> 20
    );
}

#[test]
fn check_prints_the_memory_estimate() {
    let (ok, stdout, stderr) = run_redline(&[
        "check",
        "--config",
        Config::default_path().to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("memory"))
        .expect(&stdout);
    assert!(
        line.contains("MiB (budget pipeline.memory_budget_mb = 1024 MiB)")
            && line.contains("frame buffers"),
        "{line}"
    );
}
