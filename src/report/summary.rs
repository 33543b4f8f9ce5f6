//! The summary table a replay prints on stdout.

use std::fmt::Write;

use super::{fmt_percent, Percentiles, ReplayReport};

/// Render the human summary: accounting, tails per stage, drops, alarms, gates and the verdict
/// (with its reasons, and why most frames missed when they did). Empty statistics print "—".
pub fn render_summary(r: &ReplayReport) -> String {
    let mut s = String::new();
    let f = &r.frames;
    let _ = writeln!(
        s,
        "redline replay: {} (topic {}, {})",
        r.bag, r.topic, r.pacing
    );
    let _ = writeln!(
        s,
        "model {} on {}, budget {} ms",
        r.model, r.backend, r.deadline.budget_ms
    );
    let _ = writeln!(
        s,
        "frames: {} received = {} published + {} dropped + {} in flight [{}]",
        f.received,
        f.published,
        f.dropped_total(),
        f.in_flight,
        if f.balanced { "balanced" } else { "UNBALANCED" }
    );
    let _ = writeln!(
        s,
        "throughput {:.1} frames/s over {:.2} s; deadline miss ratio {}; final level {}",
        r.throughput_fps,
        r.wall_time_s,
        fmt_percent(f.miss_ratio()),
        r.final_level
    );
    if r.interrupted {
        let _ = writeln!(
            s,
            "INTERRUPTED{}: stopped reading after {} frames, drained the pipeline; the report \
             covers those frames",
            r.interrupted_by
                .as_deref()
                .map(|sig| format!(" by {sig}"))
                .unwrap_or_default(),
            f.received
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<12} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency ms", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    let cell = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |ms| format!("{ms:.2}"));
    let row = |s: &mut String, name: &str, p: &Percentiles| {
        let _ = write!(s, "{name:<12} {:>7}", p.count);
        for v in [p.p50, p.p90, p.p99, p.p999, p.max] {
            let _ = write!(s, " {:>9}", cell(v));
        }
        s.push('\n');
    };
    for (name, p) in &r.latency_ms.stages {
        row(&mut s, name, p);
    }
    row(&mut s, "end to end", &r.latency_ms.end_to_end);
    if !f.dropped_detail.is_empty() {
        let _ = writeln!(s, "\ndrops:");
        for (reason, n) in &f.dropped_detail {
            let _ = writeln!(s, "  {reason:<32} {n:>6}");
        }
    }
    if !r.alarms.is_empty() {
        let _ = writeln!(s, "\nalarms:");
        for a in &r.alarms {
            let _ = writeln!(
                s,
                "  {:>9.0} ms  {:<5} -> {:<5}  {}{}",
                a.t_ms,
                a.from,
                a.to,
                a.cause,
                a.stage
                    .as_deref()
                    .map(|st| format!(" (stage {st})"))
                    .unwrap_or_default()
            );
        }
    }
    for e in &r.errors {
        let _ = writeln!(s, "\nerror: {e}");
    }
    if !r.gates.is_empty() {
        let _ = writeln!(s, "\ngates:");
        for g in &r.gates {
            let _ = writeln!(s, "  {}", g.describe());
        }
    }
    let v = &r.verdict;
    let _ = writeln!(s, "\nverdict: {}", v.badge);
    for reason in &v.reasons {
        let _ = writeln!(s, "  - {reason}");
    }
    if let Some(why) = &v.explanation {
        let _ = writeln!(s, "why: {why}");
    }
    s
}
