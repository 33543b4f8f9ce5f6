//! The hostile images, configs and fault specs of `../shared/fuzz-findings/` (one test per
//! table row) and the rule behind each: an image whose data cannot fill the frame its header
//! declares is `bad_input:truncated_compressed` wherever it was cut, dropped and counted by the
//! pipeline; a colour profile is never inflated; every config number is bounded by what it
//! means, memory included; a fault spec displays as exactly what it parses from.

mod common;

use std::path::Path;

use common::findings::finding;
use redline::bag::{BagWriter, Durability, RosType};
use redline::error::{BadInputKind, FrameError};
use redline::frame::{ImageLimits, Stamp};
use redline::msgs::write_compressed_image;
use redline::preprocess::CompressedDecoder;
use redline::replay::{run, FaultSpec, Gates, Pacing, ReplayOptions};
use redline::Config;

const LIMITS: ImageLimits = ImageLimits {
    max_width: 3840,
    max_height: 2160,
};

fn decode(bytes: &[u8]) -> Result<(u32, u32), FrameError> {
    let mut decoder = CompressedDecoder::new(LIMITS);
    let mut buf = Vec::with_capacity(decoder.buffer_capacity());
    decoder
        .decode(bytes, &mut buf)
        .map(|v| (v.width(), v.height()))
}

const TRUNCATED: Result<(u32, u32), FrameError> =
    Err(FrameError::BadInput(BadInputKind::TruncatedCompressed));

#[test]
fn truncated_and_inconsistent_jpegs_are_truncated_compressed() {
    for name in [
        "vtest0_cut10_eoi.jpg",
        "vtest0_cut50_eoi.jpg",
        "jpeg_sof_3840x2160.jpg",
    ] {
        let Some(file) = finding(&format!("jpeg-truncated-scan-accepted/{name}")) else {
            return;
        };
        assert_eq!(decode(&std::fs::read(file).unwrap()), TRUNCATED, "{name}");
    }
}

