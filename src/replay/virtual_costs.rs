//! Where a virtual-clock replay takes its stage costs from: the config's `virtual_clock`
//! section, or the latency tails an earlier `report.json` recorded (each stage's p50, p90, p99,
//! p99.9 and max become an empirical distribution), so a replay measured once on the vehicle
//! can be re-run deterministically anywhere.

use std::path::{Path, PathBuf};

use crate::config::{Config, CostSpec};
use crate::error::Stage;
use crate::pipeline::sim::SimCosts;

/// Why costs could not be read from a report.
#[derive(Debug, thiserror::Error)]
pub enum CostsFromReportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a redline report.json: {problem}")]
    Format { path: PathBuf, problem: String },
}

/// The config's cost model and seed (`seed` overrides the config's when given).
pub fn costs_from_config(config: &Config, seed: Option<u64>) -> SimCosts {
    SimCosts {
        stages: config.virtual_clock.costs.clone(),
        engine_delays: Vec::new(),
        seed: seed.unwrap_or(config.virtual_clock.seed),
    }
}

/// The costs an earlier replay recorded in `report` (`latency_ms.stages`), with `seed`.
pub fn costs_from_report(report: &Path, seed: u64) -> Result<SimCosts, CostsFromReportError> {
    let text = std::fs::read_to_string(report).map_err(|source| CostsFromReportError::Read {
        path: report.to_path_buf(),
        source,
    })?;
    let format = |problem: String| CostsFromReportError::Format {
        path: report.to_path_buf(),
        problem,
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
    let stages = json
        .get("latency_ms")
        .and_then(|l| l.get("stages"))
        .ok_or_else(|| format("no latency_ms.stages".into()))?;
    let mut costs: [CostSpec; Stage::COUNT] = std::array::from_fn(|_| CostSpec::fixed(0));
    for stage in Stage::ALL {
        let key = format!("{}.{}", stage.index() + 1, stage.name());
        let tails = stages
            .get(&key)
            .ok_or_else(|| format(format!("no latency_ms.stages.{key}")))?;
        let ms = |field: &str| -> Result<u64, CostsFromReportError> {
            let v = tails
                .get(field)
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| {
                    format(format!("latency_ms.stages.{key}.{field} is not a number"))
                })?;
            if !(0.0..=60_000.0).contains(&v) {
                return Err(format(format!(
                    "latency_ms.stages.{key}.{field} = {v} ms is out of range"
                )));
            }
            Ok((v * 1e6).round() as u64)
        };
        costs[stage.index()] = CostSpec::empirical(vec![
            (0.5, ms("p50")?),
            (0.9, ms("p90")?),
            (0.99, ms("p99")?),
            (0.999, ms("p999")?),
            (1.0, ms("max")?),
        ]);
    }
    Ok(SimCosts {
        stages: costs,
        engine_delays: Vec::new(),
        seed,
    })
}
