//! The verdict of a replay: pass or fail (the exit status), the badge that says it, the reasons,
//! and — when most frames missed — one sentence on which stage's cost exceeds the budget and
//! what to change.

use serde::Serialize;

use super::{fmt_ms, fmt_percent, ReplayReport};

/// What a replay means, judged from its report (see [`Verdict::of`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the run passed; the exit status of `redline replay` follows it.
    pub passed: bool,
    /// The badge: `PASS` / `FAIL` when gates were given; without gates the final level and the
    /// miss ratio (`OK · 0.0 % missed`); `FAIL` when nothing was published or the run had
    /// errors; `INTERRUPTED` when a signal stopped it.
    pub badge: String,
    /// Why it did not pass, one sentence each (empty when it passed).
    pub reasons: Vec<String>,
    /// When most frames missed their deadline: the stage whose cost exceeds the budget and what
    /// to change.
    pub explanation: Option<String>,
}

impl Verdict {
    /// Judge a report. Never passes: an interrupted run, a run with errors (damaged bag,
    /// unbalanced accounting), a run that received or published nothing. Otherwise, with gates:
    /// passes when every gate passes (a gate over no data fails); without gates: passes unless
    /// the final level is ERROR or STALE.
    pub fn of(r: &ReplayReport) -> Self {
        let f = &r.frames;
        let mut reasons = Vec::new();
        if let Some(signal) = &r.interrupted_by {
            reasons.push(format!(
                "interrupted by {signal} after {} frames; the report covers those",
                f.received
            ));
        } else if r.interrupted {
            reasons.push(format!(
                "interrupted after {} frames; the report covers those",
                f.received
            ));
        }
        reasons.extend(r.errors.iter().cloned());
        if f.received == 0 {
            reasons.push("no frame was received".into());
        } else if f.published == 0 {
            reasons.push(format!(
                "nothing was published (0 of {} frames)",
                f.received
            ));
        }
        let fatal = !reasons.is_empty();
        let level_fails = matches!(r.final_level.as_str(), "ERROR" | "STALE");
        if r.gates.is_empty() {
            if level_fails {
                reasons.push(final_level_reason(r));
            }
        } else {
            reasons.extend(
                r.gates
                    .iter()
                    .filter(|g| !g.passed)
                    .map(|g| format!("gate {}", g.describe())),
            );
        }
        let passed = reasons.is_empty();
        let badge = if r.interrupted {
            "INTERRUPTED".to_string()
        } else if !r.gates.is_empty() || fatal {
            if passed { "PASS" } else { "FAIL" }.to_string()
        } else {
            format!("{} · {} missed", r.final_level, fmt_percent(f.miss_ratio()))
        };
        Self {
            passed,
            badge,
            reasons,
            explanation: explain_misses(r),
        }
    }
}

/// "final level ERROR (consecutive_misses at infer)".
fn final_level_reason(r: &ReplayReport) -> String {
    let cause = r
        .alarms
        .iter()
        .rev()
        .find(|a| a.to == r.final_level)
        .map(|a| match &a.stage {
            Some(stage) => format!(" ({} at {stage})", a.cause),
            None => format!(" ({})", a.cause),
        })
        .unwrap_or_default();
    format!("final level {}{cause}", r.final_level)
}

/// One sentence when most frames missed: which stage's cost exceeds the budget and what to
/// change; `None` when at most half the frames missed.
fn explain_misses(r: &ReplayReport) -> Option<String> {
    let f = &r.frames;
    let misses = f.misses();
    if f.received == 0 || misses * 2 <= f.received {
        return None;
    }
    let lead = if misses == f.received {
        "every frame missed".to_string()
    } else {
        format!("{misses} of {} frames missed", f.received)
    };
    let budget = r.deadline.budget_ms;
    let stale = f.dropped.get("stale_on_arrival").copied().unwrap_or(0);
    if stale * 2 > misses {
        return Some(format!(
            "{lead}: {stale} frames were older than the budget {} ms when they arrived \
             (stale_on_arrival); check the camera's stamps and clock, or raise deadline.budget_ms",
            fmt_ms(Some(budget))
        ));
    }
    // The stages' typical (p50) cost, from the frames that went through them.
    let costs: Vec<(&str, f64)> = r
        .latency_ms
        .stages
        .iter()
        .filter_map(|(name, p)| {
            let stage = name.split_once('.').map_or(name.as_str(), |(_, s)| s);
            Some((stage, p.p50?))
        })
        .collect();
    let worst = costs.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
    let total: f64 = costs.iter().map(|(_, ms)| ms).sum();
    match worst {
        Some((stage, p50)) if p50 > budget => Some(format!(
            "{lead}: {stage} p50 {} ms > budget {} ms; raise deadline.budget_ms or {}",
            fmt_ms(Some(p50)),
            fmt_ms(Some(budget)),
            advice(stage)
        )),
        Some((stage, p50)) if total > budget => Some(format!(
            "{lead}: the stages take p50 {} ms together ({stage} {} ms of it) > budget {} ms; \
             raise deadline.budget_ms or {}",
            fmt_ms(Some(total)),
            fmt_ms(Some(p50)),
            fmt_ms(Some(budget)),
            advice(stage)
        )),
        _ => {
            let (detail, n) = f
                .dropped_detail
                .iter()
                .filter(|(k, _)| k.starts_with("missed_at") || k.starts_with("predicted_miss"))
                .max_by_key(|(_, n)| **n)?;
            Some(format!(
                "{lead}: most as {detail} ({n}), although the stages' typical cost (p50 {} ms \
                 together) fits the budget {} ms: look for stalls there (an injected fault, a \
                 busy machine), or raise deadline.budget_ms",
                fmt_ms(Some(total)),
                fmt_ms(Some(budget))
            ))
        }
    }
}

/// What to change when `stage` costs too much.
fn advice(stage: &str) -> String {
    match stage {
        "infer" => "use a faster backend (TensorRT on a GPU) or a smaller model".into(),
        "preprocess" => "feed smaller images or use a smaller model input".into(),
        other => format!("make the {other} stage cheaper"),
    }
}
