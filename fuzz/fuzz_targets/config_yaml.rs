//! Config YAML text → the loader and its validation. Nothing may panic; an accepted config has
//! every number within what it means (finite f32 normalisation and an engine input that stays
//! finite, bounded durations) and a memory estimate within its budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redline::config::{MemoryEstimate, TensorDType};
use redline::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let Ok(config) = Config::from_yaml_str(text, "fuzz.yaml", &dir) else {
        return;
    };
    let m = &config.model;
    let max = match m.dtype {
        TensorDType::F32 => f64::from(f32::MAX),
        TensorDType::F16 => 65504.0,
    };
    assert!(m.scale.is_finite() && m.scale > 0.0);
    for c in 0..3 {
        assert!(m.mean[c].is_finite() && m.std[c].is_finite() && m.std[c] > 0.0);
        for pixel in [0.0f64, 255.0] {
            let v = (pixel * f64::from(m.scale) - f64::from(m.mean[c])) / f64::from(m.std[c]);
            assert!(v.is_finite() && v.abs() <= max, "{v}");
        }
    }
    let d = &config.deadline;
    let mon = &config.monitor;
    for ms in [
        d.budget_ms,
        d.max_future_ms,
        d.max_age_ms,
        mon.sensor_timeout_ms,
        mon.output_timeout_ms,
        mon.diagnostics_period_ms,
        config.input.max_log_gap_ms,
    ] {
        assert!(ms.is_finite() && (0.0..=86_400_000.0).contains(&ms), "{ms}");
        let _ = std::time::Duration::from_secs_f64(ms / 1000.0);
    }
    let estimate = MemoryEstimate::of(&config);
    assert!(estimate.within_budget(), "{estimate}");
});