#[test]
fn a_jpeg_cut_anywhere_with_an_end_marker_appended_is_truncated() {
    for photo in ["dog.jpg", "person.jpg", "city.jpg"] {
        let Some(file) = common::shared(&format!("data/images/{photo}")) else {
            return;
        };
        let bytes = std::fs::read(file).unwrap();
        assert!(decode(&bytes).is_ok(), "{photo} whole");
        // Every 1/40 of the file, then the last few bytes of the scan.
        let end = bytes.len() - 2;
        let cuts = (1..40)
            .map(|i| end * i / 40)
            .chain([end - 64, end - 8, end - 1]);
        for cut in cuts {
            let mut damaged = bytes[..cut].to_vec();
            damaged.extend_from_slice(&[0xFF, 0xD9]);
            let got = decode(&damaged);
            assert!(
                matches!(
                    got,
                    Err(FrameError::BadInput(
                        BadInputKind::TruncatedCompressed | BadInputKind::CorruptCompressed
                    ))
                ),
                "{photo} cut at {cut} of {}: {got:?}",
                bytes.len()
            );
        }
        // The header claiming a larger frame than the data covers.
        let sof = bytes
            .windows(2)
            .position(|w| w == [0xFF, 0xC0] || w == [0xFF, 0xC2])
            .unwrap();
        let mut taller = bytes.clone();
        let h = u16::from_be_bytes([taller[sof + 5], taller[sof + 6]]) + 16;
        taller[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
        assert_eq!(decode(&taller), TRUNCATED, "{photo} with a taller header");
    }
}

#[test]
fn a_png_colour_profile_is_never_inflated() {
    let Some(file) = finding("png-iccp-amplification/png_1x1_iccp_bomb_512m.png") else {
        return;
    };
    let bytes = std::fs::read(file).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(decode(&bytes), Ok((1, 1)));
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

/// Write a bag of CompressedImage frames at 1 Hz.
fn image_bag(dir: &Path, frames: &[Vec<u8>]) {
    let mut writer = BagWriter::create(dir).unwrap();
    let topic = writer
        .add_topic(
            "/camera/front/image_raw/compressed",
            RosType::CompressedImage,
            Durability::Volatile,
        )
        .unwrap();
    let mut buf = Vec::new();
    for (i, jpeg) in frames.iter().enumerate() {
        // One frame a second: an unoptimised build decodes and infers well within that.
        let t = 1_700_000_000_000_000_000i64 + i as i64 * 1_000_000_000;
        write_compressed_image(&mut buf, Stamp::from_nanos(t), "camera_front", "jpeg", jpeg);
        writer.write(topic, t as u64, &buf).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn the_pipeline_drops_and_counts_truncated_images() {
    let (Some(dog), Some(cut), Some(big), Some(iccp)) = (
        common::shared("data/images/dog.jpg"),
        finding("jpeg-truncated-scan-accepted/vtest0_cut50_eoi.jpg"),
        finding("jpeg-truncated-scan-accepted/jpeg_sof_3840x2160.jpg"),
        finding("png-iccp-amplification/png_1x1_iccp_bomb_512m.png"),
    ) else {
        return;
    };
    let read = |p: &Path| std::fs::read(p).unwrap();
    let good = read(&dog);
    let frames = vec![
        good.clone(),
        read(&cut),
        good.clone(),
        read(&big),
        read(&iccp),
        good,
    ];
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    image_bag(&bag, &frames);
    let mut config = Config::load(&Config::default_path()).unwrap();
    config.deadline.budget_ms = 5_000.0;
    config.deadline.predictive = false;
    config.pipeline.lock_memory = false;
    let opts = ReplayOptions {
        bag,
        config,
        config_origin: "test".into(),
        out_dir: tmp.path().join("out"),
        cameras: Vec::new(),
        clock: redline::replay::ReplayClock::Wall,
        pacing: Pacing::Recorded,
        faults: Vec::new(),
        gates: Gates::default(),
        progress: false,
    };
    let r = run(&opts).unwrap().report;
    let f = &r.frames;
    assert!(f.balanced, "{f:?}");
    assert_eq!(f.received, 6, "{f:?}");
    assert_eq!(
        f.dropped_detail.get("bad_input:truncated_compressed"),
        Some(&2),
        "{f:?}"
    );
    // The 1×1 PNG decodes (its profile skipped) and is published like the good frames.
    assert_eq!(f.published, 4, "{f:?}");
}

fn issue_keys(err: &redline::config::ConfigError) -> Vec<&str> {
    err.issues.iter().map(|i| i.key.as_str()).collect()
}

#[test]
fn a_huge_diagnostics_period_is_refused_by_validation() {
    let Some(file) = finding("diag-period-panic/fz_diag.yaml") else {
        return;
    };
    let err = Config::load(&file).unwrap_err();
    assert!(
        issue_keys(&err).contains(&"monitor.diagnostics_period_ms"),
        "{err}"
    );
    assert!(err.to_string().contains("1e300"), "{err}");
}

/// Parse `ros__parameters` YAML relative to the shipped config's directory.
fn parse(params: &str) -> Result<Config, redline::config::ConfigError> {
    let text = format!("redline:\n  ros__parameters:\n{params}");
    Config::from_yaml_str(&text, "test.yaml", &common::repo().join("config"))
}

#[test]
fn every_duration_in_the_config_is_bounded() {
    for (section, key) in [
        ("deadline", "budget_ms"),
        ("deadline", "max_future_ms"),
        ("deadline", "max_age_ms"),
        ("monitor", "sensor_timeout_ms"),
        ("monitor", "output_timeout_ms"),
        ("monitor", "diagnostics_period_ms"),
        ("input", "max_log_gap_ms"),
        ("batching", "timeout_ms"),
    ] {
        for value in ["1e300", "-1", ".inf", ".nan"] {
            let err = parse(&format!("    {section}:\n      {key}: {value}\n")).unwrap_err();
            assert!(
                issue_keys(&err).contains(&format!("{section}.{key}").as_str()),
                "{section}.{key}: {value}: {err}"
            );
        }
    }
}

#[test]
fn normalisation_numbers_must_be_finite_as_f32_and_keep_the_input_finite() {
    for (file, key) in [
        ("26.yaml", "model.std"),
        ("358.yaml", "model.mean"),
        ("fz_scale.yaml", "model.scale"),
    ] {
        let Some(path) = finding(&format!("config-f32-overflow/{file}")) else {
            return;
        };
        let err = Config::load(&path).unwrap_err();
        assert!(issue_keys(&err).contains(&key), "{file}: {err}");
    }
    // Each finite in f32 alone, but together beyond the f16 input's range.
    let err = parse("    model:\n      dtype: f16\n      scale: 1.0\n      std: [0.001, 1, 1]\n")
        .unwrap_err();
    assert!(
        err.to_string().contains("beyond the F16 input's range"),
        "{err}"
    );
    let err = parse("    model:\n      std: [1e-45, 1, 1]\n").unwrap_err();
    assert!(issue_keys(&err).contains(&"model.std"), "{err}");
    assert!(parse("    model:\n      dtype: f16\n      scale: 1.0\n").is_ok());
}

#[test]
fn the_start_up_memory_estimate_is_checked_against_the_budget() {
    let ok = parse("    pipeline: {}\n").unwrap();
    let estimate = redline::config::MemoryEstimate::of(&ok);
    assert!(estimate.within_budget(), "{estimate}");
    for params in [
        "    input:\n      max_width: 65535\n      max_height: 65535\n",
        "    pipeline:\n      frame_pool_size: 1024\n",
        "    pipeline:\n      memory_budget_mb: 64\n",
    ] {
        let err = parse(params).unwrap_err();
        assert!(
            issue_keys(&err).contains(&"pipeline.memory_budget_mb"),
            "{params}: {err}"
        );
        assert!(err.to_string().contains("frame buffers"), "{err}");
    }
    // A bigger budget admits the big images, and every problem is still listed at once.
    assert!(parse("    input:\n      max_width: 7680\n      max_height: 4320\n    pipeline:\n      memory_budget_mb: 8192\n").is_ok());
    let err = parse("    input:\n      max_width: 65535\n      max_height: 65535\n    deadline:\n      budget_ms: -1\n").unwrap_err();
    assert_eq!(err.issues.len(), 2, "{err}");
}

#[test]
fn fault_specs_display_exactly_what_they_parse_from() {
    for name in ["5390", "6968", "7588", "8168", "8882"] {
        let Some(file) = finding(&format!("fault-display-truncates/{name}.txt")) else {
            return;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines();
        let spec = lines.next().unwrap().trim();
        let truncated = lines.next().unwrap().trim_start_matches("=>").trim();
        let fault = FaultSpec::parse(spec).unwrap();
        let shown = fault.to_string();
        assert_ne!(shown, truncated, "{spec}");
        assert_eq!(FaultSpec::parse(&shown).unwrap(), fault, "{spec} → {shown}");
    }
}
